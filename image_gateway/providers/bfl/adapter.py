"""`bfl-flux`: Black Forest Labs' FLUX API — submit, poll `polling_url`, download `sample`.

`to_vendor()` / `parse_submit()` / `parse_poll()` are pure; `generate()` is the I/O path.
`x-key` is only ever sent to BFL_BASE_URL's origin or a BFL_TRUSTED_HOSTS one (scheme, host
and port: `origins.TrustedOrigins`); the returned `polling_url` is used verbatim when trusted,
otherwise the gateway polls its own base URL. Samples are downloaded (without the key) only from
such origins too.
The signed `sample` URL expires after 10 minutes, so it is downloaded as soon as it is Ready.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from image_gateway.errors import (
    ContentPolicyViolation,
    InvalidRequest,
    ProviderError,
    ProviderQuotaExhausted,
    ProviderRateLimited,
    UpstreamError,
    UpstreamTimeout,
)
from image_gateway.fetch import ImageFetcher, check_image_value, resolve_image_params
from image_gateway.image_format import sniff_image_type
from image_gateway.providers.bfl import DEFINITION
from image_gateway.providers.bfl.config import BFLConfig
from image_gateway.providers.bfl.masks import openai_mask_to_bfl
from image_gateway.providers.bfl.models import IMAGE_PARAMS, MODELS, REQUIRED_PARAMS
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import retry_after_header, retry_after_seconds
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal, submit_once
from image_gateway.providers.kit.redaction import provider_message, rejected
from image_gateway.providers.kit.sizing import aspect_of, dims_for_aspect, fit_within, ratio_value
from image_gateway.schemas import Charge, GeneratedImage, ImageTask, ProviderResult
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse
from image_gateway.upstream.origins import TrustedOrigins, origin_text

log = logging.getLogger("image_gateway.providers.bfl")

PENDING = "pending"
NOT_FOUND = "not_found"
MODERATED = ("Request Moderated", "Content Moderated")
FAILED = ("Error", "Failed")
NOT_FOUND_GRACE = 3  # "Task not found" right after submit is tolerated this many polls
BFL_CREDIT_USD = 0.01  # BFL's pricing page: 1 credit = $0.01


@dataclass(frozen=True, slots=True)
class Submitted:
    task_id: str
    polling_url: str | None
    cost_credits: float | None

    def state(self) -> dict[str, Any]:
        return {
            "phase": "submitted",
            "task_id": self.task_id,
            "polling_url": self.polling_url,
            "cost_credits": self.cost_credits,
        }

    def charge(self) -> Charge | None:
        """BFL's own figure for the task (its `cost` on submit, in credits)."""
        if self.cost_credits is None:
            return None
        return Charge(self.cost_credits * BFL_CREDIT_USD, credits=self.cost_credits)

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> Submitted | None:
        """A task accepted before a restart, from its journal: poll it, never resubmit."""
        if not state or not isinstance(state.get("task_id"), str):
            return None
        url, cost = state.get("polling_url"), state.get("cost_credits")
        return cls(
            state["task_id"],
            url if isinstance(url, str) else None,
            float(cost) if isinstance(cost, int | float) else None,
        )


