"""What a model declares it honours (`ModelSpec`), and the one check of the common fields
against those declarations, used by every provider.

Two steps, in this order, for every candidate (`candidates.Resolver`), before anything is spent:
1. `drop_defaults`: a field sent with OpenAI's documented default (`schemas.OPENAI_DEFAULTS`,
   e.g. `quality: "auto"`, `style: "vivid"`, `output_compression: 100`) that the model cannot
   honour as given means "not given" and is cleared. The official SDKs and many clients send
   defaults explicitly; a model without the feature then behaves as if it had been left out.
2. `check_fields` (from `Provider.validate`): any value still set that the model cannot honour
   is an `InvalidRequest` (400) naming the field: `unsupported_parameter` when the model lacks
   the feature, `invalid_value` when it lacks that value.

A field a model does not declare is refused, never silently dropped: `/v1/providers` shows the
same declarations (`ModelSpec.card`), so what it lists is what is accepted.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from image_gateway.errors import InvalidRequest
from image_gateway.schemas import OPENAI_DEFAULTS, ImageTask

# What a provider_param takes, as a JSON Schema fragment (`type`, `enum`, `minimum`, `maximum`,
# `items`, `description`), keyed by the provider's own name for it. A name a provider declares
# no schema for is shown as `{}` (any JSON value): the provider checks it.
ParamSchemas = Mapping[str, Mapping[str, Any]]
IMAGE_PARAM = {
    "type": "string",
    "contentMediaType": "image/*",
    "description": "an input image: an http(s) URL, a data: URL or base64",
}

COMPRESSED_FORMATS = ("jpeg", "webp")  # output_compression applies to these
TRANSPARENT_FORMATS = ("png", "webp")  # background: transparent needs one of these


@dataclass(frozen=True)
class ModelSpec:
    """One model and what it accepts. Every common field is declared here, so one check
    (`check_fields`) serves every provider; an empty tuple or False means "not offered". What
    only one provider needs (its endpoint, how sizes reach it) goes in a typed subclass in its
    folder (`bfl.models.BFLModel`, `openai.models.OpenAIModel`)."""

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
    # Takes `mask` with an edit: the area to change (OpenAI's form, transparent = change; each
    # adapter converts it). Without it a mask is refused (`mask_refusal`), never dropped unread.
    masks: bool = False
    params: tuple[str, ...] = ()  # provider_params this model accepts
    qualities: tuple[str, ...] = ()
    styles: tuple[str, ...] = ()
    backgrounds: tuple[str, ...] = ()  # "transparent" only with TRANSPARENT_FORMATS
    moderations: tuple[str, ...] = ()
    input_fidelities: tuple[str, ...] = ()  # edits only
    seed: bool = False
    negative_prompt: bool = False
    output_compression: bool = False  # 0-100, with COMPRESSED_FORMATS only
    output_formats: tuple[str, ...] = ("png", "jpeg", "webp")
    default_output_format: str = "png"
    default_response_format: str = "b64_json"
    # What the provider makes when a request leaves size/quality out (its documented default),
    # so the gateway prices what was made; None when the model decides per request (`auto`).
    default_size: str | None = None
    default_quality: str | None = None
    # Streams its images as they are drawn (`stream: true` upstream, OpenAI's image events):
    # `partial_images` previews reach a streaming client (kit/sync.py). Every model answers
    # `stream: true`; one without this sends its images when they are done.
    streams: bool = False

    def card(self, param_schemas: ParamSchemas | None = None) -> dict[str, Any]:
        """This model in `/v1/providers`: every declaration, so a client can see what a
        request to it may carry. `provider_params` lists the names it takes and
        `provider_params_schema` what each takes (`param_schemas`, the provider's
        `Provider.param_schemas`; `{}` where the provider declares none), so a form can be
        built from the card."""
        schemas = param_schemas or {}
        card: dict[str, Any] = {
            "id": self.id,
            "description": self.description,
            "sizes": list(self.sizes) or self.size_rule,
            "aspect_ratio": self.aspect_ratios,
            "n": {"max": self.max_n, "per_upstream_call": self.images_per_call},
            "edits": self.edits,
            "mask": self.masks,
            "output_formats": list(self.output_formats),
            "quality": list(self.qualities),
            "style": list(self.styles),
            "background": list(self.backgrounds),
            "moderation": list(self.moderations),
            "input_fidelity": list(self.input_fidelities),
            "seed": self.seed,
            "negative_prompt": self.negative_prompt,
            "output_compression": self.output_compression,
            "streams": self.streams,
            "provider_params": list(self.params),
            "provider_params_schema": {name: dict(schemas.get(name, {})) for name in self.params},
        }
        if self.edit_only:
            card["requires_input_image"] = True
        return card


# The fields `check_fields` looks at, in order: output_format first, as output_compression and
# background depend on the format the model will produce.
CHOICES = ("output_format", "quality", "style", "background", "moderation", "input_fidelity")
FLAGS = ("output_compression", "seed", "negative_prompt", "aspect_ratio")


def output_format(task: ImageTask, spec: ModelSpec) -> str:
    """The format the model will produce for this task."""
    return task.output_format or spec.default_output_format


def refusal(task: ImageTask, spec: ModelSpec, name: str) -> InvalidRequest | None:
    """Why `spec` cannot honour the task's field `name` as given; None when it can (or when
    the field is not set)."""
    value = getattr(task, name)
    if value is None:
        return None
    if name in FLAGS:
        offered = spec.aspect_ratios if name == "aspect_ratio" else getattr(spec, name)
        if not offered:
            return _unsupported(name, spec)
        if name == "output_compression" and output_format(task, spec) not in COMPRESSED_FORMATS:
            compressed = [f for f in spec.output_formats if f in COMPRESSED_FORMATS]
            if not compressed:
                return InvalidRequest(
                    f"output_compression is not supported by {spec.id}: it makes only "
                    f"{', '.join(spec.output_formats)}",
                    param=name,
                )
            return InvalidRequest(
                f"output_compression needs output_format {' or '.join(compressed)} on {spec.id}",
                param=name,
            )
        return None
    offered_values: tuple[str, ...] = getattr(spec, _DECLARATION[name])
    if not offered_values:
        return _unsupported(name, spec)
    if value not in offered_values:
        return InvalidRequest(
            f"{name} {value!r} is not supported by {spec.id}; "
            f"supported: {', '.join(offered_values)}",
            param=name,
        )
    if name == "background" and value == "transparent":
        if output_format(task, spec) not in TRANSPARENT_FORMATS:
            return InvalidRequest(
                "a transparent background needs output_format png or webp", param=name
            )
    if name == "input_fidelity" and not task.is_edit:
        return InvalidRequest("input_fidelity applies to edits only", param=name)
    return None


def mask_refusal(spec: ModelSpec, models: Iterable[ModelSpec]) -> InvalidRequest:
    """The 400 for a `mask` sent to `spec`, which takes none: naming the provider's `models`
    that do, if any (a mask would otherwise go unread by the provider, or be refused there)."""
    takers = [model.id for model in models if model.masks]
    instead = f", or use {takers[0]}" if len(takers) == 1 else ""
    if len(takers) > 1:
        instead = f", or use one of {', '.join(takers)}"
    return InvalidRequest(
        f"{spec.id} takes no mask: describe the change in the prompt{instead}",
        param="mask",
        code="unsupported_parameter",
    )


def drop_defaults(task: ImageTask, spec: ModelSpec) -> None:
    """Clear each field sent with an OpenAI documented default that `spec` cannot honour as
    given: to this model it means "not given". Values it can honour stay (and are sent)."""
    for name in CHOICES + FLAGS:
        defaults = OPENAI_DEFAULTS.get(name, ())
        if getattr(task, name) in defaults and refusal(task, spec, name) is not None:
            setattr(task, name, None)


def check_fields(task: ImageTask, spec: ModelSpec) -> None:
    """Refuse the first common field the model cannot honour (400 naming it)."""
    for name in CHOICES + FLAGS:
        problem = refusal(task, spec, name)
        if problem is not None:
            raise problem


_DECLARATION = {
    "output_format": "output_formats",
    "quality": "qualities",
    "style": "styles",
    "background": "backgrounds",
    "moderation": "moderations",
    "input_fidelity": "input_fidelities",
}


def _unsupported(name: str, spec: ModelSpec) -> InvalidRequest:
    return InvalidRequest(
        f"{name} is not supported by {spec.id}", param=name, code="unsupported_parameter"
    )
