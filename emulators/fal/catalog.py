"""The endpoints the fal emulator runs, their input schemas, and fal's 422s for input that does
not fit one (`{"detail": [{"loc": ["body", field], "msg", "type"}]}`, REFERENCE-MORE §3.5).

The schemas follow `image_gateway/providers/fal/models.py`'s sources (fal-js endpoint types for
FLUX dev, Seedream v4 and nano-banana; [UNVERIFIED] for FLUX pro, ultra and Kontext), here to
check the adapter, not to define it. Unknown fields are ignored, as fal's pydantic inputs do
([inference]); in strict mode they are a 422 `extra_forbidden`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .errors import FalError, validation

Field = dict[str, Any]
PRESETS = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
BFL_RATIOS = ["21:9", "16:9", "4:3", "3:2", "1:1", "2:3", "3:4", "9:16", "9:21"]
NANO_RATIOS = ["21:9", "16:9", "3:2", "4:3", "5:4", "1:1", "4:5", "3:4", "2:3", "9:16"]


def _s(*enum: str) -> Field:
    return {"type": "string", "enum": list(enum)} if enum else {"type": "string"}


def _i(low: int, high: int) -> Field:
    return {"type": "integer", "minimum": low, "maximum": high}


BOOL: Field = {"type": "boolean"}
NUMBER: Field = {"type": "number", "minimum": 0, "maximum": 20}
IMAGE_SIZE: Field = {"type": "image_size"}
SEED = _i(0, 2**32)
TOLERANCE = _s("1", "2", "3", "4", "5", "6")
_FLUX: dict[str, Field] = {
    "prompt": _s(),
    "image_size": IMAGE_SIZE,
    "num_inference_steps": _i(1, 50),
    "num_images": _i(1, 4),
    "seed": SEED,
    "enable_safety_checker": BOOL,
    "output_format": _s("jpeg", "png"),
    "acceleration": _s("none", "regular", "high"),
    "sync_mode": BOOL,
}


@dataclass(frozen=True)
class Model:
    id: str  # the endpoint id (`fal-ai/flux/dev`)
    schema: dict[str, Field]
    default_format: str
    default_size: tuple[int, int] | None  # None: from aspect_ratio (or the input image)
    nsfw_flags: bool = True  # answers has_nsfw_concepts
    seed: bool = True  # answers seed
    single: bool = False  # answers one `image`, not `images`


MODELS: dict[str, Model] = {
    m.id: m
    for m in (
        Model("fal-ai/flux/schnell", _FLUX, "jpeg", PRESETS["landscape_4_3"]),
        Model("fal-ai/flux/dev", {**_FLUX, "guidance_scale": NUMBER}, "jpeg", (1024, 768)),
        Model(
            "fal-ai/flux-pro/v1.1",
            {**_FLUX, "safety_tolerance": TOLERANCE},
            "jpeg",
            PRESETS["landscape_4_3"],
        ),
        Model(
            "fal-ai/flux-pro/v1.1-ultra",
            {
                "prompt": _s(),
                "aspect_ratio": _s(*BFL_RATIOS),
                "num_images": _i(1, 4),
                "seed": SEED,
                "enable_safety_checker": BOOL,
                "safety_tolerance": TOLERANCE,
                "output_format": _s("jpeg", "png"),
                "raw": BOOL,
            },
            "jpeg",
            None,
        ),
        Model(
            "fal-ai/flux-pro/kontext",
            {
                "prompt": _s(),
                "image_url": _s(),
                "aspect_ratio": _s(*BFL_RATIOS),
                "num_images": _i(1, 4),
                "seed": SEED,
                "guidance_scale": NUMBER,
                "enable_safety_checker": BOOL,
                "safety_tolerance": TOLERANCE,
                "output_format": _s("jpeg", "png"),
            },
            "jpeg",
            None,
        ),
        Model(
            "fal-ai/bytedance/seedream/v4/text-to-image",
            {
                "prompt": _s(),
                "image_size": IMAGE_SIZE,
                "num_images": _i(1, 4),
                "max_images": _i(1, 6),
                "seed": SEED,
                "enable_safety_checker": BOOL,
                "enhance_prompt_mode": _s("standard", "fast"),
                "sync_mode": BOOL,
            },
            "png",
            (2048, 2048),
            nsfw_flags=False,
        ),
        Model(
            "fal-ai/nano-banana",
            {
                "prompt": _s(),
                "aspect_ratio": _s("auto", *NANO_RATIOS),
                "resolution": _s("1K", "2K", "4K"),
                "num_images": _i(1, 4),
                "output_format": _s("png", "jpeg", "webp"),
                "safety_tolerance": TOLERANCE,
                "sync_mode": BOOL,
            },
            "png",
            None,
            nsfw_flags=False,
            seed=False,
        ),
    )
}


def find(path: str) -> Model | None:
    """The endpoint a submission path names (`/fal-ai/flux/dev`)."""
    return MODELS.get(path.strip("/"))


def check_input(model: Model, body: Any, strict: bool) -> dict[str, Any]:
    """The input when it fits the endpoint's schema, else fal's 422 naming the first bad field."""
    if not isinstance(body, dict):
        raise FalError(422, {"detail": [_item([], "Input should be a valid dictionary",
                                               "dict_type")]})  # fmt: skip
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise validation("prompt", "Field required", "missing")
    for name, value in body.items():
        rule = model.schema.get(name)
        if rule is None:
            if strict:
                raise validation(name, "Extra inputs are not permitted", "extra_forbidden")
            continue
        _check(name, value, rule)
    return body


def _check(name: str, value: Any, rule: Field) -> None:
    kind = rule["type"]
    if kind == "image_size":
        if isinstance(value, str) and value in PRESETS:
            return
        if (
            isinstance(value, dict)
            and set(value) == {"width", "height"}
            and all(isinstance(v, int) and 16 <= v <= 14142 for v in value.values())
        ):
            return
        raise validation(name, "Input should be a preset name or {width, height}", "value_error")
    if kind == "string" and not isinstance(value, str):
        raise validation(name, "Input should be a valid string", "string_type")
    if kind == "boolean" and not isinstance(value, bool):
        raise validation(name, "Input should be a valid boolean", "bool_type")
    if kind in ("integer", "number"):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if kind == "integer":
            ok = ok and float(value).is_integer()
        if not ok:
            raise validation(name, f"Input should be a valid {kind}", f"{kind[:3]}_type")
        if not rule["minimum"] <= value <= rule["maximum"]:
            raise validation(
                name,
                f"Input should be between {rule['minimum']} and {rule['maximum']}",
                "less_than_equal" if value > rule["maximum"] else "greater_than_equal",
            )
    if "enum" in rule and value not in rule["enum"]:
        raise validation(
            name, "Input should be " + ", ".join(repr(v) for v in rule["enum"]), "literal_error"
        )


def _item(loc: list[str], msg: str, kind: str) -> dict[str, Any]:
    return {"loc": ["body", *loc], "msg": msg, "type": kind}
