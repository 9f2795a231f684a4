"""InvokeModel bodies per model, checked as the documentation says (REFERENCE-MORE §6), each
refusal a 400 `ValidationException` in Bedrock's words; what passes becomes a `Job`.

Nova Canvas / Titan (Amazon's envelope, validated as a JSON schema: an unknown key is refused
whatever `--strict` says, "extraneous key [x] is not permitted"):

    taskType TEXT_IMAGE       textToImageParams {text 1-1024 (Titan 1-512 [3P]), negativeText,
                              style (Nova's eight)}
             INPAINTING       inPaintingParams {image, text?, negativeText?, maskImage XOR
                              maskPrompt, returnMask?}: the mask pure black and white, the
                              image's size; the output keeps the image's size
             IMAGE_VARIATION  imageVariationParams {images 1-5, text?, negativeText?,
                              similarityStrength 0.2-1.0}
    imageGenerationConfig {numberOfImages 1-5, width/height (Nova: 320-4096, multiples of 16;
        at most 4,194,304 pixels and 1:4 to 4:1 [UNVERIFIED]), quality standard|premium,
        cfgScale 1.1-10, seed 0-858,993,459 (Titan 0-2,147,483,646 [3P])}

Stability (flat; unknown keys ignored, refused with `--strict`): prompt (required, at most
10,000), negative_prompt, aspect_ratio (nine ratios, text to image only), seed 0-4,294,967,294,
output_format png|jpeg|webp, mode text-to-image|image-to-image, image + strength 0-1 (image to
image only; not on Core), the input at least 64 pixels a side and 4,096 in all.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass, field
from typing import Any

from PIL import Image

from .errors import BedrockError, invalid

NOVA_STYLES = (
    "3D_ANIMATED_FAMILY_FILM", "DESIGN_SKETCH", "FLAT_VECTOR_ILLUSTRATION",
    "GRAPHIC_NOVEL_ILLUSTRATION", "MAXIMALISM", "MIDCENTURY_RETRO", "PHOTOREALISM",
    "SOFT_DIGITAL_PAINTING",
)  # fmt: skip
RATIOS = ("21:9", "16:9", "3:2", "5:4", "1:1", "4:5", "2:3", "9:16", "9:21")
TASK_PARAMS = {
    "TEXT_IMAGE": ("textToImageParams", ("text", "negativeText", "style", "conditionImage",
                                         "controlMode", "controlStrength")),
    "INPAINTING": ("inPaintingParams", ("image", "text", "negativeText", "maskPrompt",
                                        "maskImage", "returnMask")),
    "IMAGE_VARIATION": ("imageVariationParams", ("images", "text", "negativeText",
                                                 "similarityStrength")),
}  # fmt: skip
OTHER_TASKS = ("OUTPAINTING", "COLOR_GUIDED_GENERATION", "BACKGROUND_REMOVAL", "VIRTUAL_TRY_ON")
CONFIG_KEYS = ("numberOfImages", "width", "height", "quality", "cfgScale", "seed")
STABILITY_KEYS = (
    "prompt", "negative_prompt", "aspect_ratio", "seed", "output_format", "mode", "image",
    "strength",
)  # fmt: skip


@dataclass(frozen=True)
class Model:
    id: str
    family: str  # nova | titan | stability
    image_to_image: bool = False
    megapixels: float = 1.0  # Stability's output (Ultra, SD3.5: 1 MP; Core 1.5 MP)


MODELS = {
    m.id: m
    for m in (
        Model("amazon.nova-canvas-v1:0", "nova"),
        Model("amazon.titan-image-generator-v2:0", "titan"),
        Model("stability.stable-image-ultra-v1:0", "stability", image_to_image=True),
        Model("stability.stable-image-ultra-v1:1", "stability", image_to_image=True),
        Model("stability.stable-image-core-v1:0", "stability", megapixels=1.5),
        Model("stability.stable-image-core-v1:1", "stability", megapixels=1.5),
        Model("stability.sd3-5-large-v1:0", "stability", image_to_image=True),
    )
}


@dataclass
class Job:
    """What to answer: `count` images of `size` in `fmt`, the prompt's texts (for markers)."""

    count: int
    size: tuple[int, int]
    fmt: str = "png"
    texts: list[str] = field(default_factory=list)
    seed: int | None = None


def job(model: Model, body: Any, strict: bool) -> Job:
    """The job a valid body asks for; `BedrockError` (400) naming what is wrong."""
    if not isinstance(body, dict):
        raise invalid("Malformed input request: #: expected type: JSONObject, found: JSONArray")
    if model.family == "stability":
        return _stability(model, body, strict)
    return _canvas(model, body)


