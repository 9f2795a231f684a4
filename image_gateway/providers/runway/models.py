"""Runway's image models and what each takes, from runwayml/sdk-python `types/
text_to_image_create_params.py` at c604e0e (2026-07-27): a union keyed by `model`.

| model | ratios | prompt | references | other fields |
|---|---|---|---|---|
| `gen4_image` | 16 | 1000 UTF-16 | 0-3 `{uri, tag}` | `seed`, `contentModeration` |
| `gen4_image_turbo` | the same | 1000 UTF-16 | **1-3, required** | the same |
| `gemini_2.5_flash` | 10 | - | 0-3 `{uri, tag}` | |
| `gemini_image3_pro` | 30 | - | 0-14 `{uri, subject, tag}` | `outputCount` 1, 4 |
| `gemini_image3.1_flash` | 56 | - | 0-14 `{uri, subject, tag}` | `outputCount` 1, 4 |
| `gpt_image_2` | 30, `auto` | 32000 | 0-16 `{uri, tag}` | `outputCount` 1-10, quality, background |
| `seedream5_pro` | 14, `auto_1k/2k` | 4000 | any `{uri}` | `outputCount`, outputFormat, grounding |
| `seedream5_lite` | 16 | 4000 | any `{uri}` | `outputCount`, `outputFormat` |

`ratio` is required and is the output's pixel size (`"1920:1080"`): the gateway's `size`
`1920x1080` is sent as it; an `aspect_ratio` as the model's first ratio of exactly that value
(`16:9` is gen4's `1920:1080`), else the nearest within 3% (Gemini's `1344:768`); neither,
as the model's default here (`1024:1024`; `auto` for gpt_image_2, `auto_2k` for seedream5_pro,
`2048:2048` for seedream5_lite, whose smallest it is). Input images are the reference images
(an edit), each a `data:` URI of at most 5 MB (the SDK's docstring). `n` beyond a call's
`outputCount` fans out: gpt_image_2 makes up to 10 a call; the Gemini models' 1-or-4 and
Seedream's unbounded counts are sent one image a call.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction

from image_gateway.providers.kit.capabilities import ModelSpec, ParamSchemas

GEN4 = (
    *("1024:1024", "1080:1080", "1168:880", "1360:768", "1440:1080", "1080:1440", "1808:768"),
    *("1920:1080", "1080:1920", "2112:912", "1280:720", "720:1280", "720:720", "960:720"),
    *("720:960", "1680:720"),
)
GEMINI_25 = (
    *("1344:768", "768:1344", "1024:1024", "1184:864", "864:1184", "1536:672", "832:1248"),
    *("1248:832", "896:1152", "1152:896"),
)
GEMINI_3_2K_4K = (
    *("2048:2048", "1696:2528", "2528:1696", "1792:2400", "2400:1792", "1856:2304", "2304:1856"),
    *("1536:2752", "2752:1536", "3168:1344", "4096:4096", "3392:5056", "5056:3392", "3584:4800"),
    *("4800:3584", "3712:4608", "4608:3712", "3072:5504", "5504:3072", "6336:2688"),
)
GEMINI_3_PRO = (*GEMINI_25, *GEMINI_3_2K_4K)
GEMINI_31_FLASH = (
    *("512:512", "416:624", "624:416", "432:592", "592:432", "448:576", "576:448", "384:672"),
    *("672:384", "768:336", "256:1024", "1024:256", "176:1408", "1408:176", "1024:1024"),
    *("832:1248", "1248:832", "864:1184", "1184:864", "896:1152", "1152:896", "768:1344"),
    *("1344:768", "1536:672", "512:2048", "2048:512", "352:2816", "2816:352"),
    *GEMINI_3_2K_4K[:10],
    *("1024:4096", "4096:1024", "704:5632", "5632:704"),
    *GEMINI_3_2K_4K[10:],
    *("2048:8192", "8192:2048", "1408:11264", "11264:1408"),
)
GPT_IMAGE_2 = (
    *("2048:880", "1920:1088", "1920:1280", "1920:1440", "1920:1536", "1920:1920", "1536:1920"),
    *("1440:1920", "1280:1920", "1088:1920", "2912:1248", "2560:1440", "2560:1712", "2560:1920"),
    *("2560:2048", "2560:2560", "2048:2560", "1920:2560", "1712:2560", "1440:2560", "3840:1648"),
    *("3840:2160", "3504:2336", "3264:2448", "3200:2560", "2880:2880", "2560:3200", "2448:3264"),
    *("2336:3504", "2160:3840"),
)
SEEDREAM_PRO = (
    *("1024:1024", "1184:896", "896:1184", "1376:768", "768:1376", "1296:864", "864:1296"),
    *("2048:2048", "2304:1728", "1728:2304", "2720:1530", "1530:2720", "2496:1664", "1664:2496"),
)
SEEDREAM_LITE = (
    *("2048:2048", "2304:1728", "1728:2304", "2848:1600", "1600:2848", "2496:1664", "1664:2496"),
    *("3136:1344", "3072:3072", "3456:2592", "2592:3456", "4096:2304", "2304:4096", "3744:2496"),
    *("2496:3744", "4704:2016"),
)

NEAR = Fraction(3, 100)  # how far a ratio's value may be from the aspect ratio it stands for
MAX_REFERENCE_BYTES = 5 * 1024 * 1024  # a reference's data URI, at most (SDK docstring)
MAX_SEED = 4294967295  # [UNVERIFIED] the SDK types `seed` as an int only
TAG_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{2,15}$"  # "3-16 characters, start with a letter, ..."
PARAM_SCHEMAS: ParamSchemas = {
    "publicFigureThreshold": {
        "type": "string",
        "enum": ["auto", "low"],
        "description": "contentModeration.publicFigureThreshold: low is less strict about "
        "recognizable public figures",
    },
    "reference_tags": {
        "type": "array",
        "items": {"type": "string", "pattern": TAG_PATTERN},
        "description": "one tag per input image, in order, to name it in the prompt (@tag)",
    },
    "reference_subjects": {
        "type": "array",
        "items": {"type": "string", "enum": ["object", "human"]},
        "description": "one subject per input image, in order: human (character consistency) "
        "or object",
    },
    "grounding": {"type": "boolean", "description": "live web search for current context"},
}


@dataclass(frozen=True, kw_only=True)
class RunwayModel(ModelSpec):
    """A Runway image model: its `ratio` values (the `W:H` pixel sizes, then the auto words),
    the ratio sent when a request names no size, its prompt limit (None: none stated; in
    UTF-16 code units where `utf16`), whether references are required, and whether a call
    sends `outputCount`."""

    ratios: tuple[str, ...]
    default_ratio: str
    max_prompt: int | None = None
    utf16: bool = False
    references_required: bool = False
    output_count: bool = False

    def ratio_for(self, aspect: str) -> str | None:
        """The model's ratio for `aspect` ("16:9"): the first of exactly that value, else the
        one nearest in value within 3% (Gemini's "16:9" is 1344:768, gen4's "21:9" 2112:912:
        their pixel sizes round the ratio they stand for); None when none is that near."""
        want = _value(aspect)
        ratios = [r for r in self.ratios if r[0].isdigit()]
        exact = next((r for r in ratios if _value(r) == want), None)
        if exact is not None:
            return exact
        nearest = min(ratios, key=lambda r: abs(_value(r) / want - 1))
        return nearest if abs(_value(nearest) / want - 1) <= NEAR else None


def _value(ratio: str) -> Fraction:
    width, _, height = ratio.partition(":")
    return Fraction(int(width), int(height))


def _model(model_id: str, description: str, ratios: tuple[str, ...], **kw: object) -> RunwayModel:
    sizes = tuple(r.replace(":", "x") for r in ratios if r[0].isdigit())
    default = str(kw.pop("default_ratio", "1024:1024"))
    formats = kw.pop("output_formats", ("png",))
    return RunwayModel(
        id=model_id,
        description=description,
        size_rule=f"size from Runway's ratios ({sizes[0]} ...; default {default}), or "
        "aspect_ratio: the first of exactly that value, else the nearest within 3%",
        sizes=sizes,
        aspect_ratios=True,
        edits=True,
        output_formats=formats,  # type: ignore[arg-type]
        default_output_format="png",
        default_response_format="url",
        default_size=default.replace(":", "x") if default[0].isdigit() else None,
        ratios=ratios,
        default_ratio=default,
        **kw,  # type: ignore[arg-type]
    )


_GEN4 = _model(
    "gen4_image",
    "Runway Gen-4 Image; up to 3 reference images (edits), @tags in the prompt",
    GEN4,
    max_prompt=1000,
    utf16=True,
    seed=True,
    max_input_images=3,
    params=("publicFigureThreshold", "reference_tags"),
)
_GEMINI_3 = dict(max_input_images=14, params=("reference_tags", "reference_subjects"))
MODELS: dict[str, RunwayModel] = {
    "gen4_image": _GEN4,
    "gen4_image_turbo": replace(
        _GEN4,
        id="gen4_image_turbo",
        description="Runway Gen-4 Image Turbo: needs 1-3 reference images (edits only)",
        edit_only=True,
        references_required=True,
    ),
    "gemini_2.5_flash": _model(
        "gemini_2.5_flash",
        "Gemini 2.5 Flash Image on Runway; up to 3 reference images",
        GEMINI_25,
        max_input_images=3,
        params=("reference_tags",),
    ),
    "gemini_image3_pro": _model(
        "gemini_image3_pro",
        "Gemini 3 Pro Image on Runway (1K-4K); up to 14 reference images",
        GEMINI_3_PRO,
        **_GEMINI_3,
    ),
    "gemini_image3.1_flash": _model(
        "gemini_image3.1_flash",
        "Gemini 3.1 Flash Image on Runway (512 px to 4K); up to 14 reference images",
        GEMINI_31_FLASH,
        **_GEMINI_3,
    ),
    "gpt_image_2": _model(
        "gpt_image_2",
        "OpenAI gpt-image-2 on Runway; up to 16 reference images",
        (*GPT_IMAGE_2, "auto"),
        default_ratio="auto",
        max_prompt=32000,
        images_per_call=10,
        output_count=True,
        qualities=("low", "medium", "high", "auto"),
        backgrounds=("opaque", "auto"),
        max_input_images=16,
        params=("reference_tags",),
    ),
    "seedream5_pro": _model(
        "seedream5_pro",
        "ByteDance Seedream 5 Pro on Runway; reference images for fusion and editing",
        (*SEEDREAM_PRO, "auto_1k", "auto_2k"),
        default_ratio="auto_2k",
        max_prompt=4000,
        output_formats=("png", "jpeg"),
        params=("grounding",),
    ),
    "seedream5_lite": _model(
        "seedream5_lite",
        "ByteDance Seedream 5 Lite on Runway (2K-4K); reference images",
        SEEDREAM_LITE,
        default_ratio="2048:2048",
        max_prompt=4000,
        output_formats=("png", "jpeg"),
    ),
}


def as_runway(spec: ModelSpec) -> RunwayModel:
    """A spec this provider handed out, with its Runway fields; `TypeError` for any other."""
    if not isinstance(spec, RunwayModel):
        raise TypeError(f"{spec.id} is not a Runway model spec")
    return spec
