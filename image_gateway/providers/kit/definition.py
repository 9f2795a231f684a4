"""`ProviderDefinition`: everything the gateway knows about a provider before it builds one.

Each provider folder's `__init__.py` exports one `DEFINITION`; `providers/registry.py` lists
them, one line each. A definition is plain data and imports no adapter code (the adapter class
is named by its import path and loaded when a request first reaches the provider:
`providers/adapters.py`), so `settings.py` can merge the providers' settings and the access
layer can check provider names without loading aiohttp, Pillow or any provider's translation.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field

from pydantic import BaseModel

_NAME = re.compile(r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$")


@dataclass(frozen=True)
class ProviderDefinition:
    """One provider.

    - `name`: what requests say (`provider`, `model: "<name>/<model>"`), lowercase with `-`.
    - `label`: its human name in `/v1/providers`.
    - `config`: its settings model (`kit/config.py`): `ProviderConfig` or a subclass.
    - `adapter`: `"module:Class"` of its `Provider` subclass (`kit.base.adapter_class`, from
      `providers/adapters.py`).
    - `aliases`: other names requests may use for it (`flux` -> `bfl-flux`).
    - `env_aliases`: extra prefixes its variables are read under (`BFL` for `BFL_API_KEY`
      beside `BFL_FLUX_API_KEY`).
    - `key_variables`: the API-key variables the provider's own SDK reads (`FAL_KEY`).
    - `sdk_variables`: other variables its own SDK reads, by config field, read last
      (`{"base_url": ("AZURE_OPENAI_ENDPOINT",)}`: openai-python's `AzureOpenAI` reads the
      resource endpoint under that name).
    - `key_prefixes`: how the provider's credentials start (`sk-`, `bfl_`): a token starting so
      is redacted from every provider message (`kit/redaction.py`).
    """

    name: str
    label: str
    config: type[BaseModel]
    adapter: str
    aliases: tuple[str, ...] = ()
    env_aliases: tuple[str, ...] = ()
    key_variables: tuple[str, ...] = ()
    key_prefixes: tuple[str, ...] = ()
    sdk_variables: Mapping[str, tuple[str, ...]] = dataclass_field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if not _NAME.match(self.name):
            raise ValueError(f"provider name {self.name!r}: lowercase letters, digits and -")

    @property
    def prefix(self) -> str:
        """The settings prefix: `bfl-flux` -> `bfl_flux` (variables `BFL_FLUX_*`)."""
        return self.name.replace("-", "_")

    def variables(self, field: str) -> tuple[str, ...]:
        """The environment variables that set `field` of its config, the canonical one first:
        `("BFL_FLUX_API_KEY", "BFL_API_KEY")`; the SDK's own ones (`key_variables` for
        `api_key`, `sdk_variables`) last."""
        names = [f"{prefix}_{field}".upper() for prefix in (self.prefix, *self.env_aliases)]
        if field == "api_key":
            names += [name.upper() for name in self.key_variables]
        names += [name.upper() for name in self.sdk_variables.get(field, ())]
        return tuple(dict.fromkeys(names))

    def variable_text(self, field: str) -> str:
        """`variables(field)` for a message: `BFL_FLUX_API_KEY (or BFL_API_KEY)`."""
        first, *others = self.variables(field)
        return f"{first} (or {', '.join(others)})" if others else first

    def key_variable(self) -> str:
        """How an operator sets the key, for messages."""
        return self.variable_text("api_key")
