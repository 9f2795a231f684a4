"""`openai`: the OpenAI Images API (and OpenAI-compatible endpoints), synchronous.

`to_vendor()` and `from_vendor()` are pure; `generate()` is the one I/O path. DALL-E is asked
for `b64_json` so the gateway holds the bytes at once (its URLs die after 60 minutes).
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    NotFound,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
)
from image_gateway.fetch import ImageFetcher
from image_gateway.fetch.urls import Refused
from image_gateway.image_format import sniff_image_type
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import retry_after_header, retry_after_seconds
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal, submit_once
from image_gateway.providers.kit.output import decode_b64_image
from image_gateway.providers.kit.redaction import provider_message, rejected
from image_gateway.providers.kit.sizing import dims_for_aspect, ratio_value
from image_gateway.providers.openai import DEFINITION
from image_gateway.providers.openai.config import OpenAIConfig
from image_gateway.providers.openai.models import MODELS, passthrough_spec
from image_gateway.schemas import GeneratedImage, ImageTask, ProviderResult, token_usage
from image_gateway.settings import Settings
from image_gateway.upstream.client import FormPart, UpstreamClient, UpstreamResponse
from image_gateway.upstream.origins import TrustedOrigins, origin_text

# Task fields sent as they are (validation left only what the model honours). DALL·E has no
# `output_format` parameter: it makes PNGs, the only format its specs declare.
SENT_FIELDS = (
    "quality",
    "style",
    "output_compression",
    "background",
    "moderation",
    "user",
    "safety_identifier",
)
# `error.code`s that mean the account cannot pay: retrying will not help (a plain 429 will).
QUOTA_CODES = ("insufficient_quota", "billing_hard_limit_reached", "credit_balance_exhausted")
ECHOED_FIELDS = ("background", "output_format", "quality", "size")


class OpenAIProvider(Provider[OpenAIConfig]):
    definition = DEFINITION
    models = MODELS

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        super().__init__(settings, http, fetcher)
        self.origins = TrustedOrigins(self.config.base_url)

    def model(self, model_id: str) -> ModelSpec | None:
        return MODELS.get(model_id) or passthrough_spec(model_id)

    def owns(self, model_id: str) -> bool:
        return self.model(model_id) is not None

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (what each model declares, `openai_models.py`), then what only
        OpenAI has: per-model prompt lengths and gpt-image-2's flexible sizes."""
        if task.aspect_ratio is not None and task.size is None:
            task.size = size_for_aspect(task.aspect_ratio, spec)
        super().validate(task, spec)
        if len(task.prompt) > spec.extra["max_prompt"]:
            raise InvalidRequest(
                f"prompt is longer than {spec.extra['max_prompt']} characters for {spec.id}",
                param="prompt",
            )
        if spec.extra.get("flexible_size") and task.size is not None:
            check_flexible_size(task.size)

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        key = self.api_key()
        headers = {"Authorization": f"Bearer {key}"}
        body = to_vendor(task, spec)
        base = self.config.base_url

        async def submit() -> UpstreamResponse:
            if task.is_edit:
                resp = await self.http.request(
                    "POST",
                    f"{base}/images/edits",
                    provider=self.name,
                    headers=headers,
                    form=to_form(body, task),
                    read_timeout=self.submit_read_timeout,
                )
            else:
                resp = await self.http.request(
                    "POST",
                    f"{base}/images/generations",
                    provider=self.name,
                    headers=headers,
                    json=body,
                    read_timeout=self.submit_read_timeout,
                )
            if not 200 <= resp.status < 300:
                raise error_from(resp, [key])
            return resp

        resp = await submit_once(journal, self.name, submit)
        try:
            payload = resp.json(self.name)
            result = from_vendor(payload, self.name)
            for item, image in zip(payload.get("data") or [], result.images, strict=False):
                if image.data == b"" and item.get("url"):
                    image.data = await self._download(item["url"])  # checked like every output
        except ProviderError as exc:
            # A 2xx is a generation OpenAI bills, whether or not its answer can be used.
            exc.after_acceptance()
            raise
        return result

    async def _download(self, url: str) -> bytes:
        """An image answered by URL (compatible servers that ignore `response_format`), never
        with the key: on OPENAI_BASE_URL's own origin like an API call (the endpoint may be a
        private one), anywhere else only from a public address, through the input-image
        fetcher's SSRF guard."""
        if not self.origins.allows(url):
            return await self._fetch_foreign(url)
        resp = await self.http.request("GET", url, provider=self.name)
        if resp.status != 200:
            raise UpstreamError(
                f"openai image download failed (HTTP {resp.status})", provider=self.name
            )
        return resp.body

    async def _fetch_foreign(self, url: str) -> bytes:
        if self.fetcher is None:
            raise UpstreamError(
                f"openai returned an image URL on another origin ({origin_text(url)})",
                provider=self.name,
            )
        try:
            return await self.fetcher.download(url)
        except Refused as exc:
            raise UpstreamError(
                f"openai image download refused: its URL {exc}", provider=self.name
            ) from None


def size_for_aspect(ratio: str, spec: ModelSpec) -> tuple[int, int]:
    if spec.extra.get("flexible_size"):
        return dims_for_aspect(ratio, megapixels=1.05, multiple=16)
    if not spec.aspect_ratios or not spec.sizes:
        raise InvalidRequest(
            f"{spec.id} does not take aspect_ratio; use size", param="aspect_ratio"
        )
    want = ratio_value(ratio)
    best = min(spec.sizes, key=lambda s: abs(ratio_value(s.replace("x", ":")) - want))
    width, height = best.split("x")
    return int(width), int(height)