class BFLProvider(Provider[BFLConfig]):
    definition = DEFINITION
    models = MODELS

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        super().__init__(settings, http, fetcher)
        self.origins = TrustedOrigins(self.config.base_url, self.config.trusted_hosts)

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        if task.aspect_ratio is not None and not 9 / 21 <= ratio_value(task.aspect_ratio) <= 21 / 9:
            raise InvalidRequest("aspect_ratio must be between 21:9 and 9:21", param="aspect_ratio")
        for name in REQUIRED_PARAMS.get(spec.id, ()):
            if name not in task.params:
                raise InvalidRequest(
                    f"{spec.id} needs provider_params.{name}", param=f"provider_params.{name}"
                )
        if task.is_edit and spec.extra["size_mode"] == "none" and task.size is not None:
            raise InvalidRequest(f"{spec.id} keeps the input image's size", param="size")
        for name in IMAGE_PARAMS:
            if name in task.params:
                check_image_value(
                    task.params[name],
                    field=f"provider_params.{name}",
                    max_bytes=self.settings.fetch_max_bytes,
                    allow_raw_base64=True,
                )

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """Input images named in `provider_params` (URL, data: URL or base64) become the base64
        of their checked bytes, so BFL never fetches a client's URL; an OpenAI-style mask is
        converted to BFL's black-and-white one (400 `mask` when it cannot be decoded). Part of
        the pre-flight: both refusals come before any job exists or any call is sent."""
        task.params = await resolve_image_params(
            task.params, IMAGE_PARAMS, self.fetcher, prefix="provider_params."
        )
        if task.mask is not None:
            mask = await asyncio.to_thread(openai_mask_to_bfl, task.mask.data)
            task.vendor = {**task.vendor, "mask": mask}  # this task's own: candidates share one

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        key = self.api_key()
        submitted = Submitted.from_state(journal.state)
        if submitted is None:
            submitted = await self._submit(task, spec, key, journal)
        try:
            result = await self._poll(submitted, key)
            image = await self._download(result)
        except ProviderError as exc:
            # BFL charges when it accepts a task (the submit answer carries its `cost`): a task
            # that failed, got lost or never finished may have been paid for.
            exc.after_acceptance()
            raise
        return ProviderResult(images=[image], charge=submitted.charge())

    # Submission and each poll run in frames of their own: a generation waits in `_poll` for
    # seconds to minutes, thousands at once, and must not hold the request body (input images
    # as base64) or the last poll's answer (headers, body) all that time.

    async def _submit(
        self, task: ImageTask, spec: ModelSpec, key: str, journal: CallJournal
    ) -> Submitted:
        body = to_vendor(task, spec)

        async def submit() -> Submitted:
            resp = await self.http.request(
                "POST",
                f"{self.config.base_url}/v1/{spec.extra['path']}",
                provider=self.name,
                headers={"x-key": key},
                json=body,
                read_timeout=self.submit_read_timeout,
            )
            return parse_submit(resp, [key])

        submitted = await submit_once(journal, self.name, submit)
        await journal.save(submitted.state())
        return submitted

    async def _poll(self, submitted: Submitted, key: str) -> dict[str, Any]:
        url = submitted.polling_url
        if url is None or not self.trusted(url):
            if url is not None:
                log.warning(
                    "untrusted polling_url ignored; polling BFL_BASE_URL instead",
                    extra={"fields": {"provider": self.name, "origin": origin_text(url)}},
                )
            url = f"{self.config.base_url}/v1/get_result?id={quote(submitted.task_id)}"
        deadline = time.monotonic() + self.config.poll_timeout_seconds
        interval = self.config.poll_initial_seconds
        not_found = 0
        while True:
            wait = min(interval, max(0.0, deadline - time.monotonic()))
            await asyncio.sleep(wait)
            if time.monotonic() >= deadline:
                raise UpstreamTimeout(
                    f"bfl-flux task {submitted.task_id} did not finish within "
                    f"{self.config.poll_timeout_seconds:g} s",
                    provider=self.name,
                )
            interval = min(interval * 1.5, self.config.poll_max_interval_seconds)
            outcome, hint = await self._poll_once(url, submitted.task_id, key, deadline)
            if isinstance(outcome, dict):
                return outcome
            if outcome == NOT_FOUND:
                not_found += 1
                if not_found > NOT_FOUND_GRACE:
                    raise UpstreamError(
                        f"bfl-flux lost task {submitted.task_id}",
                        provider=self.name,
                        code="task_not_found",
                    )
            elif hint is not None:
                interval = max(interval, min(hint, self.config.poll_max_interval_seconds * 5))

    async def _poll_once(
        self, url: str, task_id: str, key: str, deadline: float
    ) -> tuple[str | dict[str, Any], float | None]:
        """PENDING, NOT_FOUND or the result (see `parse_poll`), and a pending answer's
        Retry-After in seconds."""
        try:
            resp = await self.http.request(
                "GET",
                url,
                provider=self.name,
                headers={"x-key": key},
                deadline=deadline - time.monotonic(),
            )
        except (UpstreamError, UpstreamTimeout):
            return PENDING, None  # a poll is free: try again until the deadline
        outcome = parse_poll(resp, task_id, [key])
        return outcome, retry_after_seconds(resp.headers) if outcome == PENDING else None

    async def _download(self, result: dict[str, Any]) -> GeneratedImage:
        sample = result.get("sample")
        if not isinstance(sample, str):
            raise UpstreamError("bfl-flux returned no usable result image", provider=self.name)
        if not self.trusted(sample):
            raise UpstreamError(
                f"bfl-flux returned its result image on an untrusted origin "
                f"({origin_text(sample)}; see BFL_TRUSTED_HOSTS)",
                provider=self.name,
            )
        resp = await self.http.request("GET", sample, provider=self.name)
        if resp.status != 200:
            raise UpstreamError(
                f"bfl-flux result image could not be downloaded (HTTP {resp.status})",
                provider=self.name,
            )
        # What the bytes are is checked for every provider alike (`common.check_images`).
        mime = sniff_image_type(resp.body) or "application/octet-stream"
        seed = result.get("seed")
        return GeneratedImage(resp.body, mime, seed=seed if isinstance(seed, int) else None)

    def trusted(self, url: str) -> bool:
        """May this URL receive `x-key` (a polling URL) or our download (a sample)? Only when
        its scheme, host and port are BFL_BASE_URL's or a BFL_TRUSTED_HOSTS origin's."""
        return self.origins.allows(url)


