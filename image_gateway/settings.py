"""All configuration, read once from the environment and `.env` (pydantic-settings).

Nothing reads `os.environ` elsewhere. `get_settings()` is the FastAPI dependency; tests build a
`Settings(...)` and pass it to `create_app()` instead of patching the environment.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CommaList = Annotated[list[str], NoDecode]
SecretList = Annotated[list[SecretStr], NoDecode]


class ConfigurationError(SystemExit):
    """Raised at start-up when a variable has a bad value; the message names the variable."""


def _split_commas(value: object) -> object:
    if isinstance(value, str):
        return [item.strip() for item in value.split(",") if item.strip()]
    return value


def _check_base_url(value: str) -> str:
    value = value.strip().rstrip("/")
    if not value.startswith(("http://", "https://")) or "://" == value[-3:]:
        raise ValueError("must be an http:// or https:// URL")
    if any(c in value for c in "#?@ \t\r\n"):
        raise ValueError("must be a plain base URL without query, fragment or credentials")
    return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    # Client authentication. Empty = development mode (loopback clients only, no key).
    gateway_api_keys: SecretList = Field(default_factory=list)

    openai_api_key: SecretStr | None = None
    openai_base_url: str = "https://api.openai.com/v1"
    openai_default_model: str = "gpt-image-1"

    bfl_api_key: SecretStr | None = None
    bfl_base_url: str = "https://api.bfl.ai"
    bfl_default_model: str = "flux-pro-1.1"
    # Hosts (suffix match) that may receive `x-key` when BFL hands back a polling URL, and that
    # result samples may be downloaded from. The BFL base URL's own host is always trusted.
    bfl_trusted_hosts: CommaList = Field(
        default_factory=lambda: ["bfl.ai", "bfl.ml", "bfldeliveryprod.blob.core.windows.net"]
    )
    bfl_poll_initial_seconds: float = Field(0.5, gt=0, le=60)
    bfl_poll_max_interval_seconds: float = Field(2.0, gt=0, le=60)
    bfl_poll_timeout_seconds: float = Field(300.0, gt=0, le=3600)

    default_provider: str = "local"
    local_default_model: str = "local-art"

    # Upstream HTTP: every provider call goes through one client with these limits.
    upstream_connect_timeout_seconds: float = Field(10.0, gt=0, le=300)
    upstream_read_timeout_seconds: float = Field(120.0, gt=0, le=3600)
    upstream_max_connections: int = Field(512, ge=1, le=100_000)
    upstream_max_response_bytes: int = Field(64 * 1024 * 1024, ge=1024)

    # Incoming requests.
    max_request_bytes: int = Field(64 * 1024 * 1024, ge=1024)
    max_prompt_chars: int = Field(32_000, ge=1)

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
    # --- end persistence ---

    # --- resilience (retries, fallbacks, circuit breakers, provider concurrency) ---
    # --- end resilience ---

    # --- input image fetching (SSRF guard) ---
    # --- end fetching ---

    @field_validator("gateway_api_keys", "bfl_trusted_hosts", mode="before")
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

    @field_validator("openai_base_url", "bfl_base_url")
    @classmethod
    def _base_urls(cls, value: str) -> str:
        return _check_base_url(value)

    @field_validator("public_base_url", "s3_endpoint_url", "s3_public_base_url")
    @classmethod
    def _optional_base_urls(cls, value: str | None) -> str | None:
        return _check_base_url(value) if value else None

    @model_validator(mode="after")
    def _s3_needs_a_bucket(self) -> Settings:
        if self.image_store == "s3" and not self.s3_bucket:
            raise ValueError("s3_bucket: IMAGE_STORE=s3 needs S3_BUCKET")
        return self

    @field_validator("bfl_trusted_hosts")
    @classmethod
    def _hosts_lower(cls, value: list[str]) -> list[str]:
        return [host.lower().lstrip(".") for host in value]

    @field_validator("default_provider")
    @classmethod
    def _provider_known(cls, value: str) -> str:
        from .providers.registry import PROVIDER_CLASSES

        if value not in PROVIDER_CLASSES:
            raise ValueError(f"must be one of {sorted(PROVIDER_CLASSES)}")
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


def load_settings() -> Settings:
    """Read the environment; turn a validation error into a message naming the variable."""
    try:
        return Settings()
    except ValidationError as exc:
        lines = []
        for err in exc.errors():
            name = str(err["loc"][0]).upper() if err["loc"] else "?"
            lines.append(f"  {name}: {err['msg']}")
        raise ConfigurationError(
            "image-gateway: invalid configuration\n" + "\n".join(lines)
        ) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
