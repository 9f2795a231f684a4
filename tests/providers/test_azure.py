"""The `azure` provider end to end, beyond the contract suite: the official openai SDK through
the gateway (`model="azure/<model>"`) against the Azure emulator, both surfaces and both
credentials, deployments, each of Azure's refusals (HTTP-200 ones included) and its start-up
checks. The emulator itself is checked against openai-python's `AzureOpenAI` in
`tests/emulators/test_azure_emulator.py`."""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.azure import AzureEmulator
from emulators.azure.server import DEFAULT_AD_TOKEN
from image_gateway.app import create_app
from image_gateway.settings import ConfigurationError, Settings, load_settings
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway, make_settings

AZURE_KEY = "0123456789abcdef0123456789abcdef"  # Azure keys: 32 hex characters


@pytest.fixture(scope="module")
def azure_emulator() -> Iterator[AzureEmulator]:
    with AzureEmulator(api_key=AZURE_KEY, deployments={"gpt-image-1.5": "images-prod"}) as emu:
        yield emu


@pytest.fixture
def emu(azure_emulator: AzureEmulator) -> AzureEmulator:
    azure_emulator.reset()
    azure_emulator.app.resource_blocked = False
    return azure_emulator


def wiring(emu: AzureEmulator, **overrides: Any) -> dict[str, Any]:
    settings: dict[str, Any] = {
        "azure_api_key": emu.api_key,
        "azure_base_url": emu.base_url,
        "azure_deployments": "gpt-image-1.5=images-prod",
    }
    return {**settings, **overrides}


@pytest.fixture
def gw(start_gateway: Any, emu: AzureEmulator) -> RunningGateway:
    gateway: RunningGateway = start_gateway(**wiring(emu))
    return gateway


def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


def png(size: tuple[int, int] = (64, 64)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (1, 2, 3)).save(buf, "PNG")
    return buf.getvalue()


def decode(b64: str | None) -> Image.Image:
    return Image.open(io.BytesIO(base64.b64decode(b64 or "")))


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    with gw.client() as http:
        return http.post("/v1/images/generations", json={"prompt": "a fox", **body})


def last(emu: AzureEmulator) -> dict[str, Any]:
    record = emu.app.last_request
    assert record is not None
    return record


# --- the SDK through the gateway ---------------------------------------------------------------


def test_the_sdk_generates_through_a_deployment(gw: RunningGateway, emu: AzureEmulator) -> None:
    with sdk(gw) as client:
        result = client.images.generate(
            model="azure/gpt-image-1", prompt="a fox", size="1536x1024", quality="low", n=2
        )
    assert len(result.data) == 2
    assert decode(result.data[0].b64_json).size == (1536, 1024)
    assert result.size == "1536x1024" and result.quality == "low"
    assert emu.stats()["requests"]["generate"] == 1  # n=2 in one call (gpt-image: up to 10)
    sent = last(emu)
    assert sent["path"] == "/openai/deployments/gpt-image-1/images/generations"
    assert "api-key" in sent["headers"] and "authorization" not in sent["headers"]
    assert sent["json"]["model"] == "gpt-image-1" and sent["json"]["n"] == 2


def test_the_sdk_edits_through_a_renamed_deployment(gw: RunningGateway, emu: AzureEmulator) -> None:
    with sdk(gw) as client:
        result = client.images.edit(
            model="azure/gpt-image-1.5",
            prompt="add a hat",
            image=("in.png", png(), "image/png"),
            input_fidelity="high",
        )
    assert decode(result.data[0].b64_json).size == (64, 64)
    sent = last(emu)
    assert sent["path"] == "/openai/deployments/images-prod/images/edits"
    assert sent["form_values"]["model"] == "images-prod"
    assert sent["form_values"]["input_fidelity"] == "high"


def test_dall_e_3_is_fanned_out_and_azure_only_fields_stay_out(
    gw: RunningGateway, emu: AzureEmulator
) -> None:
    resp = generate(gw, model="azure/dall-e-3", n=2, size="1792x1024", style="natural")
    assert resp.status_code == 200, resp.text
    assert emu.stats()["requests"]["generate"] == 2  # DALL-E 3 makes one image per call
    assert last(emu)["json"]["response_format"] == "b64_json"
    for item in resp.json()["data"]:
        assert item["revised_prompt"]
        assert "content_filter_results" not in item and "prompt_filter_results" not in item


def test_an_image_answered_by_url_is_downloaded_at_once(
    gw: RunningGateway, emu: AzureEmulator
) -> None:
    emu.add_faults([{"match": "generate", "as_url": True}])
    resp = generate(gw, model="azure/dall-e-3", response_format="b64_json")
    assert resp.status_code == 200, resp.text
    assert decode(resp.json()["data"][0]["b64_json"]).size == (1024, 1024)
    assert emu.stats()["requests"]["file"] == 1