def to_vendor(task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
    """The JSON body for one BFL submission (one image)."""
    body: dict[str, Any] = {"prompt": task.prompt}
    if task.seed is not None:
        body["seed"] = task.seed
    if task.output_format is not None:
        body["output_format"] = task.output_format
    mode = spec.extra["size_mode"]
    if mode == "aspect":
        if task.aspect_ratio is not None:
            body["aspect_ratio"] = task.aspect_ratio
        elif task.size is not None:
            body["aspect_ratio"] = aspect_of(task.size)
    elif mode in ("wh32", "wh16"):
        size = task.size
        if size is None and task.aspect_ratio is not None:
            size = dims_for_aspect(task.aspect_ratio, megapixels=1.0, multiple=16)
        if size is not None:
            if mode == "wh32":
                size = fit_within(size, low=256, high=1440, multiple=32)
            else:
                size = fit_within(size, low=64, high=4096, multiple=16, max_pixels=4 * 1024 * 1024)
            body["width"], body["height"] = size
    images = [base64.b64encode(img.data).decode("ascii") for img in task.images]
    if images:
        if "image_field" in spec.extra:
            body[spec.extra["image_field"]] = images[0]
        else:
            body.update(zip(spec.extra["refs"], images, strict=False))
    body.update(task.vendor)  # computed by `prepare`: the converted mask
    body.update(task.params)  # provider-specific fields win over translated common ones
    return body


def parse_submit(resp: UpstreamResponse, secrets: list[str]) -> Submitted:
    """The task BFL accepted. Any 2xx answers the submission as accepted — and charged (BFL
    bills on acceptance): one we cannot use (not JSON, no task id) is a failure that may have
    been paid (`billed_unknown`), never sent again."""
    if not 200 <= resp.status < 300:
        raise error_from(resp, secrets)
    try:
        payload = resp.json("bfl-flux")
        task_id = payload.get("id") if isinstance(payload, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise UpstreamError(
                "bfl-flux accepted the request but returned no task id", provider="bfl-flux"
            )
    except UpstreamError as exc:
        exc.after_acceptance()
        raise
    polling_url = payload.get("polling_url")
    cost = payload.get("cost")
    return Submitted(
        task_id,
        polling_url if isinstance(polling_url, str) else None,
        float(cost) if isinstance(cost, int | float) else None,
    )


def parse_poll(resp: UpstreamResponse, task_id: str, secrets: list[str]) -> str | dict[str, Any]:
    """PENDING, "not_found", or the Ready `result` dict; raises for terminal failures."""
    if resp.status in (202, 429) or resp.status >= 500:
        return PENDING
    if resp.status == 404:
        return NOT_FOUND
    if resp.status != 200:
        raise error_from(resp, secrets)
    try:
        payload = resp.json("bfl-flux")
    except UpstreamError:
        return PENDING  # a garbled poll answer is retried like any failed poll
    status = payload.get("status") if isinstance(payload, dict) else None
    if status == "Ready":
        result = payload.get("result")
        if not isinstance(result, dict):
            raise UpstreamError("bfl-flux reported Ready without a result", provider="bfl-flux")
        return result
    if status in MODERATED:
        which = "input" if status == "Request Moderated" else "generated image"
        raise ContentPolicyViolation(
            f"the provider's safety system rejected the {which} ({status})", provider="bfl-flux"
        )
    if status in FAILED:
        detail = provider_message(payload.get("details") or payload.get("error"), secrets)
        raise UpstreamError(
            f"bfl-flux task {task_id} failed" + (f": {detail}" if detail else ""),
            provider="bfl-flux",
            code="generation_failed",
        )
    if status == "Task not found":
        return NOT_FOUND
    return PENDING  # Pending and any status this adapter does not know yet


def error_from(resp: UpstreamResponse, secrets: list[str]) -> Exception:
    try:
        payload = resp.json("bfl-flux")
    except UpstreamError:
        payload = None
    detail = payload.get("detail") if isinstance(payload, dict) else None
    if resp.status in (400, 422):
        if isinstance(detail, list) and detail and isinstance(detail[0], dict):
            loc = [str(p) for p in detail[0].get("loc", []) if p != "body"]
            field = ".".join(loc) or None
            message = provider_message(detail[0].get("msg"), secrets)
            return InvalidRequest(
                f"bfl-flux rejected {field or 'the request'}: {message}",
                param=field and _gateway_param(field),
                provider="bfl-flux",
            )
        return InvalidRequest(
            rejected("bfl-flux", resp.status, provider_message(detail, secrets)),
            provider="bfl-flux",
        )
    if resp.status in (401, 403):
        return UpstreamError(
            "bfl-flux rejected the gateway's credentials (check BFL_API_KEY)",
            code="provider_auth_failed",
            provider="bfl-flux",
            outage=False,  # a configuration problem, not the provider being down
        )
    if resp.status == 402:
        return ProviderQuotaExhausted("the bfl-flux account is out of credits", provider="bfl-flux")
    # A 429 or 5xx here answers the submission (polls treat them as "pending" and never get
    # here): no task was created, so submitting again cannot pay twice.
    wait = retry_after_seconds(resp.headers)
    if resp.status == 429:
        return ProviderRateLimited(
            "bfl-flux is at its concurrent task limit; retry later",
            provider="bfl-flux",
            headers=retry_after_header(wait),
            retryable=True,
            retry_after=wait,
        )
    return UpstreamError(
        f"bfl-flux failed (HTTP {resp.status})",
        provider="bfl-flux",
        retryable=resp.status >= 500,
        retry_after=wait if resp.status >= 500 else None,
    )


def _gateway_param(field: str) -> str:
    common = {"prompt", "seed", "output_format", "width", "height", "aspect_ratio"}
    if field in ("width", "height", "aspect_ratio"):
        return "size"
    return field if field in common else f"provider_params.{field}"
