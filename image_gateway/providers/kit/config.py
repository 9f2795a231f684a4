"""What a provider declares about its settings: a `ProviderConfig` subclass, flattened into the
one `Settings` object under the provider's prefix, and read back as a typed view.

A provider's folder declares its settings as a pydantic model of unprefixed fields:

    class BFLConfig(PollingConfig):
        base_url: BaseUrl = "https://api.bfl.ai"
        default_model: str = "flux-pro-1.1"

`flat_fields(definition)` turns each field `f` into a `Settings` field `<prefix>_f` read from
the environment (and `.env`) as `<PREFIX>_F`, where PREFIX is the provider's name upper-cased
with `-` as `_` (`bfl-flux` -> `BFL_FLUX_API_KEY`), also under each of the definition's
`env_aliases` prefixes (`BFL_API_KEY`) and, for `api_key`, under the variables the provider's
own SDK reads (`FAL_KEY`, `REPLICATE_API_TOKEN`). So `.env.example`, start-up validation (each
error names the variable) and `Settings(...)` in tests stay one object.

Field validators go on the field's type (`Annotated[..., AfterValidator(...)]`, as `BaseUrl`
and `ApiKey` do): they travel with the field; a class-level validator would not.
`view(settings, definition)` builds the provider's typed config from the flat fields.

This module and each provider's `config.py` are declarations: they import only pydantic and
each other, so `settings.py` can merge them without importing any adapter.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SecretStr,
)
from pydantic.fields import FieldInfo
from pydantic_settings import NoDecode

if TYPE_CHECKING:
    from image_gateway.providers.kit.definition import ProviderDefinition


def empty_is_none(value: object) -> object:
    """`OPENAI_API_KEY=` (as in a copied .env.example) means "not set", not an empty key."""
    return None if isinstance(value, str) and not value.strip() else value


def check_base_url(value: str) -> str:
    """An http(s) base URL with a host (and a port 1-65535 if any), without a trailing slash,
    query, fragment or credentials; the scheme and host as lowercase. ValueError says what is
    wrong (start-up names the variable)."""
    value = value.strip().rstrip("/")
    try:
        parts = urlsplit(value)
    except ValueError:  # "Invalid IPv6 URL"
        raise ValueError("must be an http:// or https:// URL") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        raise ValueError("must be an http:// or https:// URL")
    if any(c in value for c in "#?@ \t\r\n") or parts.query or parts.fragment:
        raise ValueError("must be a plain base URL without query, fragment or credentials")
    try:
        port = parts.port
    except ValueError:
        raise ValueError("must have a port between 1 and 65535") from None
    if not parts.hostname or port == 0:
        raise ValueError("must name a host (and a port between 1 and 65535)")
    return parts._replace(scheme=parts.scheme.lower(), netloc=parts.netloc.lower()).geturl()


def split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def check_origins(value: list[str]) -> list[str]:
    """Each entry a `scheme://host[:port]` origin or a bare host suffix (`upstream/origins.py`),
    written back in its normal form."""
    from image_gateway.upstream.origins import parse_entry

    return [str(parse_entry(entry)) for entry in value]


ApiKey = Annotated[SecretStr | None, BeforeValidator(empty_is_none)]
BaseUrl = Annotated[str, AfterValidator(check_base_url)]
CommaList = Annotated[list[str], NoDecode, BeforeValidator(split_commas)]
TrustedOrigins = Annotated[
    list[str], NoDecode, BeforeValidator(split_commas), AfterValidator(check_origins)
]


class ProviderConfig(BaseModel):
    """Settings every provider has. `api_key` None = not configured (the provider is listed,
    a request to it is a 503 `provider_not_configured` naming the variable)."""

    model_config = ConfigDict(defer_build=True)

    api_key: ApiKey = None
    base_url: BaseUrl = "http://127.0.0.1"  # each provider declares its real API's base URL
    default_model: str = ""
    # Longest wait (seconds) for the answer to a paid call (a submission); None = as long as
    # the request's deadline (REQUEST_DEADLINE_SECONDS) allows. Polls and downloads keep the
    # upstream client's short read timeout (UPSTREAM_READ_TIMEOUT_SECONDS).
    timeout_seconds: Annotated[float | None, BeforeValidator(empty_is_none)] = Field(
        None, gt=0, le=3600
    )


class KeylessConfig(BaseModel):
    """Settings of a provider that calls nobody (`local`)."""

    model_config = ConfigDict(defer_build=True)

    default_model: str = ""


class PollingConfig(ProviderConfig):
    """Submit-and-poll providers (`kit/polling.py`): the poll interval starts at
    `poll_initial_seconds`, grows by half each poll up to `poll_max_interval_seconds` (longer
    when the provider asks, up to 5 times that), and a task still unfinished after
    `poll_timeout_seconds` is a timeout. Origins besides `base_url`'s that may receive the key
    (a returned polling URL) and serve results: `trusted_hosts` (`upstream/origins.py` syntax:
    `scheme://host[:port]`, or a bare host suffix meaning https on 443)."""

    trusted_hosts: TrustedOrigins = Field(default_factory=list)
    poll_initial_seconds: float = Field(0.5, gt=0, le=60)
    poll_max_interval_seconds: float = Field(2.0, gt=0, le=60)
    poll_timeout_seconds: float = Field(300.0, gt=0, le=3600)


def flat_fields(definition: ProviderDefinition) -> dict[str, tuple[Any, FieldInfo]]:
    """The definition's config fields as `Settings` fields (`pydantic.create_model` form)."""
    fields: dict[str, tuple[Any, FieldInfo]] = {}
    for name, info in definition.config.model_fields.items():
        names = [variable.lower() for variable in definition.variables(name)]
        merged = FieldInfo.merge_field_infos(info, validation_alias=AliasChoices(*names))
        fields[f"{definition.prefix}_{name}"] = (info.annotation, merged)
    return fields


def view(settings: object, definition: ProviderDefinition) -> Any:
    """The provider's typed config, read from the merged settings (already validated)."""
    values = {
        name: getattr(settings, f"{definition.prefix}_{name}")
        for name in definition.config.model_fields
    }
    return definition.config.model_construct(**values)
