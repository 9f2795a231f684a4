"""The interface every provider adapter implements.

An adapter is made from its `ProviderDefinition` (name, label, settings) and declares its
models and what each accepts (`MODELS`: `ModelSpec`s, in `capabilities.py`, which also holds
the one check of the common fields). Per candidate, before any money is spent, the gateway
calls `normalize` (fill in what the request implies: a size from an aspect ratio) and then
`validate` (pure: refuse what the model cannot do, changing nothing). Once per request,
`prepare` loads what the task refers to (input images named by URL, through the SSRF-guarded
fetcher). `generate` performs one upstream call, producing up to `ModelSpec.images_per_call`
images. Editing is a capability a model declares (`ModelSpec.edits`); the task then carries
input images. Fan-out for `n`, image storage, retries and fallbacks live in the dispatcher and
the runner, never here: a generation costs money.

The three shapes of provider API each have a base class: `sync.SyncJSONProvider`,
`sync.SyncMultipartProvider` and `polling.SubmitAndPollProvider`.
"""

from __future__ import annotations

import importlib
from abc import ABC, abstractmethod
from collections.abc import Mapping
from typing import Any, ClassVar, Generic

from pydantic import BaseModel
from typing_extensions import TypeVar

from image_gateway.errors import GatewayError, InvalidRequest, ProviderNotConfigured
from image_gateway.fetch import ImageFetcher
from image_gateway.providers.kit.capabilities import (
    ModelSpec,
    ParamSchemas,
    check_fields,
    mask_refusal,
)
from image_gateway.providers.kit.config import view
from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.kit.errors import ErrorDetail, common_error_detail, error_for_status
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal
from image_gateway.schemas import ImageTask, ProviderResult
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse

# A bare `Provider` (the code that only calls providers) means any config.
C = TypeVar("C", bound=BaseModel, default=BaseModel)


