"""Luma's Dream Machine translations, pure: a task to the body of `POST /generations/image`, a
Generation object to an outcome, an error body to the gateway's terms, and the checks of the
reference fields.

Generation (lumaai-python `types/generation.py`): `{id, state: queued | dreaming | completed |
failed, failure_reason, assets: {image}, generation_type, model, request, created_at}`. The
submission answers one (queued); `GET /generations/{id}` answers it again as it changes.

- queued, dreaming: pending, the state as the status word;
- completed: `assets.image`, a URL downloaded at once (its lifetime is [UNVERIFIED]);
- failed: `failure_reason`. One naming moderation, NSFW content or a policy (how Luma words it is
  [UNVERIFIED]; "... not allowed because advanced moderation failed" is the form quoted by
  users [3P]) is `ContentPolicyViolation`; any other is a 502 `generation_failed`. Both come
  after acceptance: never re-sent.

Error bodies: `{"detail": [{"type", "loc", "msg", "input"}]}` (FastAPI's validation list: vercel/ai
`luma-image-model.ts` at 63fa085), `{"detail": "text"}`, or `{"error": {"message", "type",
"code"}}` (the same file's earlier reading, 005f709): all are read.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    ProviderQuotaExhausted,
    UpstreamError,
)
from image_gateway.providers.kit.errors import ErrorDetail, safe_token
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.providers.kit.sizing import ratio_value
from image_gateway.providers.kit.tasks import Finished, Output, Pending, PollOutcome, Submitted
from image_gateway.providers.luma.models import (
    ASPECT_RATIOS,
    FORMATS,
    MAX_REFERENCES,
    REFERENCES,
    LumaModel,
)
from image_gateway.schemas import ImageTask

PROVIDER = "luma"
MODERATION_TEXT = ("moderation", "nsfw", "not allowed", "content policy", "unsafe")
QUOTA_TEXT = ("insufficient credit", "insufficient balance", "out of credits", "no credits")
# Luma's field names in the gateway's terms (the references are `provider_params.<name>`).
FIELDS = {
    "prompt": "prompt",
    "model": "model",
    "aspect_ratio": "aspect_ratio",
    "format": "output_format",
}


def size_ratio(size: tuple[int, int]) -> str | None:
    """Luma's ratio a size has (within 1%), else None."""
    value = size[0] / size[1]
    for ratio in ASPECT_RATIOS:
        if abs(ratio_value(ratio) - value) <= 0.01 * ratio_value(ratio):
            return ratio
    return None


def to_vendor(task: ImageTask, spec: LumaModel) -> dict[str, Any]:
    """The JSON body of one generation (validation left only what the model honours)."""
    body: dict[str, Any] = {"model": spec.id, "prompt": task.prompt}
    ratio = task.aspect_ratio or (size_ratio(task.size) if task.size is not None else None)
    if ratio is not None:
        body["aspect_ratio"] = ratio
    if task.output_format is not None:
        body["format"] = FORMATS[task.output_format]
    for name in REFERENCES:
        if name in task.params:
            body[name] = task.params[name]
    return body


def parse_submit(payload: Any) -> Submitted:
    """The Generation a submission answers: its id (`TypeError`/`ValueError` without one)."""
    if not isinstance(payload, dict):
        raise TypeError("the submission answer is not a Generation object")
    return Submitted(payload.get("id"))  # type: ignore[arg-type]  # checked by Submitted


def parse_poll(payload: Any, task_id: str, secrets: list[str]) -> PollOutcome:
    """A Generation as an outcome (module docstring)."""
    if not isinstance(payload, dict):
        raise UpstreamError(f"{PROVIDER} answered a status that is no object", provider=PROVIDER)
    state = payload.get("state")
    if state == "completed":
        assets = payload.get("assets")
        image = assets.get("image") if isinstance(assets, dict) else None
        if not image:
            raise UpstreamError(
                f"{PROVIDER} generation {task_id} completed without an image", provider=PROVIDER
            )
        return Finished((Output.of(image, PROVIDER),))
    if state == "failed":
        raise failure(payload.get("failure_reason"), task_id, secrets)
    return Pending(status=state if state in ("queued", "dreaming") else None)


def failure(reason: Any, task_id: str, secrets: list[str]) -> GatewayError:
    text = provider_message(reason if isinstance(reason, str) else "", secrets)
    if any(words in text.lower() for words in MODERATION_TEXT):
        return ContentPolicyViolation(
            f"{PROVIDER}'s moderation rejected this generation ({text})",
            code="content_policy_violation",
            provider=PROVIDER,
        )
    return UpstreamError(
        f"{PROVIDER} generation {task_id} failed" + (f": {text}" if text else ""),
        provider=PROVIDER,
        code="generation_failed",
    )


