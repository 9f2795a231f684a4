"""Dispatch: one request from body to result — candidates, admission, the resilient run and
settlement. The result (`rendering.Generation`) becomes the response body in `rendering.py`.

The dispatcher's `preflight()` is every refusal a request can get before a provider is called,
in this order, for a synchronous request and a job (`Prefer: respond-async`) alike: the prompt's
length and the mask (400), the validated, ordered candidates from `candidates.Resolver` (400,
404), a provider that is not configured (503), then `controls.admit()` (403 scope and
allow-lists, 429 rate and concurrency, 402 budget), and only then what needs I/O: the edit's
input images named by URL (`schemas.ImageRef`, fetched behind the SSRF guard) and each
configured provider's `prepare` (BFL: `provider_params` images by URL, the mask's conversion),
whose refusals are 400s too. A key that may not make a request never makes the gateway fetch
anything on its behalf. A synchronous request runs it in `generate()`; a job runs it before its
202 and keeps the admission until it ends (see `access/controls.py`), and keeps what was fetched
(`Admitted`) so that it is not fetched again when the job runs. `generate()` then runs the
candidates and calls `controls.settle()` exactly once with the provider and model that
actually served. Everything that repeats or redirects upstream calls lives in `resilience/`
(the runner); adapters never retry.

Besides the images and OpenAI's token `usage`, a result says who served it: `provider`,
`model`, `attempts` (upstream calls made, counting fan-out, retries and fallbacks),
`fallback_from` (`provider/model` of the primary, when a fallback served), `route` (when
`model` named one) and `cost` (`schemas.Cost`: USD, its basis, and the provider's own credits
where it gave them). Each image carries its own `size` ("WxH", read from its header when the
runner checked it: what was made, which a provider may have fitted from what was asked).

A request that fails after its provider and model are known carries them out on the error
(`GatewayError.attribution`), for the access log line.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from image_gateway.access.auth import Client
from image_gateway.access.controls import Admission, RequestControls
from image_gateway.billing.accounting import account
from image_gateway.billing.ledger import Outcome
from image_gateway.billing.pricing import UNPRICED, Priced, PriceTable
from image_gateway.errors import GatewayError, InvalidRequest
from image_gateway.fetch import ImageFetcher, load_all
from image_gateway.generation.candidates import Plan, Resolver, Target
from image_gateway.generation.rendering import Generation
from image_gateway.generation.routes import Route, RoutesFileError, load_routes
from image_gateway.observability.metrics import Metrics
from image_gateway.providers.adapters import Adapters
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.journal import RunJournal
from image_gateway.resilience.breaker import STATE_VALUES
from image_gateway.resilience.limiter import SharedSlots
from image_gateway.resilience.runner import Candidate, Resilience, Trace
from image_gateway.schemas import (
    GenerationBody,
    ImageRef,
    ImageTask,
    InputImage,
    ProviderResult,
    parse_size,
)
from image_gateway.settings import ConfigurationError, Settings

__all__ = ["Dispatcher"]

log = logging.getLogger("image_gateway.dispatch")


@dataclass(slots=True)
class Admitted:
    """A request that passed the pre-flight: its candidates (prepared), the admission to settle
    (or release) exactly once, and what was loaded for it — what a job keeps."""

    plan: Plan
    admission: Admission
    images: list[InputImage] = field(default_factory=list)  # uploads first, then by URL
    mask: InputImage | None = None
    # `provider_params` values the providers' `prepare` replaced: an image named by URL (or
    # data: URL) as the base64 of its checked bytes.
    prepared: dict[str, str] = field(default_factory=dict)


class Dispatcher:
    def __init__(
        self,
        settings: Settings,
        providers: Adapters,
        controls: RequestControls,
        *,
        metrics: Metrics | None = None,
        shared_slots: SharedSlots | None = None,
        fetcher: ImageFetcher | None = None,
    ) -> None:
        self.settings = settings
        self.providers = providers
        self.fetcher = fetcher  # loads the input images requests name by URL
        self.controls = controls
        self.metrics = metrics or Metrics()
        self.resolver = Resolver(settings, providers)
        self.resolver.routes = self._load_routes()
        self.resilience = Resilience(settings, self.metrics, shared_slots=shared_slots)
        for name in providers:
            self.resilience.breakers.get(name)  # every provider shows in igw_circuit_state
        self._watch(self.metrics)
        self.prices = PriceTable.load()

    @property
    def routes(self) -> dict[str, Route]:
        return self.resolver.routes

    def provider(self, name: str) -> Provider:
        return self.resolver.provider(name)

    def resolve(self, provider_name: str | None, model: str | None) -> Target:
        return self.resolver.resolve(provider_name, model)

    def check(
        self,
        body: GenerationBody,
        client: Client,
        images: list[InputImage] | None = None,
        mask: InputImage | None = None,
    ) -> Plan:
        """The pre-flight's refusals that need no I/O: prompt length and mask (400), the
        candidates (400 for a value a model cannot take, 404 for an unknown model or provider),
        and 503 `provider_not_configured` when no candidate's provider has a key."""
        if len(body.prompt) > self.settings.max_prompt_chars:
            raise InvalidRequest(
                f"prompt is longer than {self.settings.max_prompt_chars} characters", param="prompt"
            )
        if mask is not None and not images:
            raise InvalidRequest("a mask needs an image", param="mask")
        plan = self.resolver.plan(body, task_from(body, images or [], mask), client)
        if not any(c.provider.configured for c in plan.candidates):
            error = plan.candidates[0].provider.not_configured()
            error.attribute(plan.candidates[0].provider.name, plan.candidates[0].spec.id)
            raise error
        return plan

    async def release(self, admission: Admission) -> None:
        """End an admission that tried no provider (a job canceled, or refused after its
        pre-flight): give back its concurrency slot and budget reservation, record nothing;
        never raises. The admissions are the dispatcher's: `preflight()` makes them."""
        await self.controls.release(admission)

    async def renew(self, admission: Admission) -> None:
        """Hold what a job's kept admission holds for another lease period (its slot and
        reservation may have expired while it waited); never raises."""
        await self.controls.renew(admission)

    async def preflight(
        self,
        body: GenerationBody,
        *,
        client: Client,
        request_id: str | None,
        images: list[InputImage] | None = None,
        mask: InputImage | None = None,
        refs: Sequence[ImageRef] = (),
        journal: RunJournal | None = None,
    ) -> Admitted:
        """Every refusal a request gets before any provider is called: `check()`, then the
        key's controls (`admit()`: 403 scope, allow-lists and a candidate without a price for
        a key with a budget, 429 rate and concurrency, 402 budget), then loading what the
        request names by URL (`refs`, then each provider's `prepare`: 400 naming the field).
        The same for a synchronous request and a job; the caller owns the admission
        (`generate()` settles it, `release()` gives it back); a refusal after
        admission releases it here, and a synchronous request whose client left while its
        images loaded (`journal.stopped`) is settled as that."""
        images = list(images or [])
        plan = self.check(body, client, *_standing_in(images, mask, refs))
        primary = plan.candidates[0]
        if journal is not None:  # what a departed client's access line names
            journal.target = (primary.provider.name, primary.spec.id)
        # Admission before anything is fetched: a key that may not make this request must not
        # make the gateway fetch anything on its behalf either.
        try:
            admission = await self.controls.admit(
                client,
                primary.task,
                user_id=body.user_id or body.user,
                request_id=request_id,
                fallbacks=[c.task for c in plan.candidates[1:] if c.provider.configured],
            )
        except GatewayError as exc:
            exc.attribute(primary.provider.name, primary.spec.id)
            raise
        started = time.perf_counter()
        try:
            if refs:
                images, mask = await self._load(images, mask, refs)
                # Validated again with the images themselves (a model may read their size).
                plan = self.check(body, client, images, mask)
            await _prepare(plan.candidates)
        except asyncio.CancelledError:
            if journal is None or journal.stopped is None:
                await self.controls.release(admission)
                raise
            # Its client left while its images were loading: recorded like any departure
            # before a provider call (a row with the reason, costing nothing).
            outcome = Outcome(primary.provider.name, primary.spec.id, "failed")
            outcome.error_code = journal.stopped
            outcome.latency_ms = (time.perf_counter() - started) * 1000
            self._account(outcome, primary, Trace(request_id, journal=journal), None)
            await self.controls.settle(admission, outcome)
            raise
        except BaseException as exc:
            await self.controls.release(admission)
            if isinstance(exc, GatewayError):
                exc.attribute(primary.provider.name, primary.spec.id)
            raise
        return Admitted(plan, admission, images, mask, _prepared(body, plan))

    async def _load(
        self, images: list[InputImage], mask: InputImage | None, refs: Sequence[ImageRef]
    ) -> tuple[list[InputImage], InputImage | None]:
        """The input images: `images` (uploads), then those `refs` name, in their order."""
        if self.fetcher is None:  # fail closed: never pass an unchecked image reference on
            raise RuntimeError("input images by URL need the app's ImageFetcher")
        loaded = await load_all(
            self.fetcher, [(ref.field, ref.url) for ref in refs], allow_raw_base64=False
        )
        images = list(images)
        for ref, image in zip(refs, loaded, strict=True):
            if ref.is_mask:
                mask = image
            else:
                images.append(image)
        return images, mask

    async def generate(
        self,
        body: GenerationBody,
        *,
        client: Client,
        request_id: str | None = None,
        images: list[InputImage] | None = None,
        mask: InputImage | None = None,
        refs: Sequence[ImageRef] = (),
        journal: RunJournal | None = None,
        admission: Admission | None = None,
    ) -> Generation:
        """Pre-flight, run the candidates, settle: the images and who made them.

        With `admission` (a job, admitted when it was submitted, its inputs loaded then) the
        request is not admitted again; `check()` and the providers' `prepare` run again (the
        configuration may have changed while it waited; what was fetched comes from the job,
        not the network) and a refusal there releases the admission. Either way the admission
        ends here."""
        if admission is None:
            admitted = await self.preflight(
                body,
                client=client,
                request_id=request_id,
                images=images,
                mask=mask,
                refs=refs,
                journal=journal,
            )
        else:
            try:
                admitted = Admitted(self.check(body, client, images, mask), admission)
                await _prepare(admitted.plan.candidates)
            except BaseException:
                await self.controls.release(admission)
                raise
        plan, admission = admitted.plan, admitted.admission
        candidates = plan.candidates
        primary = candidates[0]
        trace = Trace(request_id, journal=journal)
        if journal is not None:
            journal.target = (primary.provider.name, primary.spec.id)
        outcome = Outcome(primary.provider.name, primary.spec.id, "failed")
        result: ProviderResult | None = None
        priced: Priced | None = None
        started = time.perf_counter()
        try:
            result = await self.resilience.run(candidates, trace)
        except GatewayError as exc:
            outcome.error_code = exc.code
            failed = trace.tried or primary  # with fallbacks, the one that failed last
            exc.attribute(failed.provider.name, failed.spec.id)
            raise
        except asyncio.CancelledError:  # stopped from outside; the journal says why, if known
            outcome.error_code = journal.stopped if journal is not None else None
            raise
        finally:
            outcome.latency_ms = (time.perf_counter() - started) * 1000
            priced = self._account(outcome, primary, trace, result)
            await self.controls.settle(admission, outcome)
        assert result is not None  # the run returned (it raises otherwise)
        served = trace.tried or primary
        return Generation(
            provider=served.provider.name,
            model=served.spec.id,
            attempts=trace.calls,
            fallback_from=primary.label if trace.index > 0 else None,
            route=plan.route,
            images=result.images,
            usage=result.usage,
            extra=result.extra,
            default_response_format=primary.spec.default_response_format,
            cost=(priced or UNPRICED).view(),
        )

    def _account(
        self, outcome: Outcome, primary: Candidate, trace: Trace, result: ProviderResult | None
    ) -> Priced | None:
        """Fill the ledger rows (`accounting.account`) and count them in the metrics; never
        raises (settlement must follow whatever happens here)."""
        try:
            priced = account(self.prices, outcome, primary, trace, result)
        except Exception:
            log.exception("pricing an outcome failed; recorded without a cost")
            outcome.cost_usd = None
            return None
        for row in outcome.rows():
            self.metrics.spent(row.provider, row.model, row.cost_usd, row.status == "unknown")
        if result is not None:
            self.metrics.served(outcome.provider, outcome.model, outcome.images)
        return priced

    def _load_routes(self) -> dict[str, Route]:
        path = self.settings.routes_file
        if path is None:
            return {}
        try:
            return load_routes(path, self.resolver.shadowed, self.resolver.target)
        except RoutesFileError as exc:
            raise ConfigurationError(f"image-gateway: invalid configuration\n  {exc}") from None

    def _watch(self, metrics: Metrics) -> None:
        """The breakers' states and the pools' queues and slots, read when scraped."""
        breakers = self.resilience.breakers.by_provider
        pools = self.resilience.limits.pools.values()
        metrics.watch(
            metrics.circuit_state, lambda: {n: STATE_VALUES[b.state] for n, b in breakers.items()}
        )
        metrics.watch(metrics.queue_depth, lambda: {p.name: p.queued for p in pools})
        metrics.watch(metrics.in_flight, lambda: {p.name: p.active for p in pools})
        metrics.watch(metrics.pool_limit, lambda: {p.name: p.limit for p in pools})


