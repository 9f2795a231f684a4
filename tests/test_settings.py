"""Configuration: bad values stop start-up naming the variable; secrets never in repr."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from image_gateway.settings import ConfigurationError, Settings, load_settings


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OPENAI_BASE_URL", "ftp://example.com"),
        ("OPENAI_BASE_URL", "http://host:99999/v1"),
        ("OPENAI_BASE_URL", "https://api.x:abc/v1"),
        ("OPENAI_BASE_URL", "http://[::1"),
        ("BFL_FLUX_BASE_URL", "https:///v1"),
        ("BFL_FLUX_BASE_URL", "https://:443"),
        ("BFL_BASE_URL", "https://user:pw@api.bfl.ai"),
        ("BFL_POLL_TIMEOUT_SECONDS", "soon"),
        ("UPSTREAM_CONNECT_TIMEOUT_SECONDS", "-1"),
        ("DEFAULT_PROVIDER", "nope"),
        ("GATEWAY_API_KEYS", "short"),
        ("LOG_LEVEL", "LOUD"),
        ("UPSTREAM_PROXY", "socks5://egress:s3cret-pw@proxy.internal:1080"),
        ("UPSTREAM_PROXY", "http://egress:s3cret-pw@proxy.internal:3128/path"),
        ("UPSTREAM_PROXY", "http://egress:s3cret-pw@proxy.internal:port"),
        ("UPSTREAM_CA_BUNDLE", "/no/such/ca-bundle.pem"),
        ("UPSTREAM_CA_BUNDLE", "/etc/hostname"),
        ("UPSTREAM_HAPPY_EYEBALLS_DELAY_SECONDS", "-1"),
        ("UPSTREAM_DNS_CACHE_SECONDS", "1.5"),
    ],
)
def test_bad_value_names_the_variable(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert name in str(err.value)
    assert value not in str(err.value) or len(value) < 6 or name == "UPSTREAM_CA_BUNDLE"
    assert "s3cret" not in str(err.value)


def test_env_parsing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GATEWAY_API_KEYS", " key-one-123 ,key-two-456,")
    monkeypatch.setenv("BFL_BASE_URL", "https://api.eu.bfl.ai/")
    monkeypatch.setenv("BFL_TRUSTED_HOSTS", "BFL.AI, .example.org")
    settings = load_settings()
    assert [k.get_secret_value() for k in settings.gateway_api_keys] == [
        "key-one-123",
        "key-two-456",
    ]
    assert settings.bfl_flux_base_url == "https://api.eu.bfl.ai"
    assert settings.bfl_flux_trusted_hosts == ["bfl.ai", "example.org"]


def test_secrets_stay_out_of_repr() -> None:
    settings = Settings(
        _env_file=None,
        openai_api_key="sk-canary-repr-123456",  # type: ignore[call-arg]
        bfl_api_key="bfl-canary-repr-654321",
        gateway_api_keys=["client-canary-repr-999"],
    )
    text = repr(settings) + str(settings) + str(settings.model_dump())
    for secret in ("sk-canary-repr-123456", "bfl-canary-repr-654321", "client-canary-repr-999"):
        assert secret not in text


def test_uvicorn_entry_point_refuses_bad_config_with_a_message() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import main"],
        env={"OPENAI_BASE_URL": "not-a-url", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode != 0
    assert "OPENAI_BASE_URL" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_empty_values_mean_unset(monkeypatch: pytest.MonkeyPatch) -> None:
    names = ("OPENAI_API_KEY", "BFL_API_KEY", "ADMIN_API_KEY", "REDIS_URL", "PUBLIC_BASE_URL")
    for name in (*names, "UPSTREAM_PROXY", "UPSTREAM_CA_BUNDLE"):
        monkeypatch.setenv(name, "")
    settings = load_settings()
    assert settings.openai_api_key is None and settings.bfl_flux_api_key is None
    assert settings.admin_api_key is None and settings.redis_url is None
    assert settings.public_base_url is None
    assert settings.upstream_proxy is None and settings.upstream_ca_bundle is None


def test_the_upstream_proxy_is_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTREAM_PROXY", " http://egress:s3cret-pw@proxy.internal:3128 ")
    settings = load_settings()
    assert settings.upstream_proxy is not None
    assert (
        settings.upstream_proxy.get_secret_value() == "http://egress:s3cret-pw@proxy.internal:3128"
    )
    assert "s3cret" not in repr(settings) + str(settings.model_dump())


def test_env_example_lists_every_setting_and_loads_as_is() -> None:
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / ".env.example"
    text = example.read_text()
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in text]
    assert not missing
    settings = Settings(_env_file=example)  # type: ignore[call-arg]
    assert settings.openai_api_key is None and settings.bfl_flux_api_key is None
    assert settings.development_mode


def test_an_empty_provider_variable_does_not_hide_its_other_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`.env.example` copied to `.env` has `BFL_FLUX_API_KEY=`; the operator adds BFL's own
    `BFL_API_KEY=...`: that key is used, in the environment and in a `.env` file alike."""
    monkeypatch.setenv("BFL_FLUX_API_KEY", "")
    monkeypatch.setenv("BFL_API_KEY", "bfl_from_env")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.bfl_flux_api_key.get_secret_value() == "bfl_from_env"
    monkeypatch.delenv("BFL_FLUX_API_KEY")
    monkeypatch.delenv("BFL_API_KEY")
    env = tmp_path / ".env"
    env.write_text(
        "BFL_FLUX_API_KEY=\nBFL_API_KEY=bfl_from_file\nBFL_FLUX_BASE_URL=\n"
        "BFL_BASE_URL=https://api.eu.bfl.ai\nBFL_FLUX_TRUSTED_HOSTS=\nBFL_TRUSTED_HOSTS=bfl.ai\n"
    )
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.bfl_flux_api_key.get_secret_value() == "bfl_from_file"
    assert settings.bfl_flux_base_url == "https://api.eu.bfl.ai"
    assert settings.bfl_flux_trusted_hosts == ["bfl.ai"]


