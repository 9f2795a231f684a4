"""The interface every provider adapter implements, and the model catalogue types.

An adapter declares its name, its models and what each accepts (`ModelSpec`), validates a
task against a model before any money is spent (`validate`, pure), loads what the task refers
to once per request (`prepare`: input images named by URL, through the SSRF-guarded fetcher),
and performs one upstream call (`generate`, producing up to `ModelSpec.images_per_call`
images). Editing is a capability a model declares (`ModelSpec.edits`); the task then carries
input images. Fan-out for `n`, image storage and (later) retries live in the dispatcher, never
here: a generation costs money.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, ClassVar

from ..errors import InvalidRequest
from ..fetch import ImageFetcher
from ..http_client import UpstreamClient
from ..schemas import ImageTask, ProviderResult
from ..settings import Settings
from .journal import NO_JOURNAL, CallJournal


@dataclass(frozen=True)
class ModelSpec:
    id: str
    description: str
    size_rule: str  # human-readable summary shown in /v1/providers
    sizes: tuple[str, ...] = ()  # the closed set of "WxH" accepted, when there is one
    aspect_ratios: bool = False  # takes `aspect_ratio` (natively or translated)
    images_per_call: int = 1  # how many images one upstream call returns; n is fanned out beyond
    max_n: int = 10
    edits: bool = False
    edit_only: bool = False  # needs an input image (fill, expand)
    max_input_images: int = 0
    params: tuple[str, ...] = ()  # provider_params this model accepts
    qualities: tuple[str, ...] = ()
    output_formats: tuple[str, ...] = ("png", "jpeg", "webp")
    default_output_format: str = "png"
    default_response_format: str = "b64_json"
    extra: dict[str, Any] = field(default_factory=dict)

    def card(self) -> dict[str, Any]:
        card: dict[str, Any] = {
            "id": self.id,
            "description": self.description,
            "sizes": list(self.sizes) or self.size_rule,
            "aspect_ratio": self.aspect_ratios,
            "n": {"max": self.max_n, "per_upstream_call": self.images_per_call},
            "edits": self.edits,
            "output_formats": list(self.output_formats),
            "provider_params": list(self.params),
        }
        if self.qualities:
            card["quality"] = list(self.qualities)
        if self.edit_only:
            card["requires_input_image"] = True
        return card


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
        if spec.qualities and task.quality is not None and task.quality not in spec.qualities:
            raise InvalidRequest(
                f"quality {task.quality!r} is not supported by {spec.id}; "
                f"supported: {', '.join(spec.qualities)}",
                param="quality",
            )
        if task.output_format is not None and task.output_format not in spec.output_formats:
            raise InvalidRequest(
                f"output_format {task.output_format!r} is not supported by {spec.id}; "
                f"supported: {', '.join(spec.output_formats)}",
                param="output_format",
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