# --- Nova Canvas, Titan ----------------------------------------------------------------------


def _canvas(model: Model, body: dict[str, Any]) -> Job:
    task = body.get("taskType")
    if task in OTHER_TASKS:
        raise invalid(f"taskType {task} is not emulated (TEXT_IMAGE, INPAINTING, IMAGE_VARIATION)")
    if task not in TASK_PARAMS:
        raise _malformed("#", f"taskType: {task} is not a valid enum value")
    name, allowed = TASK_PARAMS[task]
    _extraneous("#", body, ("taskType", name, "imageGenerationConfig"))
    params = body.get(name)
    if not isinstance(params, dict):
        raise _malformed("#", f"required key [{name}] not found")
    _extraneous(f"#/{name}", params, allowed)
    longest = 512 if model.family == "titan" else 1024
    texts = [_text(params, "text", longest, required=task == "TEXT_IMAGE", where=name)]
    texts.append(_text(params, "negativeText", longest, required=False, where=name))
    config = body.get("imageGenerationConfig", {})
    if not isinstance(config, dict):
        raise _malformed("#/imageGenerationConfig", "expected type: JSONObject")
    _extraneous("#/imageGenerationConfig", config, CONFIG_KEYS)
    count = _integer(config, "numberOfImages", 1, 5, default=1) or 1
    if "quality" in config and config["quality"] not in ("standard", "premium"):
        raise _malformed("#/imageGenerationConfig/quality", "is not a valid enum value")
    _float(config, "cfgScale", 1.1, 10.0)
    seed_max = 2_147_483_646 if model.family == "titan" else 858_993_459
    seed = _integer(config, "seed", 0, seed_max, default=None)
    size = _config_size(model, config)
    if task == "TEXT_IMAGE":
        style = params.get("style")
        if style is not None and (model.family != "nova" or style not in NOVA_STYLES):
            raise _malformed(f"#/{name}/style", f"{style} is not a valid enum value")
    elif task == "INPAINTING":
        size = _inpainting(params)
    else:
        images = params.get("images")
        if not isinstance(images, list) or not 1 <= len(images) <= 5:
            raise _malformed(f"#/{name}/images", "expected 1-5 items")
        for index, item in enumerate(images):
            _opaque(_image(item, f"{name}.images[{index}]"), f"{name}.images[{index}]")
        _float(params, "similarityStrength", 0.2, 1.0)
    return Job(count, size, texts=[t for t in texts if t], seed=seed)


def _config_size(model: Model, config: dict[str, Any]) -> tuple[int, int]:
    if ("width" in config) != ("height" in config):
        raise invalid("width and height must be given together")
    if "width" not in config:
        return (1024, 1024)
    width = _integer(config, "width", 1, 4096, default=None)
    height = _integer(config, "height", 1, 4096, default=None)
    assert width is not None and height is not None
    if model.family == "nova":
        if not all(320 <= side <= 4096 and side % 16 == 0 for side in (width, height)):
            raise invalid("Width and height must be between 320 and 4096 and divisible by 16.")
        if width * height > 4_194_304 or max(width, height) > 4 * min(width, height):
            raise invalid(
                "The total pixel count must be no more than 4194304 and the aspect ratio between "
                "1:4 and 4:1."
            )
    return (width, height)


def _inpainting(params: dict[str, Any]) -> tuple[int, int]:
    image = _opaque(_image(params.get("image"), "inPaintingParams.image"), "inPaintingParams.image")
    has_prompt, has_image = "maskPrompt" in params, "maskImage" in params
    if has_prompt == has_image:
        raise invalid("Exactly one of maskPrompt or maskImage must be provided.")
    if has_prompt:
        _text(params, "maskPrompt", 1024, required=True, where="inPaintingParams")
        return image.size
    mask = _image(params["maskImage"], "inPaintingParams.maskImage")
    if mask.size != image.size:
        raise invalid("The mask image must have the same dimensions as the input image.")
    colours = mask.convert("RGB").getcolors(maxcolors=2**16) or []
    if any(colour not in ((0, 0, 0), (255, 255, 255)) for _, colour in colours):
        raise invalid("The mask image must contain only pure black and pure white pixels.")
    return image.size


# --- Stability -------------------------------------------------------------------------------


