"""The models the Replicate emulator runs, their input schemas, and Replicate's 422s for input
that does not fit one.

Each model is official (`POST /v1/models/{owner}/{name}/predictions`) and has one version, whose
id is the SHA-256 of its name (`POST /v1/predictions` with `version`: `owner/name:<id>`, the bare
id, or `owner/name` for an official model; REFERENCE-MORE §4.2). `acme/sdxl-lite` is a community
model: versions only. Inputs are checked as Replicate checks them against the model's schema
(REFERENCE-MORE §4.4): an unknown property, a wrong type, a value outside an enum or a range is
a 422 `Input validation failed` with `invalid_fields`; the schemas are [3P] (see
`image_gateway/providers/replicate/models.py`), here to check the adapter, not to define it.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from .errors import ReplicateError, invalid_input

FLUX_RATIOS = ["1:1", "16:9", "21:9", "3:2", "2:3", "4:5", "5:4", "3:4", "4:3", "9:16", "9:21"]
IDEOGRAM_RATIOS = [
    *["1:3", "3:1", "1:2", "2:1", "9:16", "16:9", "10:16", "16:10", "2:3", "3:2"],
    *["3:4", "4:3", "4:5", "5:4", "1:1"],
]
RECRAFT_SIZES = [
    *["1024x1024", "1365x1024", "1024x1365", "1536x1024", "1024x1536", "1820x1024"],
    *["1024x1820", "1024x2048", "2048x1024", "1434x1024", "1024x1434", "1024x1280"],
    *["1280x1024", "1024x1707", "1707x1024"],
]
Field = dict[str, Any]  # {"type": ..., "enum"?: [...], "minimum"?: n, "maximum"?: n}


def _s(*enum: str) -> Field:
    return {"type": "string", "enum": list(enum)} if enum else {"type": "string"}


def _i(low: int, high: int) -> Field:
    return {"type": "integer", "minimum": low, "maximum": high}


def _n(low: float, high: float) -> Field:
    return {"type": "number", "minimum": low, "maximum": high}


BOOL: Field = {"type": "boolean"}
SEED = _i(-(2**31), 2**32)
_SCHNELL: dict[str, Field] = {
    "prompt": _s(),
    "aspect_ratio": _s(*FLUX_RATIOS),
    "num_outputs": _i(1, 4),
    "seed": SEED,
    "output_format": _s("webp", "jpg", "png"),
    "output_quality": _i(0, 100),
    "megapixels": _s("1", "0.25"),
    "go_fast": BOOL,
    "num_inference_steps": _i(1, 4),
    "disable_safety_checker": BOOL,
}
_PRO11: dict[str, Field] = {
    "prompt": _s(),
    "aspect_ratio": _s(*FLUX_RATIOS, "custom"),
    "width": _i(256, 1440),
    "height": _i(256, 1440),
    "seed": SEED,
    "output_format": _s("webp", "jpg", "png"),
    "output_quality": _i(0, 100),
    "safety_tolerance": _i(1, 6),
    "prompt_upsampling": BOOL,
    "image_prompt": _s(),
}


@dataclass(frozen=True)
class Model:
    name: str
    schema: dict[str, Field]
    output: str  # "list" of URIs, or one "uri"
    default_format: str
    official: bool = True

    @property
    def version(self) -> str:
        return hashlib.sha256(self.name.encode()).hexdigest()


MODELS = {
    m.name: m
    for m in (
        Model("black-forest-labs/flux-schnell", _SCHNELL, "list", "webp"),
        Model(
            "black-forest-labs/flux-dev",
            {**_SCHNELL, "num_inference_steps": _i(1, 50), "guidance": _n(0, 10)},
            "list",
            "webp",
        ),
        Model("black-forest-labs/flux-1.1-pro", _PRO11, "uri", "webp"),
        Model(
            "black-forest-labs/flux-pro",
            {**_PRO11, "steps": _i(1, 50), "guidance": _n(2, 5), "interval": _n(1, 4)},
            "uri",
            "webp",
        ),
        Model(
            "black-forest-labs/flux-kontext-pro",
            {
                "prompt": _s(),
                "input_image": _s(),
                "aspect_ratio": _s("match_input_image", *FLUX_RATIOS, "2:1", "1:2"),
                "seed": SEED,
                "output_format": _s("jpg", "png"),
                "safety_tolerance": _i(0, 6),
                "prompt_upsampling": BOOL,
            },
            "uri",
            "png",
        ),
        Model(
            "ideogram-ai/ideogram-v3-turbo",
            {
                "prompt": _s(),
                "aspect_ratio": _s(*IDEOGRAM_RATIOS),
                "resolution": _s(),
                "style_type": _s("None", "Auto", "General", "Realistic", "Design"),
                "magic_prompt_option": _s("Auto", "On", "Off"),
                "seed": SEED,
            },
            "uri",
            "png",
        ),
        Model(
            "recraft-ai/recraft-v3",
            {"prompt": _s(), "size": _s(*RECRAFT_SIZES), "style": _s()},
            "uri",
            "webp",
        ),
        Model(
            "acme/sdxl-lite",
            {
                "prompt": _s(),
                "negative_prompt": _s(),
                "width": _i(64, 2048),
                "height": _i(64, 2048),
                "aspect_ratio": _s(),
                "seed": SEED,
                "num_outputs": _i(1, 4),
                "num_inference_steps": _i(1, 100),
                "guidance_scale": _n(0, 50),
                "scheduler": _s("DDIM", "K_EULER"),
            },
            "list",
            "png",
            official=False,
        ),
    )
}
BY_VERSION = {m.version: m for m in MODELS.values()}


def by_version(version: Any) -> Model:
    """The model a `version` names (`owner/name:<id>`, `<id>`, or an official `owner/name`)."""
    if isinstance(version, str):
        name, _, vid = version.rpartition(":")
        found = BY_VERSION.get(vid or version)
        if found is not None and (not name or name == found.name):
            return found
        official = MODELS.get(version)
        if official is not None and official.official:
            return official
    raise ReplicateError(
        422,
        "Invalid version or not permitted",
        "The specified version does not exist (or perhaps you don't have permission to use it?)",
    )


def check_input(model: Model, data: Any) -> dict[str, Any]:
    """`data` when it fits the model's schema, else Replicate's 422 naming the first problem."""
    if not isinstance(data, dict):
        raise invalid_input("type", "input", "input: Invalid type. Expected: object")
    for key in data:
        if key not in model.schema:
            raise invalid_input(
                "additional_property_not_allowed", "", f"Additional property {key} is not allowed"
            )
    if not isinstance(data.get("prompt"), str):
        raise invalid_input("required", "prompt", "prompt is required")
    for key, value in data.items():
        problem = _problem(model.schema[key], value)
        if problem is not None:
            raise invalid_input(problem[0], key, f"{key}: {problem[1]}")
    return data


def _problem(field: Field, value: Any) -> tuple[str, str] | None:
    kind = field["type"]
    ok = {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "number": isinstance(value, int | float) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
    }[kind]
    if not ok:
        return "invalid_type", f"Invalid type. Expected: {kind}, given: {type(value).__name__}"
    if "enum" in field and value not in field["enum"]:
        return "enum", "must be one of the following: " + ", ".join(
            f'"{item}"' for item in field["enum"]
        )
    if "minimum" in field and value < field["minimum"]:
        return "number_gte", f"Must be greater than or equal to {field['minimum']}"
    if "maximum" in field and value > field["maximum"]:
        return "number_lte", f"Must be less than or equal to {field['maximum']}"
    return None
