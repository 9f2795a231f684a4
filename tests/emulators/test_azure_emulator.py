"""The Azure emulator answers openai-python's own `AzureOpenAI` client (paths, `api-version`,
`api-key` or Entra Bearer) and the v1 surface as Azure does, and refuses in Azure's shapes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.azure import AzureEmulator
from emulators.azure.server import DEFAULT_AD_TOKEN

VERSION = "2025-04-01-preview"


@pytest.fixture(scope="module")
def azure() -> Iterator[AzureEmulator]:
    with AzureEmulator(deployments={"dall-e-3": "dalle"}) as emu:
        yield emu


@pytest.fixture
def emu(azure: AzureEmulator) -> AzureEmulator:
    azure.reset()
    azure.app.resource_blocked = False
    return azure


def png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "PNG")
    return buf.getvalue()


def post(emu: AzureEmulator, path: str, body: Any, **headers: str) -> httpx.Response:
    headers = headers or {"api-key": emu.api_key}
    return httpx.post(f"{emu.base_url}{path}", json=body, headers=headers, timeout=30)


def deployment_path(deployment: str = "gpt-image-1", version: str | None = VERSION) -> str:
    query = f"?api-version={version}" if version else ""
    return f"/openai/deployments/{deployment}/images/generations{query}"


def test_azure_openai_sdk_with_a_key_generates_and_edits(emu: AzureEmulator) -> None:
    with openai.AzureOpenAI(
        azure_endpoint=emu.base_url, api_key=emu.api_key, api_version=VERSION, max_retries=0
    ) as client:
        result = client.images.generate(model="gpt-image-1", prompt="p", size="1024x1536")
        assert result.size == "1024x1536" and result.usage is not None
        edited = client.images.edit(model="gpt-image-1", prompt="p", image=("a.png", png()))
        assert edited.data and edited.data[0].b64_json
        dalle = client.images.generate(model="dalle", prompt="p")  # the deployment's name
    item = dalle.data[0]
    assert item.url and item.revised_prompt
    assert item.model_extra and item.model_extra["content_filter_results"]["violence"] == {
        "filtered": False,
        "severity": "safe",
    }
    assert "prompt_filter_results" in item.model_extra
    assert "content_filter_results" not in (result.data[0].model_extra or {})
    paths = [record["path"] for record in emu.requests()]
    assert paths == [
        "/openai/deployments/gpt-image-1/images/generations",
        "/openai/deployments/gpt-image-1/images/edits",
        "/openai/deployments/dalle/images/generations",
    ]


def test_azure_openai_sdk_with_an_entra_token(emu: AzureEmulator) -> None:
    with openai.AzureOpenAI(
        azure_endpoint=emu.base_url,
        azure_ad_token=DEFAULT_AD_TOKEN,
        api_version=VERSION,
        max_retries=0,
    ) as client:
        assert client.images.generate(model="gpt-image-1", prompt="p").data
    with (
        openai.AzureOpenAI(
            azure_endpoint=emu.base_url, azure_ad_token="stale", api_version=VERSION, max_retries=0
        ) as client,
        pytest.raises(openai.AuthenticationError) as err,
    ):
        client.images.generate(model="gpt-image-1", prompt="p")
    assert "Access token is missing, invalid" in str(err.value)


def test_the_v1_surface_takes_the_deployment_as_model_and_the_key_as_bearer(
    emu: AzureEmulator,
) -> None:
    with openai.OpenAI(
        base_url=f"{emu.base_url}/openai/v1/", api_key=emu.api_key, max_retries=0
    ) as client:
        assert client.images.generate(model="gpt-image-1", prompt="p").data
        with pytest.raises(openai.NotFoundError) as err:
            client.images.generate(model="dall-e-3", prompt="p")  # deployed as "dalle"
    assert err.value.code == "DeploymentNotFound"
    dated = post(emu, f"/openai/v1/images/generations?api-version={VERSION}", {})
    assert (dated.status_code, dated.json()["error"]["message"]) == (
        400,
        "API version not supported",
    )


@pytest.mark.parametrize(
    ("path", "body", "status", "code"),
    [
        (deployment_path(version=None), {"prompt": "p"}, 404, "404"),
        (deployment_path(version="2023-05-15"), {"prompt": "p"}, 400, "BadRequest"),
        (deployment_path("unknown"), {"prompt": "p"}, 404, "DeploymentNotFound"),
        ("/openai/images/generations", {"prompt": "p"}, 404, "404"),
        (deployment_path(), {"prompt": "p", "moderation": "low"}, 400, None),
        (deployment_path(), {"prompt": "p", "output_format": "webp"}, 400, "invalid_value"),
    ],
)
def test_refusals_in_azures_shapes(
    emu: AzureEmulator, path: str, body: Any, status: int, code: str | None
) -> None:
    resp = post(emu, path, body)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["code"] == code
    assert emu.stats()["submissions"] == 0


def test_a_bad_key_and_a_blocked_resource(emu: AzureEmulator) -> None:
    wrong = post(emu, deployment_path(), {"prompt": "p"}, **{"api-key": "nope"})
    assert wrong.status_code == 401
    assert wrong.json()["error"]["message"].startswith("Access denied due to invalid")
    as_bearer = post(emu, deployment_path(), {"prompt": "p"}, authorization=f"Bearer {emu.api_key}")
    assert as_bearer.status_code == 401  # a key is a Bearer on v1 only
    emu.app.resource_blocked = True
    blocked = post(emu, deployment_path(), {"prompt": "p"})
    assert blocked.status_code == 403
    assert blocked.json()["error"]["code"] == "Forbidden"
    assert "temporarily blocked" in blocked.json()["error"]["message"]


def test_the_http_200_refusal_and_the_400_ones(emu: AzureEmulator) -> None:
    answer = post(emu, deployment_path(), {"prompt": "a [filtered-200] fox"})
    assert answer.status_code == 200
    assert answer.json()["error"]["code"] == "contentFilter" and "data" not in answer.json()
    policy = post(emu, deployment_path(), {"prompt": "a [moderate] fox"}).json()["error"]
    assert policy["code"] == "content_policy_violation"
    assert policy["inner_error"]["code"] == "ResponsibleAIPolicyViolation"
    assert policy["inner_error"]["content_filter_results"]["violence"]["filtered"] is True
    filtered = post(emu, deployment_path(), {"prompt": "a [filtered] fox"}).json()["error"]
    assert filtered["message"].startswith("The response was filtered")
    assert emu.stats()["submissions"] == 1  # the 200 one


def test_the_gateway_wiring_names_renamed_deployments() -> None:
    emu = AzureEmulator.from_options(port=0, deployments={"gpt-image-1": "images-prod"})
    with emu:
        env = emu.gateway_environment()
    assert env["AZURE_DEPLOYMENTS"] == "gpt-image-1=images-prod"
    assert env["AZURE_API_VERSION"] == VERSION and env["AZURE_BASE_URL"] == emu.url
    assert "OPENAI_API_VERSION" in AzureEmulator.alias_variables("API_VERSION")