@pytest.mark.parametrize("trusted", [True, False])
def test_a_result_url_elsewhere_is_downloaded_only_from_a_trusted_host(
    start_gateway: Any, emu: AzureEmulator, image_host: Any, trusted: bool
) -> None:
    """DALL-E's URLs are on `*.blob.core.windows.net` (`AZURE_TRUSTED_HOSTS`' default); an
    origin not trusted goes through the input-image fetcher, which refuses loopback."""
    origin = image_host.url("")
    hosts = [origin] if trusted else ["blob.core.windows.net"]
    gw = start_gateway(**wiring(emu, azure_trusted_hosts=hosts))
    body = {"created": 1, "data": [{"url": image_host.url("/png"), "revised_prompt": "p"}]}
    emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    resp = generate(gw, model="azure/dall-e-3", response_format="b64_json")
    if trusted:
        assert resp.status_code == 200, resp.text
        assert decode(resp.json()["data"][0]["b64_json"]).size == (96, 64)
    else:
        assert resp.status_code == 502, resp.text
        assert "download refused" in resp.json()["error"]["message"]


def test_the_v1_surface_sends_the_deployment_as_model_and_the_key_as_bearer(
    start_gateway: Any, emu: AzureEmulator
) -> None:
    gw = start_gateway(**wiring(emu, azure_api_version="v1"))
    with sdk(gw) as client:
        result = client.images.generate(model="azure/gpt-image-1.5", prompt="a fox")
    assert result.data[0].b64_json
    sent = last(emu)
    assert sent["path"] == "/openai/v1/images/generations"
    assert sent["json"]["model"] == "images-prod"
    assert "authorization" in sent["headers"] and "api-key" not in sent["headers"]


def test_an_entra_token_is_sent_as_bearer(start_gateway: Any, emu: AzureEmulator) -> None:
    gw = start_gateway(**wiring(emu, azure_api_key=None, azure_ad_token=DEFAULT_AD_TOKEN))
    with sdk(gw) as client:
        result = client.images.generate(model="azure/gpt-image-1", prompt="a fox")
    assert result.data[0].b64_json
    assert "authorization" in last(emu)["headers"]
    assert "api-key" not in last(emu)["headers"]


def test_a_bare_model_id_stays_openais(gw: RunningGateway) -> None:
    with gw.client() as http:
        listed = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
    assert listed["azure"]["configured"]
    assert {m["id"] for m in listed["azure"]["models"]} >= {"gpt-image-1", "dall-e-3"}
    resp = generate(gw, model="gpt-image-1")
    assert resp.status_code == 503 and resp.json()["error"]["provider"] == "openai"


# --- refusals and failures ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("marker", "filtered"),
    [
        ("[moderate]", " (filtered: violence)"),  # 400 + inner_error ResponsibleAIPolicyViolation
        ("[moderate-blocked]", ""),  # 400 moderation_blocked
        ("[filtered]", ""),  # 400 content_filter "The response was filtered"
        ("[filtered-200]", ""),  # HTTP 200 {"error": {"code": "contentFilter"}}
    ],
)
def test_each_content_filter_refusal_is_a_content_policy_violation(
    gw: RunningGateway, emu: AzureEmulator, marker: str, filtered: str
) -> None:
    with sdk(gw) as client, pytest.raises(openai.BadRequestError) as err:
        client.images.generate(model="azure/gpt-image-1", prompt=f"a {marker} scene")
    assert err.value.code == "content_policy_violation"
    assert f"Azure's content filter rejected this request{filtered}" in str(err.value.message)
    assert err.value.response.headers["x-should-retry"] == "false"
    assert emu.stats()["requests"]["generate"] == 1


def test_a_200_whose_item_was_filtered_is_a_content_policy_violation(
    gw: RunningGateway, emu: AzureEmulator
) -> None:
    filtered = {"sexual": {"filtered": True, "severity": "high"}}
    body = {"created": 1, "data": [{"content_filter_results": filtered}]}
    emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    resp = generate(gw, model="azure/dall-e-3")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "content_policy_violation" and "(filtered: sexual)" in error["message"]


def test_a_blocked_resource_is_its_own_error_and_not_retried(
    start_gateway: Any, emu: AzureEmulator
) -> None:
    gw = start_gateway(**wiring(emu), retry_max_attempts=3)
    emu.add_faults([{"match": "generate", "resource_blocked": True, "times": 3}])
    resp = generate(gw, model="azure/gpt-image-1")
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_resource_blocked"
    assert "temporarily blocked by Microsoft" in error["message"]
    assert resp.headers["x-should-retry"] == "false"
    assert emu.stats()["requests"]["generate"] == 1


