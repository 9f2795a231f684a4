"""What a request cost, as clients and the ledger see it, over real sockets.

- `usage` is OpenAI's token object or absent, for every provider, in synchronous answers and job
  results alike (the official SDK's `response.usage` is a `Usage` or None); the gateway's own
  figures are in `cost`.
- A request without size and quality is recorded (`/v1/usage`, `/metrics`, the ledger row, a
  budget's spend) at the price of what was made, for every priced model of every provider.
"""

from __future__ import annotations

import base64
import io
import json
import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import openai
import pytest
from openai.types import ImagesResponse
from openai.types.images_response import Usage
from PIL import Image

from image_gateway.billing.pricing import PRICES_FILE
from image_gateway.providers.bfl.models import MODELS as BFL_MODELS
from image_gateway.providers.openai.models import MODELS as OPENAI_MODELS
from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import (
    BFL_TEST_KEY,
    GATEWAY_TEST_KEY,
    OpenAIEmulatorHandle,
    RunningGateway,
    emulator_settings,
)
from tests.jobs.support import submit, wait_job
from tests.usage_helpers import ledger_rows, metric, usage_totals, wait_rows

PRICES = json.loads(PRICES_FILE.read_text())
BASES = ("provider", "tokens", "price_table", "estimate", "unpriced")
# What a model makes when a request leaves size and quality out, where the provider documents
# it (REFERENCE §1.3: DALL·E standard 1024x1024); GPT image models say so in their answer.
DALLE_DEFAULT = ("standard", "1024x1024")
EDIT_ONLY = {m for m, spec in BFL_MODELS.items() if spec.edit_only}
FINETUNED = {"flux-pro-1.1-ultra-finetuned", "flux-pro-1.0-fill-finetuned"}


@pytest.fixture
def gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle, bfl: Any) -> RunningGateway:
    gateway: RunningGateway = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        **emulator_settings(openai_emu, bfl),
    )
    return gateway


SDK = Callable[..., openai.OpenAI]


@pytest.fixture
def sdk() -> Iterator[SDK]:
    """The official client for a gateway (and a key), closed after the test."""
    clients: list[openai.OpenAI] = []

    def make(gw: RunningGateway, key: str = GATEWAY_TEST_KEY) -> openai.OpenAI:
        clients.append(openai.OpenAI(base_url=gw.url + "/v1", api_key=key, max_retries=0))
        return clients[-1]

    yield make
    for client in clients:
        client.close()


def png(size: tuple[int, int] = (512, 512)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (10, 20, 30)).save(buf, "PNG")
    return buf.getvalue()


def token_price(model: str, usage: dict[str, Any]) -> float:
    """OpenAI's token prices (billing/prices.json) applied to the answer's own token counts."""
    prices = PRICES["openai"][model]["tokens_usd_per_million"]
    details = usage["input_tokens_details"]
    return (
        float(
            details["text_tokens"] * prices["text_input"]
            + details["image_tokens"] * prices["image_input"]
            + usage["output_tokens"] * prices["image_output"]
        )
        / 1_000_000
    )


# --- §2: `usage` keeps OpenAI's shape ----------------------------------------------------------

SHAPES = ["local-art", "gpt-image-1", "gpt-image-1.5", "dall-e-3", "flux-dev", "flux-2-pro"]


@pytest.mark.parametrize("model", SHAPES)
def test_usage_is_openai_token_usage_or_absent_and_cost_is_our_own_field(
    gw: RunningGateway, sdk: SDK, model: str
) -> None:
    n = 1 if model == "dall-e-3" else 2
    raw = sdk(gw).images.with_raw_response.generate(model=model, prompt="a fox", n=n)
    result = raw.parse()
    body = raw.http_response.json()
    total = 0
    if model.startswith("gpt-image"):
        assert isinstance(result.usage, Usage)
        total += result.usage.total_tokens  # what the client did, and raised on
        assert total > 0 and result.usage.input_tokens_details.text_tokens > 0
    else:
        assert result.usage is None and "usage" not in body
    cost = (result.model_extra or {})["cost"]
    assert set(cost) <= {"usd", "basis", "credits"} and cost["basis"] in BASES
    assert cost["usd"] is not None and cost["usd"] >= 0
    if model.startswith("flux"):
        assert cost["basis"] == "provider" and cost["usd"] == pytest.approx(cost["credits"] / 100)
    # An edit answers the same way.
    if model in ("gpt-image-1", "flux-2-pro"):
        edited = sdk(gw).images.edit(model=model, image=png(), prompt="night")
        assert (edited.usage is None) is (model == "flux-2-pro")
        assert (edited.model_extra or {})["cost"]["usd"] > 0