def test_an_empty_provider_variable_means_its_default(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "OPENAI_BASE_URL",
        "BFL_FLUX_BASE_URL",
        "BFL_TRUSTED_HOSTS",
        "OPENAI_TIMEOUT_SECONDS",
    ):
        monkeypatch.setenv(name, " ")
    settings = load_settings()
    assert settings.openai_base_url == "https://api.openai.com/v1"
    assert settings.bfl_flux_base_url == "https://api.bfl.ai"
    assert "bfl.ai" in settings.bfl_flux_trusted_hosts
    assert settings.openai_timeout_seconds is None


def test_the_environment_wins_over_dotenv_whatever_the_name(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    env = tmp_path / ".env"
    env.write_text("BFL_FLUX_API_KEY=bfl_from_file\n")
    monkeypatch.setenv("BFL_API_KEY", "bfl_from_env")
    settings = Settings(_env_file=env)  # type: ignore[call-arg]
    assert settings.bfl_flux_api_key.get_secret_value() == "bfl_from_env"


def test_a_provider_setting_cannot_replace_a_gateway_setting() -> None:
    """A provider named `webhook` would take WEBHOOK_TIMEOUT_SECONDS: refused at import."""
    from image_gateway.providers.kit.config import ProviderConfig, flat_fields
    from image_gateway.providers.kit.definition import ProviderDefinition
    from image_gateway.settings import _own_names_kept

    webhook = ProviderDefinition("webhook", "Webhook", ProviderConfig, "x:Y")
    with pytest.raises(TypeError, match="WEBHOOK_TIMEOUT_SECONDS"):
        _own_names_kept(flat_fields(webhook))
    acme = ProviderDefinition("acme", "Acme", ProviderConfig, "x:Y")
    assert _own_names_kept(flat_fields(acme))
