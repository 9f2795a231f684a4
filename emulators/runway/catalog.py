"""The models the Runway emulator serves and what each takes (runwayml/sdk-python
`types/text_to_image_create_params.py` at c604e0e), checked as Runway's validation would: a
request that does not fit its model is a 400 `{"error": ...}` naming the field.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# The ratio lists (sdk-python `text_to_image_create_params.py`), copied here: the emulator
# checks the adapter, it does not share its tables.
# fmt: off
GEN4 = (
    "1024:1024", "1080:1080", "1168:880", "1360:768", "1440:1080", "1080:1440", "1808:768",
    "1920:1080", "1080:1920", "2112:912", "1280:720", "720:1280", "720:720", "960:720",
    "720:960", "1680:720",
)
GEMINI_25 = (
    "1344:768", "768:1344", "1024:1024", "1184:864", "864:1184", "1536:672", "832:1248",
    "1248:832", "896:1152", "1152:896",
)
GEMINI_3_PRO = (
    "1344:768", "768:1344", "1024:1024", "1184:864", "864:1184", "1536:672", "832:1248",
    "1248:832", "896:1152", "1152:896", "2048:2048", "1696:2528", "2528:1696", "1792:2400",
    "2400:1792", "1856:2304", "2304:1856", "1536:2752", "2752:1536", "3168:1344", "4096:4096",
    "3392:5056", "5056:3392", "3584:4800", "4800:3584", "3712:4608", "4608:3712", "3072:5504",
    "5504:3072", "6336:2688",
)
GEMINI_31_FLASH = (
    "512:512", "416:624", "624:416", "432:592", "592:432", "448:576", "576:448", "384:672",
    "672:384", "768:336", "256:1024", "1024:256", "176:1408", "1408:176", "1024:1024",
    "832:1248", "1248:832", "864:1184", "1184:864", "896:1152", "1152:896", "768:1344",
    "1344:768", "1536:672", "512:2048", "2048:512", "352:2816", "2816:352", "2048:2048",
    "1696:2528", "2528:1696", "1792:2400", "2400:1792", "1856:2304", "2304:1856", "1536:2752",
    "2752:1536", "3168:1344", "1024:4096", "4096:1024", "704:5632", "5632:704", "4096:4096",
    "3392:5056", "5056:3392", "3584:4800", "4800:3584", "3712:4608", "4608:3712", "3072:5504",
    "5504:3072", "6336:2688", "2048:8192", "8192:2048", "1408:11264", "11264:1408",
)
GPT_IMAGE_2 = (
    "2048:880", "1920:1088", "1920:1280", "1920:1440", "1920:1536", "1920:1920", "1536:1920",
    "1440:1920", "1280:1920", "1088:1920", "2912:1248", "2560:1440", "2560:1712", "2560:1920",
    "2560:2048", "2560:2560", "2048:2560", "1920:2560", "1712:2560", "1440:2560", "3840:1648",
    "3840:2160", "3504:2336", "3264:2448", "3200:2560", "2880:2880", "2560:3200", "2448:3264",
    "2336:3504", "2160:3840",
)
SEEDREAM_PRO = (
    "1024:1024", "1184:896", "896:1184", "1376:768", "768:1376", "1296:864", "864:1296",
    "2048:2048", "2304:1728", "1728:2304", "2720:1530", "1530:2720", "2496:1664", "1664:2496",
)
SEEDREAM_LITE = (
    "2048:2048", "2304:1728", "1728:2304", "2848:1600", "1600:2848", "2496:1664", "1664:2496",
    "3136:1344", "3072:3072", "3456:2592", "2592:3456", "4096:2304", "2304:4096", "3744:2496",
    "2496:3744", "4704:2016",
)
# fmt: on
MAX_SEED = 4294967295  # [UNVERIFIED] the SDK types `seed` as an int only

TAG = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,15}$")
URI = re.compile(r"^(https://\S+|runway://\S+|data:image/[a-z+.-]+;base64,[A-Za-z0-9+/=]+)$")
MAX_DATA_URI = 5 * 1024 * 1024


@dataclass(frozen=True)
class Model:
    id: str
    ratios: tuple[str, ...]
    max_prompt: int | None
    utf16: bool = False
    references: tuple[int, int] = (0, 3)  # min, max (max 0: any number)
    fields: tuple[str, ...] = ()  # optional fields beyond model, promptText, ratio
    subjects: bool = False
    output_counts: tuple[int, ...] = ()  # allowed outputCount values (empty: any positive)


MODELS = {
    m.id: m
    for m in (
        Model("gen4_image", GEN4, 1000, True, (0, 3), ("seed", "contentModeration")),
        Model("gen4_image_turbo", GEN4, 1000, True, (1, 3), ("seed", "contentModeration")),
        Model("gemini_2.5_flash", GEMINI_25, None),
        Model(
            "gemini_image3_pro", GEMINI_3_PRO, None, False, (0, 14), ("outputCount",), True,
            (1, 4),
        ),
        Model(
            "gemini_image3.1_flash", GEMINI_31_FLASH, None, False, (0, 14), ("outputCount",),
            True, (1, 4),
        ),
        Model(
            "gpt_image_2", (*GPT_IMAGE_2, "auto"), 32000, False, (0, 16),
            ("outputCount", "quality", "background"), False, tuple(range(1, 11)),
        ),
        Model(
            "seedream5_pro", (*SEEDREAM_PRO, "auto_1k", "auto_2k"), 4000, False, (0, 0),
            ("outputCount", "outputFormat", "grounding"),
        ),
        Model(
            "seedream5_lite", SEEDREAM_LITE, 4000, False, (0, 0),
            ("outputCount", "outputFormat"),
        ),
    )
}  # fmt: skip
ENUMS = {
    "quality": ("low", "medium", "high", "auto"),
    "background": ("opaque", "auto"),
    "outputFormat": ("png", "jpeg"),
}
KNOWN = ("model", "promptText", "ratio", "referenceImages")


class Invalid(ValueError):
    """A request Runway refuses: its message names the field."""


def check(body: dict[str, Any], strict: bool, ignored: list[str]) -> tuple[Model, int]:
    """The model a body asks for and how many images it makes; `Invalid` when Runway would
    refuse it. Unknown fields are dropped (`ignored`), or refused when `strict`."""
    model = MODELS.get(body.get("model"))  # type: ignore[arg-type]
    if model is None:
        raise Invalid(f"model: must be one of {', '.join(MODELS)}")
    for name in body:
        if name not in (*KNOWN, *model.fields):
            if strict:
                raise Invalid(f"{name}: unrecognized key for model {model.id}")
            ignored.append(name)
    prompt = body.get("promptText")
    if not isinstance(prompt, str) or not prompt:
        raise Invalid("promptText: a non-empty string is required")
    length = len(prompt.encode("utf-16-le")) // 2 if model.utf16 else len(prompt)
    if model.max_prompt is not None and length > model.max_prompt:
        raise Invalid(f"promptText: at most {model.max_prompt} characters")
    if body.get("ratio") not in model.ratios:
        raise Invalid(f"ratio: not a ratio of {model.id}")
    _references(body.get("referenceImages"), model)
    seed = body.get("seed")
    if "seed" in body and not (isinstance(seed, int) and 0 <= seed <= MAX_SEED):
        raise Invalid(f"seed: an integer from 0 to {MAX_SEED}")
    moderation = body.get("contentModeration")
    if "contentModeration" in body and not (
        isinstance(moderation, dict)
        and set(moderation) <= {"publicFigureThreshold"}
        and moderation.get("publicFigureThreshold", "auto") in ("auto", "low")
    ):
        raise Invalid("contentModeration.publicFigureThreshold: auto or low")
    for name, values in ENUMS.items():
        if name in body and body[name] not in values:
            raise Invalid(f"{name}: one of {', '.join(values)}")
    if "grounding" in body and not isinstance(body["grounding"], bool):
        raise Invalid("grounding: a boolean")
    count = body.get("outputCount", 1)
    if (
        not isinstance(count, int)
        or count < 1
        or (model.output_counts and count not in model.output_counts)
    ):
        raise Invalid("outputCount: not an allowed number of images")
    return model, count


def _references(references: Any, model: Model) -> None:
    if references is None:
        references = []
    low, high = model.references
    if (
        not isinstance(references, list)
        or len(references) < low
        or (high and len(references) > high)
    ):
        raise Invalid(
            f"referenceImages: {model.id} takes "
            + (f"{low} to {high}" if high else "any number of")
            + " reference images"
        )
    allowed = {"uri", "tag", "subject"} if model.subjects else {"uri", "tag"}
    if model.id.startswith("seedream"):
        allowed = {"uri"}
    for index, ref in enumerate(references):
        where = f"referenceImages.{index}"
        if not isinstance(ref, dict) or set(ref) - allowed or not isinstance(ref.get("uri"), str):
            raise Invalid(f"{where}: an object with a uri ({', '.join(sorted(allowed))})")
        uri = ref["uri"]
        if len(uri) > MAX_DATA_URI or not URI.match(uri):
            raise Invalid(f"{where}.uri: an HTTPS URL, a runway:// URI or a data URI up to 5MB")
        if "tag" in ref and not (isinstance(ref["tag"], str) and TAG.match(ref["tag"])):
            raise Invalid(f"{where}.tag: 3-16 characters, a letter first, letters digits _")
        if "subject" in ref and ref["subject"] not in ("object", "human"):
            raise Invalid(f"{where}.subject: object or human")


def size_of(ratio: str) -> tuple[int, int]:
    """The pixel size a ratio makes (an auto one: a square of its tier)."""
    if ratio in ("auto", "auto_1k"):
        return 1024, 1024
    if ratio == "auto_2k":
        return 2048, 2048
    width, _, height = ratio.partition(":")
    return int(width), int(height)
