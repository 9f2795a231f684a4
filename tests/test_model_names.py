"""`model` may name a provider, meaning that provider's default model — as `fallbacks` entries,
route targets and `provider` already may. Real gateway, provider emulators and the official
SDK, over loopback."""

from __future__ import annotations

import base64
import io
from typing import Any

import openai
import pytest
from PIL import Image

from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import (
    BFL_TEST_KEY,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    OpenAIEmulatorHandle,
    RunningGateway,
)
from tests.jobs.support import submit, wait_job


@pytest.fixture
def gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any) -> RunningGateway:
    return start_gateway(
        openai_api_key=OPENAI_TEST_KEY,
        openai_base_url=openai_emu.base_url,
        openai_default_model="gpt-image-1.5",
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        bfl_default_model="flux-dev",
        admin_api_key=ADMIN_TEST_KEY,
    )


@pytest.fixture
def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


# The name a client sends -> (provider, that provider's default model as configured above).
PROVIDER_NAMES = {
    "local": ("local", "local-art"),
    "openai": ("openai", "gpt-image-1.5"),
    "bfl-flux": ("bfl-flux", "flux-dev"),
    "bfl": ("bfl-flux", "flux-dev"),  # the aliases `provider` and `fallbacks` take
    "flux": ("bfl-flux", "flux-dev"),
}


def calls(openai_emu: OpenAIEmulatorHandle, bfl: Any) -> dict[str, int]:
    return {
        "openai": int(sum(openai_emu.stats()["requests"].values())),
        "bfl-flux": int(bfl.stats()["submits"]),
    }


@pytest.mark.parametrize("name", list(PROVIDER_NAMES))
def test_sdk_model_as_a_provider_name_is_its_default_model(
    sdk: openai.OpenAI, openai_emu: OpenAIEmulatorHandle, bfl: Any, name: str
) -> None:
    provider, model = PROVIDER_NAMES[name]
    result = sdk.images.generate(model=name, prompt="a fox", size="1024x1024")
    assert result.data is not None and len(result.data) == 1
    assert Image.open(io.BytesIO(base64.b64decode(result.data[0].b64_json or ""))).size
    extra = result.model_extra or {}
    assert (extra["provider"], extra["model"]) == (provider, model)
    expected = {"openai": 0, "bfl-flux": 0}
    if provider in expected:
        expected[provider] = 1
    assert calls(openai_emu, bfl) == expected  # the named provider, and only it, was called


@pytest.mark.parametrize(("name", "model"), [("local", "local-art"), ("openai", "gpt-image-1.5")])
def test_sdk_edit_with_a_provider_name(sdk: openai.OpenAI, name: str, model: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64), (10, 120, 200)).save(buf, "PNG")
    result = sdk.images.edit(
        model=name, prompt="make it night", image=("in.png", buf.getvalue(), "image/png")
    )
    assert result.data is not None and len(result.data) == 1
    assert (result.model_extra or {})["model"] == model


def test_the_catalogue_says_which_default_each_provider_name_means(
    gw: RunningGateway, sdk: openai.OpenAI
) -> None:
    """What `/v1/providers` lists as a configured provider's `default_model` is what
    `model: <provider>` is served by; `/v1/models` lists each of them as `provider/model`."""
    with gw.client() as http:
        providers = http.get("/v1/providers").json()["data"]
        listed = {card["id"] for card in http.get("/v1/models").json()["data"]}
    configured = [entry for entry in providers if entry["configured"]]
    assert {entry["id"] for entry in configured} >= {"openai", "bfl-flux", "local"}
    for entry in configured:
        assert f"{entry['id']}/{entry['default_model']}" in listed
        result = sdk.images.generate(model=entry["id"], prompt="p", size="1024x1024")
        assert (result.model_extra or {})["model"] == entry["default_model"], entry["id"]


def test_a_provider_name_as_model_is_a_model_everywhere(gw: RunningGateway, bfl: Any) -> None:
    """The same name as a job, as a fallback, and checked against a key's allow-list."""
    with gw.client() as http:
        job = submit(http, {"model": "bfl-flux", "prompt": "p"})
        done = wait_job(http, job["id"])
        assert done["status"] == "succeeded", done
        assert done["result"]["model"] == "flux-dev"
        resp = http.post(
            "/v1/images/generations",
            json={"model": "openai", "prompt": "p", "fallbacks": ["local"], "size": "1024x1024"},
        )
        assert resp.status_code == 200 and resp.json()["model"] == "gpt-image-1.5"
    limited = create_key(gw, name="local only", allowed_providers=["local"])
    with gw.client(key=limited["key"]) as http:
        assert http.post(
            "/v1/images/generations", json={"model": "local", "prompt": "p"}
        ).is_success
        refused = http.post("/v1/images/generations", json={"model": "bfl-flux", "prompt": "p"})
    assert refused.status_code == 403, refused.text
    assert bfl.stats()["submits"] == 1


@pytest.mark.parametrize(
    ("body", "status", "param"),
    [
        ({"provider": "openai", "model": "local"}, 400, "model"),
        ({"provider": "bfl-flux", "model": "openai/gpt-image-1"}, 400, "model"),
        ({"model": "locale"}, 404, "model"),
    ],
)
def test_a_model_name_that_contradicts_provider_or_names_nothing_is_refused(
    gw: RunningGateway,
    openai_emu: OpenAIEmulatorHandle,
    bfl: Any,
    body: dict[str, Any],
    status: int,
    param: str,
) -> None:
    with gw.client() as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", **body})
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["param"] == param
    assert calls(openai_emu, bfl) == {"openai": 0, "bfl-flux": 0}


@pytest.mark.parametrize(
    ("name", "listed"),
    [
        ("gpt-image-1", "openai/gpt-image-1"),
        ("openai/gpt-image-1", "openai/gpt-image-1"),
        ("bfl-flux/flux-pro-1.1", "bfl-flux/flux-pro-1.1"),
        ("flux-dev", "bfl-flux/flux-dev"),
        ("local", "local/local-art"),
    ],
)
def test_sdk_retrieves_a_model_as_the_list_names_it(
    sdk: openai.OpenAI, name: str, listed: str
) -> None:
    """OpenAI's `GET /v1/models/{model}`: the card `GET /v1/models` lists for that name."""
    card = sdk.models.retrieve(name)
    assert card.id == listed
    assert card.owned_by == listed.split("/")[0]
    assert listed in {m.id for m in sdk.models.list()}


@pytest.mark.parametrize(
    "name",
    [
        "no-such-model",
        "openai/no-such-model",
        "nope/gpt-image-1",
        "/local-art",
        "local?api_key=sk-SECRETQ3F",
        "bfl-flux/gpt-image-1",
        "x" * 5000,
    ],
)
def test_sdk_retrieving_an_unknown_model_is_a_404(sdk: openai.OpenAI, name: str) -> None:
    """The name comes from the path, so the 404 does not echo it (it can hold a pasted key)."""
    with pytest.raises(openai.NotFoundError) as err:
        sdk.models.retrieve(name)
    assert err.value.response.headers["x-should-retry"] == "false"
    error = err.value.response.json()["error"]
    assert error["code"] == "model_not_found"
    assert name not in error["message"] and "SECRET" not in err.value.response.text