def task_from(body: GenerationBody, images: list[InputImage], mask: InputImage | None) -> ImageTask:
    """The common fields of a request; each candidate gets its own copy (provider, model and
    `provider_params` filled in by the resolver)."""
    return ImageTask(
        provider="",
        model="",
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
        input_fidelity=body.input_fidelity,
        negative_prompt=body.negative_prompt,
        user=body.user,
        safety_identifier=body.safety_identifier,
        stream=bool(body.stream),
        partial_images=body.partial_images or 0,
        params=dict(body.provider_params),
        images=images,
        mask=mask,
    )


async def _prepare(candidates: list[Candidate]) -> None:
    """Let each configured provider load what its task refers to (input images by URL, the
    mask in its own form), once per provider: candidates of one provider share the same
    `provider_params` and inputs."""
    done: dict[str, Candidate] = {}
    for candidate in candidates:
        if not candidate.provider.configured:
            continue
        first = done.get(candidate.provider.name)
        if first is not None:
            candidate.task.params = dict(first.task.params)
            candidate.task.vendor = dict(first.task.vendor)
            continue
        await candidate.provider.prepare(candidate.task, candidate.spec)
        done[candidate.provider.name] = candidate


def _standing_in(
    images: list[InputImage], mask: InputImage | None, refs: Sequence[ImageRef]
) -> tuple[list[InputImage], InputImage | None]:
    """The inputs `check()` plans with before anything is fetched: a stand-in for each image
    still named by URL (`InputImage.stand_in`: it counts, it has no bytes). `preflight()`
    checks again with the loaded images after admission."""
    if not refs:
        return images, mask
    images = [*images, *(InputImage.stand_in(ref.field) for ref in refs if not ref.is_mask)]
    if mask is None and any(ref.is_mask for ref in refs):
        mask = InputImage.stand_in("mask")
    return images, mask


def _prepared(body: GenerationBody, plan: Plan) -> dict[str, str]:
    """The `provider_params` the providers' `prepare` replaced (image references loaded)."""
    prepared: dict[str, str] = {}
    for candidate in plan.candidates:
        for name, value in candidate.task.params.items():
            if isinstance(value, str) and body.provider_params.get(name) != value:
                prepared[name] = value
    return prepared
