"""Dispatch: choose the provider and model, validate, fan out `n`, store, shape the response.

This is the one place that turns a request into upstream calls, so retries, fallbacks and
concurrency limits (production-controls issue) belong here, never in adapters.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import time
from dataclasses import replace
from typing import Any

from .auth import Client
from .controls import Outcome, RequestControls
from .errors import GatewayError, InvalidRequest, NotFound, ProviderNotConfigured
from .providers.base import ModelSpec, Provider
from .schemas import (
    FORMAT_BY_MIME,
    GeneratedImage,
    GenerationBody,
    ImageTask,
    InputImage,
    ProviderResult,
    parse_size,
)
from .settings import Settings
from .storage import ImageUrls

PROVIDER_ALIASES = {"bfl": "bfl-flux", "flux": "bfl-flux", "black-forest-labs": "bfl-flux"}
KEY_SETTING = {"openai": "OPENAI_API_KEY", "bfl-flux": "BFL_API_KEY"}


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        providers: dict[str, Provider],
        image_urls: ImageUrls,
        controls: RequestControls,
    ) -> None:
        self.settings = settings
        self.providers = providers
        self.image_urls = image_urls
        self.controls = controls

    def provider(self, name: str) -> Provider:
        found = self.providers.get(PROVIDER_ALIASES.get(name, name))
        if found is None:
            raise NotFound(
                f"unknown provider {name!r}; known: {', '.join(self.providers)}",
                param="provider",
                code="provider_not_found",
            )
        return found

    def resolve(self, provider_name: str | None, model: str | None) -> tuple[Provider, ModelSpec]:
        """Provider from `provider`, or from `model` as `provider/model`, or from a bare model id
        that one provider owns; otherwise the default provider and its default model."""
        provider: Provider | None = None
        if provider_name:
            provider = self.provider(provider_name)
        if model and "/" in model:
            prefix, rest = model.split("/", 1)
            named = self.provider(prefix)
            if provider is not None and named is not provider:
                raise InvalidRequest(
                    f"model {model!r} does not belong to provider {provider.name!r}", param="model"
                )
            provider, model = named, rest
        if provider is None and model:
            owners = [p for p in self.providers.values() if p.owns(model)]
            if not owners:
                raise NotFound(
                    f"unknown model {model!r}; see GET /v1/models",
                    param="model",
                    code="model_not_found",
                )
            provider = owners[0]
        if provider is None:
            provider = self.provider(self.settings.default_provider)
        model = model or provider.default_model
        spec = provider.model(model)
        if spec is None:
            raise NotFound(
                f"model {model!r} is not offered by {provider.name}; available: "
                f"{', '.join(provider.catalogue())}",
                param="model",
                code="model_not_found",
            )
        return provider, spec

    async def run(
        self,
        body: GenerationBody,
        *,
        client: Client,
        public_base_url: str,
        request_id: str | None = None,
        images: list[InputImage] | None = None,
        mask: InputImage | None = None,
    ) -> dict[str, Any]:
        if len(body.prompt) > self.settings.max_prompt_chars:
            raise InvalidRequest(
                f"prompt is longer than {self.settings.max_prompt_chars} characters", param="prompt"
            )
        provider, spec = self.resolve(body.provider, body.model)
        task = ImageTask(
            provider=provider.name,
            model=spec.id,
            prompt=body.prompt,
            n=body.n,
            size=parse_size(body.size),
            aspect_ratio=body.aspect_ratio,
            seed=body.seed,
            quality=body.quality,
            style=body.style,
            output_format=body.output_format,
            output_compression=body.output_compression,
            background=body.background,
            moderation=body.moderation,
            negative_prompt=body.negative_prompt,
            user=body.user,
            params=dict(body.provider_params),
            images=images or [],
            mask=mask,
        )
        if mask is not None and not images:
            raise InvalidRequest("a mask needs an image", param="mask")
        provider.validate(task, spec)
        if not provider.configured:
            raise ProviderNotConfigured(
                f"provider {provider.name} is not configured: set "
                f"{KEY_SETTING.get(provider.name, 'its API key')}",
                provider=provider.name,
            )
        admission = await self.controls.admit(
            client, task, user_id=body.user_id or body.user, request_id=request_id
        )
        started = time.perf_counter()
        outcome = Outcome(provider.name, spec.id, "failed", size=body.size, quality=body.quality)
        try:
            result = await self._fan_out(provider, spec, task)
            outcome.status, outcome.images, outcome.usage = (
                "succeeded",
                len(result.images),
                result.usage,
            )
        except GatewayError as exc:
            outcome.error_code = exc.code
            raise
        finally:
            outcome.latency_ms = (time.perf_counter() - started) * 1000
            await self.controls.settle(admission, outcome)
        response_format = body.response_format or spec.default_response_format
        data = [await self._render(img, response_format, public_base_url) for img in result.images]
        response: dict[str, Any] = {
            "id": f"img_{secrets.token_hex(12)}",
            "created": int(time.time()),
            "provider": provider.name,
            "model": spec.id,
            "data": data,
        }
        first = result.images[0]
        response["output_format"] = FORMAT_BY_MIME.get(first.content_type)
        response.update(result.extra)
        if result.usage:
            response["usage"] = result.usage
        return response

    async def _fan_out(
        self, provider: Provider, spec: ModelSpec, task: ImageTask
    ) -> ProviderResult:
        """Split `n` into upstream calls of at most `images_per_call` images, run concurrently.
        Fanned-out calls get consecutive seeds so the images differ but stay reproducible."""
        per_call = max(1, spec.images_per_call)
        if task.n <= per_call:
            return await provider.generate(task, spec)
        calls = []
        for offset in range(0, task.n, per_call):
            seed = None if task.seed is None else (task.seed + offset) % 2**32
            calls.append(replace(task, n=min(per_call, task.n - offset), seed=seed))
        outcomes = await asyncio.gather(
            *(provider.generate(c, spec) for c in calls), return_exceptions=True
        )
        for outcome in outcomes:
            if isinstance(outcome, BaseException):
                raise outcome
        results = [o for o in outcomes if isinstance(o, ProviderResult)]
        return ProviderResult(
            images=[img for r in results for img in r.images],
            usage=merge_usage([r.usage for r in results]),
            extra=results[0].extra,
        )

    async def _render(
        self, image: GeneratedImage, response_format: str, public_base_url: str
    ) -> dict[str, Any]:
        item: dict[str, Any] = {}
        if response_format == "url":
            image_id = await self.image_urls.store.put(image.data, image.content_type)
            item["url"] = await self.image_urls.url_for(image_id, public_base_url)
        else:
            item["b64_json"] = base64.b64encode(image.data).decode("ascii")
        if image.revised_prompt is not None:
            item["revised_prompt"] = image.revised_prompt
        if image.seed is not None:
            item["seed"] = image.seed
        return item


def merge_usage(usages: list[dict[str, Any] | None]) -> dict[str, Any] | None:
    """Sum numeric usage fields (one level of nesting) across fanned-out calls."""
    present = [u for u in usages if u]
    if not present:
        return None
    total: dict[str, Any] = {}
    for usage in present:
        for key, value in usage.items():
            if isinstance(value, dict):
                inner = total.setdefault(key, {})
                for k, v in value.items():
                    if isinstance(v, int | float):
                        inner[k] = inner.get(k, 0) + v
            elif isinstance(value, int | float):
                total[key] = total.get(key, 0) + value
    return total