def _stability(model: Model, body: dict[str, Any], strict: bool) -> Job:
    unknown = [key for key in body if key not in STABILITY_KEYS]
    if strict and unknown:
        raise invalid(f"Malformed input request: extraneous key [{unknown[0]}] is not permitted")
    prompt = body.get("prompt")
    if not isinstance(prompt, str) or len(prompt) > 10_000:
        raise invalid("prompt is required and must be at most 10000 characters")
    negative = body.get("negative_prompt")
    if negative is not None and (not isinstance(negative, str) or len(negative) > 10_000):
        raise invalid("negative_prompt must be at most 10000 characters")
    seed = _integer(body, "seed", 0, 4_294_967_294, default=None)
    fmt = body.get("output_format", "png")
    if fmt not in ("png", "jpeg", "webp"):
        raise invalid(f"output_format: {fmt} is not one of png, jpeg, webp")
    mode = body.get("mode", "text-to-image")
    if mode not in ("text-to-image", "image-to-image"):
        raise invalid(f"mode: {mode} is not one of text-to-image, image-to-image")
    if mode == "text-to-image":
        for key in ("image", "strength"):
            if key in body:
                raise invalid(f"{key} is only valid with mode image-to-image")
        ratio = body.get("aspect_ratio", "1:1")
        if ratio not in RATIOS:
            raise invalid(f"aspect_ratio: {ratio} is not one of {', '.join(RATIOS)}")
        return Job(1, _pixels(ratio, model.megapixels), fmt, [prompt, negative or ""], seed)
    if not model.image_to_image:
        raise invalid(f"{model.id} does not support image-to-image")
    if "aspect_ratio" in body:
        raise invalid("aspect_ratio is not valid with mode image-to-image")
    if "strength" not in body:
        raise invalid("strength is required with mode image-to-image")
    _float(body, "strength", 0.0, 1.0)
    image = _image(body.get("image"), "image")
    if min(image.size) < 64 or image.size[0] * image.size[1] < 4096:
        raise invalid("image must be at least 64 pixels per side and 4096 pixels in total")
    return Job(1, image.size, fmt, [prompt, negative or ""], seed)


def _pixels(ratio: str, megapixels: float) -> tuple[int, int]:
    w, h = (int(x) for x in ratio.split(":"))
    height = math.sqrt(megapixels * 1_000_000 * h / w)
    return (max(64, round(height * w / h / 64) * 64), max(64, round(height / 64) * 64))


# --- field checks ----------------------------------------------------------------------------


def _malformed(where: str, what: str) -> BedrockError:
    return invalid(f"Malformed input request: {where}: {what}, please reformat your input and try "
                   "again.")  # fmt: skip


def _extraneous(where: str, value: dict[str, Any], allowed: tuple[str, ...]) -> None:
    for key in value:
        if key not in allowed:
            raise _malformed(where, f"extraneous key [{key}] is not permitted")


def _text(params: dict[str, Any], key: str, longest: int, *, required: bool, where: str) -> str:
    value = params.get(key)
    if value is None and not required:
        return ""
    if not isinstance(value, str) or not 1 <= len(value) <= longest:
        raise _malformed(f"#/{where}/{key}", f"expected a string of 1-{longest} characters")
    return value


def _integer(
    params: dict[str, Any], key: str, low: int, high: int, default: int | None
) -> int | None:
    if key not in params:
        return default
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise _malformed(f"#/{key}", f"expected an integer {low}-{high}, found {value!r}")
    return value


def _float(params: dict[str, Any], key: str, low: float, high: float) -> None:
    if key not in params:
        return
    value = params[key]
    if isinstance(value, bool) or not isinstance(value, int | float) or not low <= value <= high:
        raise _malformed(f"#/{key}", f"expected a number {low}-{high}, found {value!r}")


def _opaque(image: Image.Image, where: str) -> Image.Image:
    """Nova's rule for input images: an alpha channel may not hold a (semi-)transparent pixel."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        low, _ = image.convert("RGBA").getchannel("A").getextrema()
        if isinstance(low, int) and low < 255:
            raise invalid(f"{where}: the image must not contain transparent pixels")
    return image


def _image(value: Any, where: str) -> Image.Image:
    """A base64 PNG or JPEG, opened (its header read; pixels only when a check needs them)."""
    if not isinstance(value, str):
        raise invalid(f"{where}: expected a base64-encoded image")
    try:
        data = base64.b64decode(value, validate=True)
        image = Image.open(io.BytesIO(data))
    except (binascii.Error, ValueError, OSError):
        raise invalid(f"{where}: the image could not be decoded") from None
    if image.format not in ("PNG", "JPEG"):
        raise invalid(f"{where}: only PNG and JPEG images are supported")
    return image