def check_flexible_size(size: tuple[int, int]) -> None:
    width, height = size
    ok = (
        width % 16 == 0
        and height % 16 == 0
        and max(width, height) <= 3840
        and max(width, height) <= 3 * min(width, height)
        and 655_360 <= width * height <= 8_294_400
    )
    if not ok:
        raise InvalidRequest(
            f"size {width}x{height} is not supported: both sides multiples of 16, longest side "
            "<= 3840, aspect ratio <= 3:1, 655,360 to 8,294,400 pixels",
            param="size",
        )


def to_vendor(task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
    """The JSON body OpenAI expects, for one call making `task.n` images."""
    body: dict[str, Any] = {"model": spec.id, "prompt": task.prompt, "n": task.n}
    if task.size is not None:
        body["size"] = f"{task.size[0]}x{task.size[1]}"
    for name in SENT_FIELDS:
        value = getattr(task, name)
        if value is not None:
            body[name] = value
    if spec.extra["family"] == "gpt":
        if task.output_format is not None:
            body["output_format"] = task.output_format
    else:
        body["response_format"] = "b64_json"
    if task.is_edit and task.input_fidelity is not None:
        body["input_fidelity"] = task.input_fidelity
    body.update(task.params)
    return body


def to_form(body: dict[str, Any], task: ImageTask) -> list[FormPart]:
    parts = [FormPart(name, str(value)) for name, value in body.items()]
    field = "image" if len(task.images) == 1 else "image[]"
    parts += [FormPart(field, img.data, img.filename, img.content_type) for img in task.images]
    if task.mask is not None:
        parts.append(FormPart("mask", task.mask.data, task.mask.filename, task.mask.content_type))
    return parts


def from_vendor(payload: Any, provider: str) -> ProviderResult:
    """Images (bytes) and usage from an OpenAI `ImagesResponse`; URLs are left to download."""
    items = payload.get("data") if isinstance(payload, dict) else None
    if not isinstance(items, list) or not items:
        raise UpstreamError(f"{provider} returned no images", provider=provider)
    images = []
    for item in items:
        if not isinstance(item, dict):
            raise UpstreamError(f"{provider} returned a malformed image entry", provider=provider)
        if item.get("b64_json") is not None:
            data = decode_b64_image(item["b64_json"], provider)
        elif isinstance(item.get("url"), str):
            data = b""
        else:
            raise UpstreamError(f"{provider} returned an image without data", provider=provider)
        mime = sniff_image_type(data) or "image/png"
        b64 = item["b64_json"] if data else None  # already validated: no re-encoding later
        images.append(
            GeneratedImage(data, mime, revised_prompt=item.get("revised_prompt"), b64=b64)
        )
    extra = {k: payload[k] for k in ECHOED_FIELDS if isinstance(payload.get(k), str)}
    # Only OpenAI's token object goes on as `usage`: a compatible server's own shape would
    # leave the SDK's integer fields None (cost comes from tokens, else the echoed size/quality).
    return ProviderResult(images=images, usage=token_usage(payload.get("usage")), extra=extra)


def error_from(resp: UpstreamResponse, secrets: list[str]) -> Exception:
    """Map an OpenAI error answer to a gateway error (never passing the body through raw)."""
    try:
        err = resp.json("openai").get("error") or {}
    except (UpstreamError, AttributeError):
        err = {}
    if not isinstance(err, dict):
        err = {}
    code = err.get("code") if isinstance(err.get("code"), str) else None
    message = provider_message(err.get("message"), secrets)
    param = err.get("param") if isinstance(err.get("param"), str) else None
    if code in ("content_policy_violation", "moderation_blocked"):
        return ContentPolicyViolation(
            "the provider's safety system rejected this request",
            code="content_policy_violation",
            provider="openai",
        )
    if resp.status == 400:
        return InvalidRequest(
            rejected("openai", resp.status, message), param=param, code=code, provider="openai"
        )
    if resp.status in (401, 403):
        return UpstreamError(
            "openai rejected the gateway's credentials (check OPENAI_API_KEY)",
            code="provider_auth_failed",
            provider="openai",
            outage=False,  # a configuration problem, not the provider being down
        )
    if resp.status == 404:
        return NotFound(
            f"openai: {message or 'not found'}", code=code or "model_not_found", provider="openai"
        )
    wait = retry_after_seconds(resp.headers)
    if resp.status == 402 or code in QUOTA_CODES:
        return ProviderQuotaExhausted("the openai account is out of quota", provider="openai")
    if resp.status == 429:
        return ProviderRateLimited(
            "openai rate limit reached; retry later",
            provider="openai",
            headers=retry_after_header(wait),
            retryable=True,
            retry_after=wait,
        )
    # 408 request timeout, 409 lock timeout and 5xx: OpenAI did not produce the images (and
    # does not bill them), so the same request may be sent again (openai-python does).
    retryable = resp.status in (408, 409) or resp.status >= 500
    return UpstreamError(
        f"openai failed (HTTP {resp.status})",
        provider="openai",
        retryable=retryable,
        retry_after=wait if retryable else None,
        outage=resp.status >= 500 or resp.status == 408,
    )
