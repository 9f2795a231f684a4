"""Ideogram translations, pure: a task to the form of one call, its answer to images and their
URLs, its error bodies to details (REFERENCE §3.5, REFERENCE-MORE §8; IDEO-DOCS).

Request: `multipart/form-data` (IDEO-DOCS; whether a JSON body is taken is [UNVERIFIED]),
numbers as text, the input image as the file part `image`, a mask as `mask` (black = edit, the
input image's size). Which call (`call_of`):

| model | task               | path                        | prompt field  |
|-------|--------------------|-----------------------------|---------------|
| 3.0   | text only          | `/v1/ideogram-v3/generate`  | `prompt`      |
| 3.0   | image + mask       | `/v1/ideogram-v3/edit`      | `prompt`      |
| 3.0   | image, no mask     | `/v1/ideogram-v3/remix`     | `prompt`      |
| 4.0   | text only          | `/v1/ideogram-v4/generate`  | `text_prompt` |
| 4.0   | image              | `/v1/ideogram-v4/remix`     | `text_prompt` |

Answer: `{"created": "<date-time>", "data": [{"url", "is_image_safe", "prompt",
"resolution", "seed", "style_type"}]}` (REFERENCE-MORE §8, semi-primary). An image Ideogram's
safety check failed comes back with `is_image_safe: false` and an empty URL ([3P]) and an
HTTP 200. Such images are dropped and the others answered, their count in the response's
`images_filtered` (as Vertex's filtered images); when every image is unsafe the call is a
`ContentPolicyViolation` (Ideogram bills a completed request, withheld images included: its
errors page; the message says so). The ledger prices the withheld images with the others
(`ProviderResult.withheld_billed`; on the refusal, `GatewayError.billed`). An item
with `is_image_safe: false` is dropped even when it carries a URL. An item without a URL that
is not marked unsafe, or an answer without `data`, is an `UpstreamError`.

Errors: 400 invalid input, 401 not authorized, 422 "Prompt failed the safety check", 429 too
many requests (IDEO-DOCS generate-v3 responses); 402 "with a `reject_reason` such as
`insufficient_funds` or `daily_limit`" and 403 no access to the endpoint or model, none billed
(developer.ideogram.ai `ideogram-api/errors`, which also says a completed request is billed
even when the safety check withholds an image). Their bodies are not documented
([UNVERIFIED]): `{"detail": ...}`, `{"message": ...}` and `{"error": ...}` are all read
(`kit/errors.common_error_detail`), and a 402's `reject_reason` (`reject_reason`).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any, Literal

from image_gateway.errors import ContentPolicyViolation, UpstreamError
from image_gateway.providers.ideogram.models import V4_BY_RATIO, IdeogramModel
from image_gateway.providers.kit.errors import safe_token
from image_gateway.providers.kit.sizing import parse_ratio
from image_gateway.providers.kit.sync import Answer
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult
from image_gateway.upstream.client import FormPart, UpstreamResponse

PROVIDER = "ideogram"
Call = Literal["generate", "edit", "remix"]


def call_of(task: ImageTask) -> Call:
    """Which endpoint a task goes to (module docstring)."""
    if not task.is_edit:
        return "generate"
    return "edit" if task.mask is not None else "remix"


def path(model: IdeogramModel, call: Call) -> str:
    return f"/v1/ideogram-{model.version}/{call}"


def wire_ratio(ratio: str) -> str:
    """Ideogram 3.0's spelling of an aspect ratio: `16:9` -> `16x9`."""
    width, height = parse_ratio(ratio)
    return f"{width}x{height}"


def v4_resolution(task: ImageTask) -> str | None:
    """Ideogram 4.0's `resolution`: the size asked, else the 2K size of the ratio asked (the
    adapter has checked there is one), else None (the model picks)."""
    if task.size is not None:
        return f"{task.size[0]}x{task.size[1]}"
    if task.aspect_ratio is not None:
        width, height = parse_ratio(task.aspect_ratio)
        return V4_BY_RATIO.get(Fraction(width, height))
    return None


def to_vendor(task: ImageTask, model: IdeogramModel) -> dict[str, Any]:
    """The text fields of one call making `task.n` images (the files are `form_files`')."""
    call = call_of(task)
    fields: dict[str, Any] = {"rendering_speed": model.rendering_speed}
    if model.version == "v4":
        fields["text_prompt"] = task.prompt
        if call == "generate":
            fields["resolution"] = v4_resolution(task)
        fields["seed"] = task.seed
        if call == "remix":
            fields["image_weight"] = _int(task.params.get("image_weight"))
        return fields
    fields["prompt"] = task.prompt
    fields["num_images"] = task.n
    fields["seed"] = task.seed
    fields["negative_prompt"] = task.negative_prompt
    if call != "edit":  # an edit keeps the input image's size
        if task.size is not None:
            fields["resolution"] = f"{task.size[0]}x{task.size[1]}"
        elif task.aspect_ratio is not None:
            fields["aspect_ratio"] = wire_ratio(task.aspect_ratio)
    for name in ("magic_prompt", "style_type"):
        fields[name] = task.params.get(name)
    if call == "remix":
        fields["image_weight"] = task.params.get("image_weight")
    return fields


def form_files(task: ImageTask, mask: bytes | None) -> list[FormPart]:
    """The input image as `image`, and the mask (already Ideogram's) as `mask`."""
    parts = [FormPart("image", img.data, img.filename, img.content_type) for img in task.images]
    if mask is not None:
        parts.append(FormPart("mask", mask, "mask.png", "image/png"))
    return parts


def from_vendor(payload: Any) -> Answer:
    """An answer's images, still to be downloaded from their URLs (module docstring)."""
    data = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(data, list) or not data:
        raise UpstreamError(f"{PROVIDER} returned an answer without images", provider=PROVIDER)
    images: list[GeneratedImage] = []
    urls: dict[int, str] = {}
    unsafe = 0
    for item in data:
        if not isinstance(item, dict):
            raise UpstreamError(f"{PROVIDER} returned a malformed image entry", provider=PROVIDER)
        url = item.get("url")
        if item.get("is_image_safe") is False:
            unsafe += 1
            continue
        if not isinstance(url, str) or not url:
            raise UpstreamError(
                f"{PROVIDER} returned an image entry without a URL", provider=PROVIDER
            )
        urls[len(images)] = url
        images.append(GeneratedImage(b"", "image/png", seed=_seed(item.get("seed"))))
    if not images:
        raise ContentPolicyViolation(
            f"{PROVIDER}'s safety check failed every image it made (is_image_safe: false); "
            "nothing was returned, and Ideogram charges for them",
            code="content_policy_violation",
            provider=PROVIDER,
        ).with_billed(ProviderResult(images=[], withheld_billed=unsafe))
    extra = {"images_filtered": unsafe} if unsafe else {}
    return Answer(ProviderResult(images=images, extra=extra, withheld_billed=unsafe), urls)


def reject_reason(resp: UpstreamResponse, secrets: list[str]) -> str | None:
    """A 402's `reject_reason` (`insufficient_funds`, `daily_limit`, ...), made safe; None when
    the body has none."""
    try:
        payload = resp.json(PROVIDER)
    except UpstreamError:
        return None
    reason = payload.get("reject_reason") if isinstance(payload, dict) else None
    return safe_token(reason, secrets)


def _seed(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _int(value: Any) -> int | None:
    """An integer parameter as Ideogram takes it (`50`, not `50.0`; checked already)."""
    return None if value is None else int(value)
