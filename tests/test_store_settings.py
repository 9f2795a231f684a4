"""Settings of the persistence section: database URLs, Redis URL and the admin key."""

from __future__ import annotations

import pytest

from image_gateway.settings import ConfigurationError, load_settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "mysql://root:hunter2-secret@db/gateway"),
        ("DATABASE_URL", "sqlite:///:memory:"),
        ("REDIS_URL", "http://127.0.0.1:6379"),
        ("ADMIN_API_KEY", "short-admin"),
        ("ADMIN_API_KEY", "changeme"),
        ("KEY_CACHE_SECONDS", "-1"),
        ("LEDGER_QUEUE_MAX", "0"),
    ],
)
def test_bad_values_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert name in str(err.value)
    assert "hunter2" not in str(err.value)


def test_admin_key_must_differ_from_client_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_API_KEYS", "same-key-for-both-0123")
    monkeypatch.setenv("ADMIN_API_KEY", "same-key-for-both-0123")
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert "ADMIN_API_KEY" in str(err.value)


def test_urls_are_normalised_and_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgres://gw:hunter2-secret@db:5432/gateway")
    monkeypatch.setenv("REDIS_URL", "redis://:hunter2-secret@cache:6379/0")
    monkeypatch.setenv("ADMIN_API_KEY", "hunter2-secret-admin-key")
    settings = load_settings()
    assert settings.database_url.get_secret_value() == (
        "postgresql+asyncpg://gw:hunter2-secret@db:5432/gateway"
    )
    assert settings.redis_url is not None
    assert "hunter2" not in repr(settings)


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DATABASE_URL", "KEY_CACHE_SECONDS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("REDIS_URL", "")
    monkeypatch.setenv("ADMIN_API_KEY", "")
    settings = load_settings()
    assert settings.database_url.get_secret_value() == "sqlite+aiosqlite:///data/gateway.db"
    assert settings.redis_url is None and settings.admin_api_key is None
    assert settings.key_cache_seconds == 5