def test_a_compatible_servers_usage_of_another_shape_is_not_passed_on(
    gw: RunningGateway, sdk: SDK, openai_emu: OpenAIEmulatorHandle
) -> None:
    image = base64.b64encode(png((1024, 1024))).decode()
    for usage in ({"total_tokens": 5}, {"cost_credits": 4.0}, {"input_tokens": "12"}):
        body = {"created": 1, "data": [{"b64_json": image}], "usage": usage}
        openai_emu.add_faults([{"match": "generate", "status": 200, "body": body}])
        raw = sdk(gw).images.with_raw_response.generate(model="gpt-image-1", prompt="a fox")
        assert raw.parse().usage is None and "usage" not in raw.http_response.json()
        # No tokens, no quality made: the table's upper bound for the size read from the
        # image (high 1024x1024), said to be an estimate.
        cost = (raw.parse().model_extra or {})["cost"]
        assert cost == {"usd": 0.167, "basis": "estimate"}


@pytest.mark.parametrize("model", ["gpt-image-1", "flux-dev"])
def test_a_job_result_is_the_synchronous_answer(gw: RunningGateway, sdk: SDK, model: str) -> None:
    sync = sdk(gw).images.generate(model=model, prompt="a fox")
    with gw.client() as http:
        job = wait_job(http, submit(http, {"model": model, "prompt": "a fox"})["id"])
    assert job["status"] == "succeeded", job
    result = ImagesResponse.model_validate(job["result"])
    assert (result.usage is None) is (sync.usage is None)
    if result.usage is not None:
        assert isinstance(result.usage.total_tokens, int)
    assert job["result"]["cost"] == (sync.model_extra or {})["cost"]


def test_a_stored_job_result_of_the_old_shape_answers_in_the_new_one(
    gw: RunningGateway,
) -> None:
    with gw.client() as http:
        job_id = submit(http, {"model": "flux-dev", "prompt": "a fox"})["id"]
        assert wait_job(http, job_id)["status"] == "succeeded"
        path = gw.settings.database_url.get_secret_value().split("///", 1)[1]
        with sqlite3.connect(path) as conn:
            (stored,) = conn.execute("SELECT result FROM jobs WHERE id = ?", (job_id,)).fetchone()
            result = json.loads(stored)
            result["shell"]["usage"] = {"cost_credits": 2.5}  # what earlier versions stored
            conn.execute("UPDATE jobs SET result = ? WHERE id = ?", (json.dumps(result), job_id))
        job = http.get(f"/v1/jobs/{job_id}").json()
    assert "usage" not in job["result"] and job["result"]["cost"]["credits"] == 2.5
    assert ImagesResponse.model_validate(job["result"]).usage is None


# --- §3: the recorded cost is what the provider charges ----------------------------------------


def priced_models() -> list[tuple[str, str]]:
    found = [("openai", m) for m in OPENAI_MODELS if m in PRICES["openai"]]
    found += [("bfl-flux", m) for m in BFL_MODELS if m in PRICES["bfl-flux"]]
    return [*found, ("local", "local-art")]


def expected_price(provider: str, model: str, answer: dict[str, Any]) -> float:
    """The right price of a request without size and quality, from billing/prices.json."""
    entry = PRICES[provider].get(model) or PRICES[provider]["*"]
    if "tokens_usd_per_million" in entry:
        return token_price(model, answer["usage"])
    if "first_mp" in entry:  # FLUX.2 at its default 1 MP, no input image
        return float(entry["first_mp"])
    table = entry["per_image"]
    if not isinstance(table, dict):
        return float(table)
    if "size" in answer:  # the GPT image model's own report of what it made
        return float(table[answer["quality"]][answer["size"]])
    quality, size = DALLE_DEFAULT
    return float(table[quality][size])


