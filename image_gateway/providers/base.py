"""The interface every provider adapter implements.

An adapter declares its name, its models and what each accepts (`ModelSpec`, in
`capabilities.py`, which also holds the one check of the common fields), validates a
task against a model before any money is spent (`validate`, pure), loads what the task refers
to once per request (`prepare`: input images named by URL, through the SSRF-guarded fetcher),
and performs one upstream call (`generate`, producing up to `ModelSpec.images_per_call`
images). Editing is a capability a model declares (`ModelSpec.edits`); the task then carries
input images. Fan-out for `n`, image storage and (later) retries live in the dispatcher, never
here: a generation costs money.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import Any, ClassVar

from image_gateway.errors import InvalidRequest
from image_gateway.fetch import ImageFetcher
from image_gateway.providers.capabilities import ModelSpec, check_fields
from image_gateway.providers.journal import NO_JOURNAL, CallJournal
from image_gateway.schemas import ImageTask, ProviderResult
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient


class Provider(ABC):
    name: ClassVar[str]
    label: ClassVar[str]
    default_model_setting: ClassVar[str]  # name of the Settings field holding the default

    def __init__(
        self, settings: Settings, http: UpstreamClient, fetcher: ImageFetcher | None = None
    ) -> None:
        self.settings = settings
        self.http = http
        # Downloads images that requests name by URL (behind the SSRF guard); never `http`.
        self.fetcher = fetcher

    @property
    @abstractmethod
    def configured(self) -> bool: ...

    @abstractmethod
    def catalogue(self) -> dict[str, ModelSpec]: ...

    @property
    def submit_read_timeout(self) -> float:
        """The read timeout (seconds) of a call the provider may charge for (a submission): the
        request's deadline, which the dispatcher enforces around `generate`. A generation can be
        silent for minutes; cutting it sooner would not stop the provider working (or charging),
        only leave the outcome unknown. Polls and downloads keep the client's short one."""
        return self.settings.request_deadline_seconds

    @property
    def default_model(self) -> str:
        return str(getattr(self.settings, self.default_model_setting))

    def model(self, model_id: str) -> ModelSpec | None:
        """The spec for `model_id`, or None when this provider does not offer it."""
        return self.catalogue().get(model_id)

    def owns(self, model_id: str) -> bool:
        """Whether a bare model id (no `provider/` prefix) belongs to this provider."""
        return model_id in self.catalogue()

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """Refuse, before anything is spent, what the model cannot do. Adapters extend this."""
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
                f"{spec.id} takes at most {spec.max_input_images} input images", param="image"
            )
        check_fields(task, spec)

    async def prepare(self, task: ImageTask, spec: ModelSpec) -> None:
        """Once per request, after `validate` and before anything is spent or fanned out:
        load what the task refers to (input images named by URL). Adapters extend this."""
        return None

    @abstractmethod
    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        """One upstream generation (or edit, for providers that take input images here)."""


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
