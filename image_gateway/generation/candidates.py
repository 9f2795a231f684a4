"""Which provider and model may serve a request, in order: the primary, then its fallbacks.

The primary comes from `provider`, from `model` as `provider/model`, from a bare model id one
provider owns, from `model` as a provider name (or alias: `bfl`, `flux`), meaning that
provider's default model, or from a route (an alias the operator defines in ROUTES_FILE,
expanding to several models tried in order); otherwise the default provider and its default
model.

Fallbacks (`fallbacks`, at most 5 entries) follow, each named as `model` may be: a model id,
`provider/model`, a route or a provider name (its default model). The rules:
- Each candidate receives the common fields. `provider_params` go only to candidates of the
  primary's provider: another provider's parameters mean nothing to it, so they are dropped.
- Each candidate's task drops the OpenAI defaults its model cannot honour ("not given"; see
  `providers/capabilities.py`), then is validated.
- Every candidate is validated before anything is called or spent. A fallback the client named
  that cannot take the request is a 400 naming `fallbacks[i]`: the list is the client's own.
  A route's model that cannot take it is skipped (a route is shared and generic); when none
  of a route's models can, the first one's error is the answer.
- The same provider/model twice is tried once. Fallbacks the key may not use are skipped
  (the primary is left to admission, which says why).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from image_gateway.access.auth import Client
from image_gateway.errors import CallerError, GatewayError, InvalidRequest, NotFound
from image_gateway.generation.routes import Route
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec, drop_defaults
from image_gateway.providers.registry import canonical
from image_gateway.resilience.runner import Candidate
from image_gateway.schemas import GenerationBody, ImageTask
from image_gateway.settings import Settings

Target = tuple[Provider, ModelSpec]
MAX_REMEMBERED = 1024  # resolved (provider, model) names


@dataclass(slots=True)
class Plan:
    candidates: list[Candidate]
    route: str | None = None  # the route the primary came from, if any


class Resolver:
    def __init__(
        self,
        settings: Settings,
        providers: Mapping[str, Provider],
        routes: dict[str, Route] | None = None,
    ) -> None:
        self.settings = settings
        self.providers = providers
        self.routes = routes or {}
        self._resolved: dict[tuple[str | None, str | None], Target] = {}

    def provider(self, name: str) -> Provider:
        found = self.providers.get(canonical(name))
        if found is None:
            raise NotFound(
                f"unknown provider {name!r}; known: {', '.join(self.providers)}",
                param="provider",
                code="provider_not_found",
            )
        return found

    def resolve(self, provider_name: str | None, model: str | None) -> Target:
        """Provider from `provider`, or from `model` as `provider/model`, as a provider name
        (that provider's default model) or as a bare model id that one provider owns; otherwise
        the default provider and its default model.

        Answers depend on nothing but the two names (providers and settings are fixed once the
        app is made), so they are remembered; a bounded number, as model ids are open-ended."""
        key = (provider_name, model)
        found = self._resolved.get(key)
        if found is None:
            found = self._resolve(provider_name, model)
            if len(self._resolved) >= MAX_REMEMBERED:
                self._resolved.clear()
            self._resolved[key] = found
        return found

    def _resolve(self, provider_name: str | None, model: str | None) -> Target:
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
        elif model and canonical(model) in self.providers:
            named = self.provider(model)  # a provider name: its default model
            if provider is not None and named is not provider:
                raise InvalidRequest(
                    f"model {model!r} names another provider than {provider.name!r}",
                    param="model",
                )
            provider, model = named, None
        if provider is None and model:
            # In registry order, up to the first configured owner: what `next` below picks
            # (the adapters after it are not made: `providers/adapters.py`).
            owners: list[Provider] = []
            for candidate in self.providers.values():
                if candidate.owns(model):
                    owners.append(candidate)
                    if candidate.configured:
                        break
            if not owners:
                raise NotFound(
                    f"unknown model {model!r}; see GET /v1/models",
                    param="model",
                    code="model_not_found",
                )
            # A bare id two providers offer (`flux-kontext-pro`: BFL and Fireworks) goes to the
            # first configured one in registry order, else to the first (its 503 names its key).
            provider = next((p for p in owners if p.configured), owners[0])
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

    def target(self, entry: str) -> Target:
        """A route or fallback entry, named as `model` may be (not a route: routes do not nest)."""
        return self.resolve(None, entry)

    def shadowed(self, name: str) -> str | None:
        """Why `name` cannot be a route name (it already means a provider or a model)."""
        if canonical(name) in self.providers:
            return "a route name cannot be a provider name"
        owner = next((p.name for p in self.providers.values() if p.owns(name)), None)
        if owner is not None:
            return f"a route name cannot be a model id ({owner} offers {name!r})"
        return None

    def plan(self, body: GenerationBody, template: ImageTask, client: Client) -> Plan:
        """The ordered, validated candidates for this request."""
        route = self.routes.get(body.model) if body.model else None
        if route is not None:
            if body.provider:
                raise InvalidRequest(
                    f"model {body.model!r} is a route, which chooses its own providers; "
                    "drop provider",
                    param="provider",
                )
            primary = [self.target(t) for t in route.targets]
        else:
            primary = [self.resolve(body.provider, body.model)]
        owner = primary[0][0].name  # the provider `provider_params` were written for
        build = _Builder(template, owner, client)
        try:
            build.group(primary, strict=route is None, where=None)
            for index, entry in enumerate(body.fallbacks):
                where = f"fallbacks[{index}]"
                fallback = self.routes.get(entry)
                try:
                    targets = (
                        [self.target(t) for t in fallback.targets]
                        if fallback
                        else [self.target(entry)]
                    )
                except NotFound as exc:
                    raise NotFound(f"{where}: {exc.message}", param=where, code=exc.code) from None
                build.group(targets, strict=fallback is None, where=where)
        except GatewayError as exc:
            exc.attribute(owner, primary[0][1].id)  # the access log names what was asked for
            raise
        return Plan(build.candidates, route.name if route is not None else None)


class _Builder:
    def __init__(self, template: ImageTask, owner: str, client: Client) -> None:
        self.template = template
        self.owner = owner
        self.client = client
        self.candidates: list[Candidate] = []
        self.seen: set[tuple[str, str]] = set()

    def group(self, targets: list[Target], *, strict: bool, where: str | None) -> None:
        """Add the targets of one entry. `strict`: one target, whose refusal is the answer."""
        first_error: CallerError | None = None
        added = 0
        for provider, spec in targets:
            key = (provider.name, spec.id)
            if key in self.seen:
                added += 1  # already a candidate: the entry is served
                continue
            if self.candidates and not self.client.policy.allows(*key):
                continue
            params = self.template.params if provider.name == self.owner else {}
            task = replace(
                self.template, provider=provider.name, model=spec.id, params=dict(params)
            )
            # The one place OpenAI's defaults are applied: per candidate, as what a model cannot
            # honour differs (`quality: "auto"` goes to GPT image models, not to FLUX).
            drop_defaults(task, spec)
            try:
                provider.normalize(task, spec)
                provider.validate(task, spec)
            except CallerError as exc:
                if strict:
                    raise _named(exc, where) from None
                first_error = first_error or exc
                continue
            self.seen.add(key)
            self.candidates.append(Candidate(provider, spec, task))
            added += 1
        if not added and first_error is not None:
            raise _named(first_error, where) from None


def _named(exc: CallerError, where: str | None) -> CallerError:
    """A candidate's refusal, naming the fallback entry it came from."""
    if where is None:
        return exc
    detail = f"{exc.param}: " if exc.param else ""
    return InvalidRequest(
        f"{where} cannot take this request: {detail}{exc.message}",
        param=where,
        code=exc.code,
    )