def error_detail(payload: Any, secrets: list[str]) -> ErrorDetail | None:
    """Luma's `detail` bodies (module docstring); None for another shape (the kit's common
    reading then applies: `{"error": {...}}`)."""
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if isinstance(detail, list) and detail and isinstance(detail[0], dict):
        first = detail[0]
        loc = first.get("loc")
        names = (
            [p for p in loc if isinstance(p, str) and p != "body"] if isinstance(loc, list) else []
        )
        field = safe_token(names[0], secrets) if names else None
        return ErrorDetail(
            provider_message(first.get("msg"), secrets),
            safe_token(first.get("type"), secrets),
            gateway_param(field),
        )
    if isinstance(detail, str):
        return ErrorDetail(provider_message(detail, secrets))
    return None


def gateway_param(field: str | None) -> str | None:
    if field is None:
        return None
    return FIELDS.get(field, f"provider_params.{field}")


def refusal(status: int, detail: ErrorDetail) -> GatewayError | None:
    """A moderation or credit answer the status table would misread."""
    text = detail.message.lower()
    if (
        400 <= status < 500
        and status not in (401, 429)
        and any(words in text for words in MODERATION_TEXT)
    ):
        return ContentPolicyViolation(
            f"{PROVIDER}'s moderation rejected this request ({detail.message})",
            code="content_policy_violation",
            provider=PROVIDER,
        )
    if 400 <= status < 500 and any(words in text for words in QUOTA_TEXT):
        return ProviderQuotaExhausted(
            f"the {PROVIDER} account is out of credits", provider=PROVIDER
        )
    return None


# --- the reference fields (provider_params) ---------------------------------------------------


def check_references(params: dict[str, Any]) -> None:
    """Each reference field in Luma's shape (`models.PARAM_SCHEMAS`), its URLs http(s) URLs
    Luma can fetch; `InvalidRequest` naming the field otherwise."""
    for name in ("image_ref", "style_ref"):
        if name in params:
            refs = params[name]
            where = f"provider_params.{name}"
            if not isinstance(refs, list) or not refs or len(refs) > MAX_REFERENCES:
                raise InvalidRequest(
                    f"{where} must be a list of 1-{MAX_REFERENCES} {{url, weight}} objects",
                    param=where,
                )
            for index, ref in enumerate(refs):
                _reference(ref, f"{where}[{index}]")
    if "modify_image_ref" in params:
        _reference(params["modify_image_ref"], "provider_params.modify_image_ref")
    if "character_ref" in params:
        where = "provider_params.character_ref"
        ref = params["character_ref"]
        identity = ref.get("identity0") if isinstance(ref, dict) else None
        images = identity.get("images") if isinstance(identity, dict) else None
        if (
            not isinstance(ref, dict)
            or set(ref) != {"identity0"}
            or not isinstance(identity, dict)
            or set(identity) != {"images"}
            or not isinstance(images, list)
            or not 1 <= len(images) <= MAX_REFERENCES
        ):
            raise InvalidRequest(
                f"{where} must be {{identity0: {{images: [1-{MAX_REFERENCES} URLs]}}}}",
                param=where,
            )
        for index, url in enumerate(images):
            _url(url, f"{where}.identity0.images[{index}]")


def _reference(ref: Any, where: str) -> None:
    if not isinstance(ref, dict) or "url" not in ref or set(ref) - {"url", "weight"}:
        raise InvalidRequest(f"{where} must be an object {{url, weight}}", param=_field(where))
    _url(ref["url"], f"{where}.url")
    weight = ref.get("weight")
    if weight is not None and (
        isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 <= weight <= 1
    ):
        raise InvalidRequest(f"{where}.weight must be a number from 0 to 1", param=_field(where))


def _url(url: Any, where: str) -> None:
    """An http(s) URL with a host and no credentials (Luma fetches it; the gateway does not)."""
    parts = urlsplit(url) if isinstance(url, str) and len(url) <= 2048 else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidRequest(
            f"{where} must be an http(s) URL that Luma can fetch: Luma reads input images only "
            "from URLs (no uploads, no data: URIs)",
            param=_field(where),
        )
    if parts.username or parts.password:
        raise InvalidRequest(f"{where} must not carry credentials", param=_field(where))


def _field(where: str) -> str:
    """The provider_param a place inside it belongs to: `provider_params.image_ref[0].url` ->
    `provider_params.image_ref`."""
    return ".".join(where.split(".")[:2]).split("[")[0]