@pytest.mark.parametrize(("provider", "model"), priced_models())
def test_a_request_without_size_and_quality_is_recorded_at_the_price_of_what_was_made(
    gw: RunningGateway, provider: str, model: str
) -> None:
    body: dict[str, Any] = {"model": f"{provider}/{model}", "prompt": "a fox"}
    if model in FINETUNED:
        body["provider_params"] = {"finetune_id": "ft-test"}
    with gw.client() as http:
        if model in EDIT_ONLY:
            form = {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}
            files = {"image": ("in.png", png(), "image/png")}
            resp = http.post("/v1/images/edits", data=form, files=files)
        else:
            resp = http.post("/v1/images/generations", json=body)
    assert resp.status_code == 200, resp.text
    answer = resp.json()
    expected = expected_price(provider, model, answer)
    assert answer["cost"]["usd"] == pytest.approx(expected, abs=1e-6)

    recorded = wait_rows(gw, 1)
    (row,) = recorded["data"]
    assert (row["provider"], row["model"], row["images"]) == (provider, model, 1)
    assert row["cost_usd"] == pytest.approx(expected, abs=1e-6)
    assert metric(gw, "igw_cost_usd_total", provider, model) == pytest.approx(expected, abs=1e-6)
    if provider == "openai" and model.startswith("gpt-image-1"):
        # Priced as the medium 1024x1024 image the emulator (like OpenAI) reports making, not
        # at the most expensive size and quality.
        (ledger,) = ledger_rows(gw)
        assert (ledger["size"], ledger["quality"]) == ("1024x1024", "medium")
        medium = PRICES["openai"][model]["per_image"]["medium"]["1024x1024"]
        assert expected == pytest.approx(medium, rel=0.25) and expected < 0.1


def test_the_readme_example_is_recorded_at_the_medium_price(gw: RunningGateway, sdk: SDK) -> None:
    created = create_key(gw, name="reader", monthly_budget_usd=0.25)
    result = sdk(gw, created["key"]).images.generate(model="gpt-image-1.5", prompt="a fox")
    assert (result.quality, result.size) == ("medium", "1024x1024")
    assert (result.model_extra or {})["cost"] == {"usd": 0.034, "basis": "price_table"}
    # The reservation held the upper bound ($0.20); the budget was charged what was made.
    with gw.client(key=ADMIN_TEST_KEY) as admin:
        key = admin.get(f"/v1/admin/keys/{created['id']}").json()
    assert key["month_spend_usd"] == pytest.approx(0.034)
    assert usage_totals(gw)["totals"]["cost_usd"] == pytest.approx(0.034)


@pytest.mark.parametrize(
    ("model", "size", "expected"),
    [
        ("flux-2-pro", None, 0.03),  # its default: 1 MP
        ("flux-2-pro", "2048x1024", 0.045),  # 2 MP: the first MP + one more at $0.015
        ("flux-2-klein-4b", None, 0.014),
        ("flux-pro-1.1", None, 0.04),
    ],
)
def test_a_bfl_answer_without_cost_is_priced_from_the_table(
    start_gateway: Any, model: str, size: str | None, expected: float
) -> None:
    from emulators.bfl import BFLEmulator

    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=0.05, report_cost=False) as old:
        gw = start_gateway(
            admin_api_key=ADMIN_TEST_KEY,
            bfl_api_key=BFL_TEST_KEY,
            bfl_base_url=old.base_url,
            bfl_trusted_hosts=old.poll_base_url,
        )
        body = {"model": model, "prompt": "a fox", **({"size": size} if size else {})}
        with gw.client() as http:
            resp = http.post("/v1/images/generations", json=body)
        assert resp.status_code == 200, resp.text
        assert resp.json()["cost"] == {"usd": pytest.approx(expected), "basis": "price_table"}
        assert wait_rows(gw, 1)["totals"]["cost_usd"] == pytest.approx(expected)
