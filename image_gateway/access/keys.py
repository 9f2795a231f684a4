"""Gateway keys as data: what a new key may carry (`NewKey`), its check against the provider
catalogue, and minting a key's text. Shared by the admin API and the CLI; the database side
is `access/key_store.py`.

A key is `igw_` + 43 random URL-safe characters (256 bits). Only its SHA-256 and the first 8
characters (for recognising it in a list) are stored; the text is shown once, at creation.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field, field_validator

from image_gateway.access.auth import SCOPES, hash_key
from image_gateway.errors import InvalidRequest
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.registry import canonical
from image_gateway.validation import validate_object

KEY_PREFIX = "igw_"
DISPLAY_CHARS = 8
KEY_ID_RE = re.compile(r"^key_[0-9a-f]{16}$")
_NAME_RE = re.compile(r"^[^\x00-\x1f\x7f]{1,100}$")
MAX_LIST = 100


class NewKey(BaseModel):
    """`POST /v1/admin/keys` body (and what `image-gateway keys create` builds)."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    scopes: list[str] = Field(default_factory=lambda: list(SCOPES), min_length=1)
    allowed_providers: list[str] | None = Field(None, max_length=MAX_LIST)
    allowed_models: list[str] | None = Field(None, max_length=MAX_LIST)
    requests_per_minute: int | None = Field(None, ge=1, le=1_000_000)
    max_concurrent: int | None = Field(None, ge=1, le=100_000)
    monthly_budget_usd: float | None = Field(None, ge=0, le=1_000_000_000)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        value = value.strip()
        if not _NAME_RE.match(value):
            raise ValueError("must be 1-100 printable characters")
        return value

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, value: list[str]) -> list[str]:
        unknown = [s for s in value if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope; scopes are {', '.join(SCOPES)}")
        return sorted(set(value), key=SCOPES.index)


def parse_new_key(raw: object) -> NewKey:
    return validate_object(NewKey, raw)


def check_catalogue(new: NewKey, providers: Mapping[str, Provider]) -> NewKey:
    """Canonical provider names, and every model a real `provider/model`; 400 otherwise."""
    allowed_providers = None
    if new.allowed_providers is not None:
        allowed_providers = sorted(
            {_provider(name, providers, "allowed_providers") for name in new.allowed_providers}
        )
    allowed_models = None
    if new.allowed_models is not None:
        found = set()
        for item in new.allowed_models:
            prefix, slash, model = item.partition("/")
            if not slash or not model:
                raise InvalidRequest(
                    f"allowed_models: {item[:100]!r} is not a 'provider/model' id",
                    param="allowed_models",
                )
            name = _provider(prefix, providers, "allowed_models")
            spec = providers[name].model(model)
            if spec is None:
                raise InvalidRequest(
                    f"allowed_models: {name} offers no model {model[:100]!r}",
                    param="allowed_models",
                )
            found.add(f"{name}/{spec.id}")
        allowed_models = sorted(found)
    return new.model_copy(
        update={"allowed_providers": allowed_providers, "allowed_models": allowed_models}
    )


def _provider(name: str, providers: Mapping[str, Provider], field: str) -> str:
    own = canonical(name)  # the same aliases the dispatcher accepts
    if own not in providers:
        raise InvalidRequest(
            f"{field}: unknown provider {name[:64]!r}; known: {', '.join(providers)}",
            param=field,
        )
    return own


def mint_key() -> tuple[str, str, str]:
    """A new key: (text, display prefix, stored hash)."""
    text = KEY_PREFIX + secrets.token_urlsafe(32)
    return text, text[:DISPLAY_CHARS], hash_key(text)


def new_key_id() -> str:
    return f"key_{secrets.token_hex(8)}"