def test_an_unknown_deployment_names_it_and_the_variable(
    start_gateway: Any, emu: AzureEmulator
) -> None:
    gw = start_gateway(**wiring(emu, azure_deployments="gpt-image-1=images-staging"))
    resp = generate(gw, model="azure/gpt-image-1")
    assert resp.status_code == 404, resp.text
    error = resp.json()["error"]
    assert error["code"] == "deployment_not_found"
    assert "'images-staging'" in error["message"] and "AZURE_DEPLOYMENTS" in error["message"]


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [
        ({"azure_api_key": "fedcba9876543210fedcba9876543210"}, "AZURE_API_KEY"),
        ({"azure_api_key": None, "azure_ad_token": "expired-token"}, "AZURE_AD_TOKEN"),
    ],
)
def test_a_refused_credential_names_its_variable(
    start_gateway: Any, emu: AzureEmulator, overrides: dict[str, Any], variable: str
) -> None:
    gw = start_gateway(**wiring(emu, **overrides))
    resp = generate(gw, model="azure/gpt-image-1")
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and variable in error["message"]
    assert "fedcba98" not in resp.text and "expired-token" not in resp.text


def test_an_api_version_azure_refuses_names_the_variable(
    start_gateway: Any, emu: AzureEmulator
) -> None:
    gw = start_gateway(**wiring(emu, azure_api_version="2022-12-01"))
    resp = generate(gw, model="azure/gpt-image-1")
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_api_version_rejected"
    assert "2022-12-01" in error["message"] and "AZURE_API_VERSION" in error["message"]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"safety_identifier": "hashed-7"}, "safety_identifier"),
        ({"moderation": "low"}, "moderation"),
        ({"output_format": "webp"}, "output_format"),
        ({"n": 2, "model": "azure/dall-e-3", "size": "512x512"}, "size"),
    ],
)
def test_what_azure_does_not_take_is_refused_before_any_call(
    gw: RunningGateway, emu: AzureEmulator, fields: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **{"model": "azure/gpt-image-1", **fields})
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param, resp.text
    assert sum(emu.stats()["requests"].values()) == 0


def test_without_an_endpoint_it_is_not_configured(start_gateway: Any) -> None:
    gw = start_gateway(azure_api_key=AZURE_KEY)
    resp = generate(gw, model="azure/gpt-image-1")
    assert resp.status_code == 503, resp.text
    assert "AZURE_BASE_URL" in resp.json()["error"]["message"]


# --- settings ----------------------------------------------------------------------------------


def test_the_sdk_variable_names_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/")
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", AZURE_KEY)
    monkeypatch.setenv("OPENAI_API_VERSION", "2025-04-01-preview")
    monkeypatch.setenv("AZURE_OPENAI_DEPLOYMENTS", "gpt-image-1=img, dall-e-3=dalle")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.azure_base_url == "https://res.openai.azure.com"
    assert settings.azure_api_key is not None
    assert settings.azure_api_key.get_secret_value() == AZURE_KEY
    assert settings.azure_deployments == {"gpt-image-1": "img", "dall-e-3": "dalle"}


@pytest.mark.parametrize(
    ("variable", "value", "named"),
    [
        ("AZURE_DEPLOYMENTS", "gpt-image-1", "AZURE_DEPLOYMENTS"),
        ("AZURE_DEPLOYMENTS", "gpt-image-1=a/b", "AZURE_DEPLOYMENTS"),
        ("AZURE_OPENAI_ENDPOINT", "https://res.openai.azure.com/openai", "AZURE_OPENAI_ENDPOINT"),
        ("AZURE_API_VERSION", "latest", "AZURE_API_VERSION"),
    ],
)
def test_a_bad_value_stops_the_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, named: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert named in str(err.value)


@pytest.mark.parametrize(
    ("overrides", "named"),
    [
        (
            {"azure_api_key": AZURE_KEY, "azure_ad_token": DEFAULT_AD_TOKEN},
            "AZURE_API_KEY (or AZURE_OPENAI_API_KEY) and AZURE_AD_TOKEN",
        ),
        ({"azure_deployments": "dall-e-2=old"}, "AZURE_DEPLOYMENTS"),
    ],
)
def test_start_up_refuses_a_key_with_a_token_and_a_deployment_of_no_model(
    tmp_path: Any, overrides: dict[str, Any], named: str
) -> None:
    settings = make_settings(tmp_path, azure_base_url="https://res.openai.azure.com", **overrides)
    with pytest.raises(ConfigurationError) as err:
        create_app(settings)
    assert named in str(err.value)
    assert AZURE_KEY not in str(err.value) and DEFAULT_AD_TOKEN not in str(err.value)