class Provider(ABC, Generic[C]):
    """One provider. Subclasses set `definition` and `models`; `config` is their typed
    settings (`definition.config`, read from the merged `Settings`)."""

    definition: ClassVar[ProviderDefinition]
    models: ClassVar[Mapping[str, ModelSpec]]
    # What each of its provider_params takes, for `/v1/providers` (`ModelSpec.card`).
    param_schemas: ClassVar[ParamSchemas] = {}

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        self.settings = settings
        self.config: C = view(settings, self.definition)
        self.http = http
        # Downloads images that requests name by URL (behind the SSRF guard); never `http`.
        self.fetcher = fetcher

    @property
    def name(self) -> str:
        return self.definition.name

    @property
    def label(self) -> str:
        return self.definition.label

    @property
    def configured(self) -> bool:
        """Whether requests can be served: the key is set (or none is needed)."""
        return getattr(self.config, "api_key", True) is not None

    def not_configured(self) -> ProviderNotConfigured:
        """The 503 for a request to this provider while its key is unset, naming the variable."""
        return ProviderNotConfigured(
            f"provider {self.name} is not configured: set {self.definition.key_variable()}",
            provider=self.name,
        )

    def api_key(self) -> str:
        """The provider's key; `not_configured()` raised when it is unset."""
        secret = getattr(self.config, "api_key", None)
        if secret is None:
            raise self.not_configured()
        return str(secret.get_secret_value())

    def auth_headers(self, key: str) -> dict[str, str]:
        """The headers of every call that carries the key: a synchronous provider's submission
        (never a download); a polling provider's submit, polls and cancel (downloads only with
        `result_needs_key`). Default `Authorization: Bearer <key>`; adapters override it
        (BFL `x-key`, fal `Key`, Gemini `x-goog-api-key`, Azure `api-key`)."""
        return {"Authorization": f"Bearer {key}"}

    def secrets(self) -> list[str]:
        """What must never appear in a message shown or logged (`redaction.provider_message`)."""
        secret = getattr(self.config, "api_key", None)
        return [secret.get_secret_value()] if secret is not None else []

    def catalogue(self) -> Mapping[str, ModelSpec]:
        return self.models

    @property
    def submit_read_timeout(self) -> float:
        """The read timeout (seconds) of a call the provider may charge for (a submission):
        `<NAME>_TIMEOUT_SECONDS`, else the request's deadline, which the dispatcher enforces
        around `generate`. A generation can be silent for minutes; cutting it sooner would not
        stop the provider working (or charging), only leave the outcome unknown. Polls and
        downloads keep the client's short one."""
        timeout = getattr(self.config, "timeout_seconds", None)
        deadline = self.settings.request_deadline_seconds
        return min(float(timeout), deadline) if timeout is not None else deadline

    @property
    def default_model(self) -> str:
        return str(getattr(self.config, "default_model", ""))

    def model(self, model_id: str) -> ModelSpec | None:
        """The spec for `model_id`, or None when this provider does not offer it."""
        return self.catalogue().get(model_id)

    def owns(self, model_id: str) -> bool:
        """Whether a bare model id (no `provider/` prefix) belongs to this provider: whether
        `model` serves it (the catalogue, plus the newer ids a provider passes through)."""
        return self.model(model_id) is not None

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        """Fill in what the request implies for this model (a size from an aspect ratio), before
        `validate`. The task is this candidate's own copy. Adapters extend this."""
        return None

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """Refuse, before anything is spent, what the model cannot do (`InvalidRequest`, 400,
        naming the field). Pure: changes nothing. Adapters extend this."""
        check_params(task.params, spec)
        if task.n > spec.max_n:
            raise InvalidRequest(f"{spec.id} makes at most {spec.max_n} images", param="n")
        if spec.sizes and task.size is not None and _size_str(task.size) not in spec.sizes:
            raise InvalidRequest(
                f"size {_size_str(task.size)} is not supported by {spec.id}; "
                f"supported: {', '.join(spec.sizes)}",
                param="size",
            )
        if task.is_edit and not spec.edits:
            raise InvalidRequest(f"{spec.id} does not support edits", param="model")
        if spec.edit_only and not task.is_edit:
            raise InvalidRequest(
                f"{spec.id} needs an input image: use POST /v1/images/edits", param="model"
            )
        if spec.max_input_images and len(task.images) > spec.max_input_images:
            raise InvalidRequest(
                f"{spec.id} takes at most {spec.max_input_images} input "
                f"image{'' if spec.max_input_images == 1 else 's'}",
                param="image",
            )
        if task.mask is not None and not spec.masks:
            raise mask_refusal(spec, self.catalogue().values())
        check_fields(task, spec)

    def error_from(self, resp: UpstreamResponse) -> GatewayError:
        """The gateway error for an error answer: the provider's own decision
        (`classify_error`), else the one status table (`kit/errors.py`)."""
        detail = self.error_detail(resp)
        decided = self.classify_error(resp, detail)
        if decided is not None:
            return decided
        return error_for_status(self.definition, resp.status, resp.headers, detail)

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        """What the provider's error body says (message made safe, code, field). Default: the
        common `{"error": {"message", "code", "param"}}`, `{"detail": ...}` and
        `{"message": ...}` shapes. Adapters override this for other shapes."""
        return common_error_detail(resp, self.name, self.secrets())

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """An error the status table would get wrong for this provider (a moderation or quota
        code on a 400 or 429), or None to let the table decide. Adapters override this."""
        return None

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """Once per request, after `validate` and before anything is spent or fanned out:
        load what the task refers to (input images named by URL). Adapters extend this."""
        return None

    @abstractmethod
    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        """One upstream generation (or edit, for providers that take input images here)."""


def adapter_class(definition: ProviderDefinition) -> type[Provider]:
    """The adapter a definition names (`"module:Class"`), imported now."""
    module_name, _, class_name = definition.adapter.partition(":")
    cls = getattr(importlib.import_module(module_name), class_name)
    if not (isinstance(cls, type) and issubclass(cls, Provider)):
        raise TypeError(f"{definition.adapter}: not a Provider subclass")
    if cls.definition is not definition:
        raise TypeError(f"{definition.adapter}: its `definition` is not {definition.name}'s")
    return cls


def check_params(params: dict[str, Any], spec: ModelSpec) -> None:
    unknown = sorted(set(params) - set(spec.params))
    if unknown:
        accepted = ", ".join(spec.params) if spec.params else "none"
        raise InvalidRequest(
            f"provider_params.{unknown[0]} is not accepted by {spec.id}; accepted: {accepted}",
            param=f"provider_params.{unknown[0]}",
            code="unknown_parameter",
        )


def _size_str(size: tuple[int, int]) -> str:
    return f"{size[0]}x{size[1]}"
