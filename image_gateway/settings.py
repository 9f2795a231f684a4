"""All configuration, read once from the environment and `.env` (pydantic-settings).

Nothing reads `os.environ` elsewhere. `load_settings()` reads them once, for `create_app()`
(routes get them as `api.deps.SettingsDep`); tests build a `Settings(...)` and pass it to
`create_app()` instead of patching the environment.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    create_model,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from image_gateway.providers.kit.config import check_base_url as _check_base_url
from image_gateway.providers.kit.config import flat_fields
from image_gateway.providers.kit.config import split_commas as _split_commas
from image_gateway.providers.registry import ALIASES, DEFINITIONS

CommaList = Annotated[list[str], NoDecode]
SecretList = Annotated[list[SecretStr], NoDecode]


class ConfigurationError(SystemExit):
    """Raised at start-up when a variable has a bad value; the message names the variable."""


class _SetNameFirst(PydanticBaseSettingsSource):
    """A provider's variable, read under several names (`BFL_FLUX_API_KEY`, else `BFL_API_KEY`):
    within one source, the first name set to a non-empty value wins, so an empty line copied
    from `.env.example` does not hide the name the operator did set; empty under every name is
    "not set" (the default: no key, the provider's own base URL). Between sources
    pydantic-settings' order holds: the environment before `.env`."""

    def __init__(self, source: PydanticBaseSettingsSource) -> None:
        super().__init__(source.settings_cls)
        self.source = source

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        return self.source.get_field_value(field, field_name)

    def __call__(self) -> dict[str, Any]:
        data = self.source()
        values: Mapping[str, str | None] = getattr(self.source, "env_vars", {})
        for info in self.settings_cls.model_fields.values():
            alias = info.validation_alias
            if not isinstance(alias, AliasChoices):
                continue
            names = [str(choice).lower() for choice in alias.choices]
            chosen = next((n for n in names if n in data), None)
            if chosen is None or str(data[chosen]).strip():
                continue
            set_name = next((n for n in names if (values.get(n) or "").strip()), None)
            del data[chosen]
            if set_name is not None:
                data[set_name] = values[set_name]
        return data


class GatewaySettings(BaseSettings):
    """The gateway's own settings; `Settings` adds every provider's (`_merged`)."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        defer_build=True,
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """pydantic-settings' order (arguments, environment, `.env`, secrets files), with
        `_SetNameFirst` around the environment and `.env`."""
        return (
            init_settings,
            _SetNameFirst(env_settings),
            _SetNameFirst(dotenv_settings),
            file_secret_settings,
        )

    # Client authentication. Empty = development mode (loopback clients only, no key).
    gateway_api_keys: SecretList = Field(default_factory=list)

    default_provider: str = "local"

    # Upstream HTTP: every provider call goes through one client with these limits. The read
    # timeout (longest silence) is for short calls — BFL polls, result downloads; a submission
    # the provider may charge for waits as long as the request's deadline allows.
    upstream_connect_timeout_seconds: float = Field(10.0, gt=0, le=300)
    upstream_read_timeout_seconds: float = Field(30.0, gt=0, le=3600)
    upstream_max_connections: int = Field(512, ge=1, le=100_000)
    upstream_max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    # Egress: every provider call through this http(s):// proxy (user:password@ in the URL is
    # sent as Proxy-Authorization); or, with UPSTREAM_TRUST_ENV, the standard HTTP_PROXY,
    # HTTPS_PROXY and NO_PROXY (and ~/.netrc), which are otherwise ignored.
    upstream_proxy: SecretStr | None = None
    upstream_trust_env: bool = False
    # PEM file of CAs trusted besides the system's (a TLS-inspecting proxy's own CA).
    upstream_ca_bundle: Path | None = None
    # Seconds before the next address of a name is tried beside a slow one (RFC 8305's
    # Happy Eyeballs); 0 = one address after another. DNS answers are kept this long (0 = not).
    upstream_happy_eyeballs_delay_seconds: float = Field(0.25, ge=0, le=10)
    upstream_dns_cache_seconds: int = Field(300, ge=0, le=86_400)

    @field_validator("upstream_proxy")
    @classmethod
    def _upstream_proxy(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        parts = urlsplit(value.get_secret_value().strip())
        try:
            parts.port  # noqa: B018 (a malformed port raises)
        except ValueError:
            raise ValueError("must be an http:// or https:// proxy URL") from None
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// proxy URL")
        if parts.path not in ("", "/") or parts.query or parts.fragment:
            raise ValueError("must be a proxy URL without path, query or fragment")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("upstream_ca_bundle", mode="before")
    @classmethod
    def _empty_path_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("upstream_ca_bundle")
    @classmethod
    def _ca_bundle(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        import ssl

        try:
            ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=value)
        except FileNotFoundError:
            raise ValueError(f"{value}: no such file") from None
        except (OSError, ssl.SSLError):
            raise ValueError(f"{value}: not a readable PEM file of CA certificates") from None
        return value

    # Incoming requests.
    max_request_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    max_prompt_chars: int = Field(32_000, ge=1)
    # A client has this long to send a request's line and headers (from connecting, or from
    # the request's first byte on a kept-alive connection): `image_gateway/server.py`.
    client_header_timeout_seconds: float = Field(10.0, gt=0, le=600)
    # ... and this long from then to send its whole body (`middleware.BodyLimitMiddleware`).
    client_body_timeout_seconds: float = Field(120.0, gt=0, le=3600)
    # A stopping gateway gives calls that departed clients left running in the background this
    # long to finish, then stops them (`jobs/departed.py`).
    shutdown_grace_seconds: float = Field(10.0, ge=0, le=3600)

    # Stored images (what `response_format: url` serves): a local folder or an S3 bucket.
    image_store: Literal["local", "s3"] = "local"
    image_store_dir: Path = Path("data/images")
    public_base_url: str | None = None
    # 0 = gateway image URLs never expire (the unguessable id is the credential); otherwise
    # they are HMAC-signed and stop working after this many seconds.
    image_url_ttl_seconds: float = Field(0.0, ge=0, le=365 * 86400)
    image_url_secret: SecretStr | None = None  # share it across instances when TTL > 0
    image_retention_hours: float = Field(0.0, ge=0)  # 0 = keep forever
    image_cleanup_interval_seconds: float = Field(600.0, gt=0)
    s3_bucket: str | None = None
    s3_prefix: str = "images/"
    s3_region: str = "us-east-1"
    s3_endpoint_url: str | None = None  # R2, MinIO or another S3-compatible server
    s3_access_key_id: str | None = None
    s3_secret_access_key: SecretStr | None = None
    s3_public_base_url: str | None = None  # a public bucket/CDN URL: links point there
    s3_presign: bool = False  # links are presigned S3 URLs (expiring after the URL TTL)

    log_level: str = "INFO"

    # --- persistence, keys and usage (store, ledger, admin) ---
    # One database for keys, budgets and the usage ledger: a SQLite file (created on start) or
    # postgresql://user:pass@host/db (postgres:// and postgresql:// are rewritten to asyncpg).
    database_url: SecretStr = SecretStr("sqlite+aiosqlite:///data/gateway.db")
    database_timeout_seconds: float = Field(5.0, gt=0, le=120)
    # Redis shares rate and concurrency limits between instances; empty = per-process limits.
    redis_url: SecretStr | None = None
    redis_key_prefix: str = Field("igw:", min_length=1, max_length=64)
    redis_timeout_seconds: float = Field(2.0, gt=0, le=60)
    # Manages keys through /v1/admin/* and sees all usage; it cannot generate images.
    admin_api_key: SecretStr | None = None
    # How long a stored key's lookup (or its absence) is cached: the revocation delay on
    # other instances (a revoke through this instance's admin API takes effect at once).
    key_cache_seconds: float = Field(5.0, ge=0, le=300)
    # Ledger rows of keys without a budget are written in batches by a background writer; when
    # the queue is full (database down) new rows are dropped and counted, never piled up.
    ledger_batch_size: int = Field(200, ge=1, le=10_000)
    ledger_flush_seconds: float = Field(1.0, gt=0, le=60)
    ledger_queue_max: int = Field(10_000, ge=1, le=1_000_000)
    # Concurrency slots and budget reservations of a crashed instance expire after this long;
    # keep it above the longest request (REQUEST_DEADLINE_SECONDS).
    limit_lease_seconds: float = Field(900.0, ge=10, le=86_400)

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: SecretStr) -> SecretStr:
        from image_gateway.db.database_url import normalize_database_url

        return SecretStr(normalize_database_url(value.get_secret_value()))

    @field_validator("redis_url")
    @classmethod
    def _redis_url(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value().strip():
            return None
        if not value.get_secret_value().startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must be a redis://, rediss:// or unix:// URL")
        return value

    @field_validator("admin_api_key")
    @classmethod
    def _admin_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        key = value.get_secret_value()
        if len(key) < 16 or key.lower() in {"changeme", "change-me", "your-key-here"}:
            raise ValueError("must be at least 16 characters and not a placeholder")
        return value

    @model_validator(mode="after")
    def _admin_key_is_not_a_client_key(self) -> GatewaySettings:
        admin = self.admin_api_key.get_secret_value() if self.admin_api_key else None
        if admin and any(k.get_secret_value() == admin for k in self.gateway_api_keys):
            raise ValueError("admin_api_key: ADMIN_API_KEY must differ from every gateway key")
        return self

    # --- end persistence ---

    # --- resilience (retries, fallbacks, circuit breakers, provider concurrency) ---
    # One deadline per request covers queue waits, every try, every backoff and BFL polling.
    request_deadline_seconds: float = Field(300.0, gt=0, le=3600)
    retry_max_attempts: int = Field(3, ge=1, le=10)  # tries per candidate, the first included
    retry_base_seconds: float = Field(0.5, ge=0, le=60)  # first backoff, doubled per retry
    retry_max_backoff_seconds: float = Field(8.0, ge=0, le=300)
    retry_max_wait_seconds: float = Field(20.0, ge=0, le=600)  # longest Retry-After waited out
    # Envoy's retry budget: retries in flight <= max(MIN, RATIO x requests in flight).
    retry_budget_ratio: float = Field(0.2, ge=0, le=1)
    retry_budget_min: int = Field(3, ge=0, le=10_000)
    circuit_failure_threshold: int = Field(5, ge=1, le=1000)  # consecutive outages to open
    circuit_cooldown_seconds: float = Field(30.0, gt=0, le=3600)  # open, then one probe
    # `provider=limit` or `provider/model=limit` pairs; a model's pool counts inside its
    # provider's. BFL: 24 active tasks per account, 6 of them for FLUX.1 Kontext [max].
    provider_concurrency: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=lambda: {"bfl-flux": 24, "bfl-flux/flux-kontext-max": 6}
    )
    provider_queue_max: int = Field(256, ge=0, le=100_000)  # waiters per pool; more get 429
    routes_file: Path | None = None  # named routes/aliases (TOML, or JSON by extension)
    metrics_enabled: bool = True
    metrics_token: SecretStr | None = None  # when set, GET /metrics needs "Bearer <token>"

    @field_validator("provider_concurrency", mode="before")
    @classmethod
    def _concurrency_pairs(cls, value: object) -> object:
        if not isinstance(value, str):
            return value
        pairs: dict[str, object] = {}
        for item in value.split(","):
            if not item.strip():
                continue
            name, sep, limit = item.partition("=")
            if not sep or not name.strip():
                raise ValueError(f"expected provider=limit pairs, got {item!r}")
            pairs[name.strip()] = limit.strip()
        return pairs

    @field_validator("provider_concurrency")
    @classmethod
    def _concurrency_known(cls, value: dict[str, int]) -> dict[str, int]:
        for name, limit in value.items():
            provider = name.split("/", 1)[0]
            if provider not in DEFINITIONS:
                raise ValueError(f"{name}: unknown provider; known: {sorted(DEFINITIONS)}")
            if not 1 <= limit <= 100_000:
                raise ValueError(f"{name}: the limit must be between 1 and 100000")
        return value

    @field_validator("routes_file", "metrics_token", mode="before")
    @classmethod
    def _empty_is_none(cls, value: object) -> object:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("metrics_token")
    @classmethod
    def _metrics_token_length(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters")
        return value

    # --- end resilience ---

    # --- input image fetching (SSRF guard) ---
    # Images given by URL (edit `image_url`, BFL `input_image*`/`image_prompt`) are downloaded
    # by the gateway, from public addresses only, under these limits (image_gateway/fetch/).
    fetch_max_bytes: int = Field(20 * 1024 * 1024, ge=1024, le=512 * 1024 * 1024)
    fetch_timeout_seconds: float = Field(15.0, gt=0, le=300)  # whole download, all redirects
    fetch_max_redirects: int = Field(5, ge=0, le=10)
    # Pillow's own decompression-bomb limit (89,478,485 pixels) is the ceiling.
    fetch_max_pixels: int = Field(50_000_000, ge=1, le=89_478_485)
    # TESTS AND LOCAL DEMOS ONLY. Exact `host:port` pairs (URL host or resolved address, IPv6
    # in brackets) fetched even though they are not public. Never set this in production.
    fetch_allow_hosts: CommaList = Field(default_factory=list)

    @field_validator("fetch_allow_hosts", mode="before")
    @classmethod
    def _fetch_allow_commas(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("fetch_allow_hosts")
    @classmethod
    def _fetch_allow_host_ports(cls, value: list[str]) -> list[str]:
        for entry in value:
            host, sep, port = entry.rpartition(":")
            if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
                raise ValueError(f"entries must be host:port, got {entry!r}")
        return [entry.lower() for entry in value]

    # --- end fetching ---

    # --- jobs (async generation, workers, webhooks, idempotency) ---
    run_workers: bool = True  # false: this instance only serves HTTP (workers run elsewhere)
    worker_concurrency: int = Field(32, ge=1, le=10_000)
    job_lease_seconds: float = Field(30.0, ge=1, le=3600)  # a dead worker's jobs resume after
    job_sweep_seconds: float = Field(5.0, gt=0, le=3600)
    job_requeue_after_seconds: float = Field(60.0, gt=0)  # re-wake a queued job after this
    job_retention_days: float = Field(30.0, ge=0)  # finished jobs are deleted after; 0 = keep
    idempotency_ttl_hours: float = Field(24.0, gt=0, le=24 * 30)
    webhook_timeout_seconds: float = Field(10.0, gt=0, le=120)
    # TESTS AND LOCAL DEMOS ONLY: exact host:port webhook targets allowed although not public.
    webhook_allow_hosts: CommaList = Field(default_factory=list)
    sse_poll_seconds: float = Field(0.5, gt=0, le=30)
    # A `stream: true` answer's keep-alive comment after this long without an event (and the
    # longest it waits before it answers 200 and starts the stream: api/streaming.py).
    stream_keepalive_seconds: float = Field(15.0, gt=0, le=300)
    # The least time between two progress writes of one running job (`jobs/activity.py`).
    job_progress_seconds: float = Field(1.0, ge=0, le=60)
    # The most progress writes a second of all of a process's running jobs (`jobs/activity.py`).
    job_progress_writes_per_second: float = Field(50.0, ge=1, le=100_000)

    @field_validator("webhook_allow_hosts", mode="before")
    @classmethod
    def _webhook_allow_commas(cls, value: object) -> object:
        return _split_commas(value)

    # --- end jobs ---

    @field_validator(
        "image_url_secret",
        "s3_secret_access_key",
        "redis_url",
        "admin_api_key",
        "metrics_token",
        "s3_bucket",
        "s3_endpoint_url",
        "s3_public_base_url",
        "public_base_url",
        mode="before",
    )
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        """`OPENAI_API_KEY=` (as in a copied .env.example) means "not set", not an empty key."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("gateway_api_keys", mode="before")
    @classmethod
    def _commas(cls, value: object) -> object:
        return _split_commas(value)

    @field_validator("gateway_api_keys")
    @classmethod
    def _no_placeholder_keys(cls, value: list[SecretStr]) -> list[SecretStr]:
        for secret in value:
            key = secret.get_secret_value()
            if len(key) < 8 or key.lower() in {"changeme", "change-me", "your-key-here"}:
                raise ValueError("each key must be at least 8 characters and not a placeholder")
        return value

    @field_validator("public_base_url", "s3_endpoint_url", "s3_public_base_url")
    @classmethod
    def _optional_base_urls(cls, value: str | None) -> str | None:
        return _check_base_url(value) if value else None

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> GatewaySettings:
        if self.image_store == "s3" and not self.s3_bucket:
            raise ValueError("s3_bucket: IMAGE_STORE=s3 needs S3_BUCKET")
        return self

    @field_validator("default_provider")
    @classmethod
    def _provider_known(cls, value: str) -> str:
        value = ALIASES.get(value, value)
        if value not in DEFINITIONS:
            raise ValueError(f"must be one of {sorted(DEFINITIONS)}")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        value = value.upper()
        if value not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
            raise ValueError("must be DEBUG, INFO, WARNING or ERROR")
        return value

    @property
    def development_mode(self) -> bool:
        return not self.gateway_api_keys


def _merged() -> type[GatewaySettings]:
    """`GatewaySettings` plus each registered provider's settings, flattened under its prefix
    (`providers/kit/config.py`): one object, one `.env.example`, one start-up validation."""
    fields: dict[str, Any] = {}
    for definition in DEFINITIONS.values():
        fields |= flat_fields(definition)
    return create_model(
        "Settings", __base__=GatewaySettings, __module__=__name__, **_own_names_kept(fields)
    )


def _own_names_kept(fields: dict[str, Any]) -> dict[str, Any]:
    """`fields`, refused (at import) when one would replace, or be read as, a gateway setting:
    a provider named `webhook` would take `WEBHOOK_TIMEOUT_SECONDS` (`registry.checked` already
    refuses providers that collide with each other)."""
    own = {name.upper() for name in GatewaySettings.model_fields}
    for name, (_, info) in fields.items():
        names = {str(choice).upper() for choice in getattr(info.validation_alias, "choices", ())}
        taken = sorted(({name.upper()} | names) & own)
        if taken:
            raise TypeError(f"provider setting {name} would replace the gateway's {taken[0]}")
    return fields


if TYPE_CHECKING:
    # The gateway's own code reads only its own fields here; a provider reads its settings
    # through its typed config (`Provider.config`).
    Settings = GatewaySettings
else:
    Settings = _merged()


def load_settings() -> Settings:
    """Read the environment; turn a validation error into a message naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = _variables(str(err["loc"][0])) if err["loc"] else "?"
            lines.append(f"  {name}: {err['msg']}")
        raise ConfigurationError(
            "image-gateway: invalid configuration\n" + "\n".join(lines)
        ) from None


def _variables(name: str) -> str:
    """The variable(s) that set a field: `BFL_FLUX_BASE_URL (or BFL_BASE_URL)`."""
    for definition in DEFINITIONS.values():
        for field in definition.config.model_fields:
            if name.upper() in definition.variables(field):
                return definition.variable_text(field)
    return name.upper()
