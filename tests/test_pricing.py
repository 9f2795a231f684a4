"""Prices: the data file covers every catalogued model with a source (or names the models
with no sourced price), and each way of pricing (the provider's own charge, tokens, per image,
per megapixel, per inference step, unknown) gives the right USD and says which it used; the
shapes the specialists brought, also as a request's `cost` through the gateway against the
provider's emulator."""

from __future__ import annotations

import base64
import importlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from emulators.fireworks import FireworksEmulator
from emulators.luma import LumaEmulator
from emulators.runway import RunwayEmulator
from emulators.together import TogetherEmulator
from image_gateway.billing.pricing import PRICES_FILE, Priced, PriceTable
from image_gateway.providers.bfl.models import MODELS as BFL_MODELS
from image_gateway.providers.openai.models import MODELS as OPENAI_MODELS
from image_gateway.schemas import Charge, ImageTask, InputImage
from tests.conftest import RunningGateway
from tests.contract.harness import Emulator, provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS

TABLE = PriceTable.load()


def _priced(provider: str, model: str, **kw: Any) -> Priced:
    args: dict[str, Any] = {"images": 1, "size": None, "quality": None}
    args.update(kw)
    return TABLE.price(provider, model, **args)


def _cost(provider: str, model: str, **kw: Any) -> float | None:
    return _priced(provider, model, **kw).usd


def test_every_entry_has_a_source_and_date() -> None:
    data = json.loads(PRICES_FILE.read_text())
    for provider, models in data.items():
        if provider.startswith("_"):
            continue
        for model, entry in models.items():
            assert entry.get("source") and entry.get("date"), (provider, model)


@pytest.mark.parametrize(
    ("provider", "models"),
    [("openai", OPENAI_MODELS), ("bfl-flux", BFL_MODELS)],
)
def test_every_catalogued_model_has_a_price(provider: str, models: dict[str, object]) -> None:
    # chatgpt-image-latest is an alias whose price OpenAI does not publish.
    missing = [m for m in models if TABLE.entry(provider, m) is None]
    assert missing in ([], ["chatgpt-image-latest"]), missing


# The image specialists' models with no price found in a source (issue 14's price pass,
# 2026-12-01): they answer with `cost.basis` "unpriced" until one is.
UNPRICED = {
    "replicate": set(),
    "fal": {"fal-ai/bytedance/seedream/v4/text-to-image", "fal-ai/nano-banana"},
    "stability": {"stable-image-outpaint"},
    "together": {
        "black-forest-labs/FLUX.1-schnell-Free",
        "black-forest-labs/FLUX.1.1-pro",
        "black-forest-labs/FLUX.1-pro",
        "black-forest-labs/FLUX.1-kontext-pro",
        "black-forest-labs/FLUX.1-kontext-max",
        "black-forest-labs/FLUX.1-kontext-dev",
    },
    "fireworks": set(),
    "seedream": {"seedream-3-0-t2i-250415", "seededit-3-0-i2i-250628"},
    "ideogram": set(),
    "recraft": set(),
    "runway": {
        "gemini_image3_pro",
        "gemini_image3.1_flash",
        "gpt_image_2",
        "seedream5_pro",
        "seedream5_lite",
    },
    "dashscope": {
        "wan2.2-t2i-flash",
        "wan2.2-t2i-plus",
        "wan2.5-t2i-preview",
        "qwen-image",
        "qwen-image-plus",
        "wan2.5-i2i-preview",
        "wanx2.1-imageedit",
    },
    "luma": set(),
}


@pytest.mark.parametrize("provider", sorted(UNPRICED))
def test_each_specialist_model_is_priced_or_named_unpriced(provider: str) -> None:
    models = importlib.import_module(f"image_gateway.providers.{provider}.models").MODELS
    assert {m for m in models if TABLE.entry(provider, m) is None} == UNPRICED[provider]


def test_the_providers_own_charge_wins() -> None:
    charge = Charge(0.05, credits=5.0)
    assert _priced("bfl-flux", "flux-dev", charge=charge, images=2) == Priced(0.05, "provider", 5.0)
    # ...even over a table price that disagrees, and for models the table lacks.
    assert _cost("bfl-flux", "flux-pro-1.1", charge=Charge(0.035, 3.5)) == 0.035
    assert _cost("bfl-flux", "flux-new", charge=Charge(0.01, 1.0)) == 0.01


def test_openai_tokens() -> None:
    usage = {
        "input_tokens": 60,
        "input_tokens_details": {"text_tokens": 50, "image_tokens": 10},
        "output_tokens": 4160,
    }
    expected = (50 * 5 + 10 * 10 + 4160 * 40) / 1_000_000
    assert _cost("openai", "gpt-image-1", usage=usage) == pytest.approx(expected)
    mini = (50 * 2 + 10 * 2.5 + 4160 * 8) / 1_000_000
    assert _cost("openai", "gpt-image-1-mini", usage=usage) == pytest.approx(mini)
    # Without details, every input token is text.
    plain = {"input_tokens": 60, "output_tokens": 100}
    assert _cost("openai", "gpt-image-1", usage=plain) == pytest.approx((300 + 4000) / 1e6)


def test_per_image_table() -> None:
    assert _priced("openai", "gpt-image-1", quality="low", size="1024x1024") == Priced(
        0.011, "price_table"
    )
    assert _cost("openai", "gpt-image-1", quality="high", size="1536x1024", images=2) == 0.5
    # auto quality and size: the most expensive entry (an upper bound), said to be an estimate.
    assert _priced("openai", "gpt-image-1", quality="auto") == Priced(0.25, "estimate")
    assert _priced("openai", "gpt-image-1", quality="low").basis == "estimate"
    # gpt-image-1.5 has no input token prices: per image even when tokens are reported.
    assert _cost("openai", "gpt-image-1.5", quality="medium", size="1024x1024") == 0.034
    assert _cost("openai", "dall-e-3", quality="hd", size="1792x1024") == 0.12
    assert _cost("openai", "dall-e-2", quality="standard", size="512x512") == 0.018
    # A flexible size the table does not list scales with pixels.
    assert _cost("openai", "gpt-image-2", quality="low", size="2048x2048") == pytest.approx(0.024)
    assert _priced("bfl-flux", "flux-kontext-max", images=3) == Priced(0.24, "price_table")


def test_flux2_megapixels() -> None:
    assert _cost("bfl-flux", "flux-2-pro", size="1024x1024") == pytest.approx(0.03)
    assert _cost("bfl-flux", "flux-2-pro", size="2048x1024") == pytest.approx(0.045)
    assert _cost("bfl-flux", "flux-2-klein-4b") == pytest.approx(0.014)
    assert _priced("bfl-flux", "flux-2-pro").basis == "estimate"  # size unknown: 1 MP assumed
    assert _priced("bfl-flux", "flux-2-pro", size="1024x1024", inputs=1).basis == "estimate"


def test_a_price_per_step_scales_with_the_steps_asked_for() -> None:
    # Fireworks bills FLUX.1 [schnell] $0.00035 an inference step, 4 by default.
    assert _priced("fireworks", "flux-1-schnell-fp8") == Priced(0.0014, "price_table")
    steps = {"num_inference_steps": 10}
    assert _cost("fireworks", "flux-1-schnell-fp8", params=steps, images=2) == 0.007
    # Another provider's step parameter, or none given, leaves the default steps' price.
    assert _cost("fireworks", "flux-1-schnell-fp8", params={"steps": 10}) == 0.0014
    # Together's per-megapixel price is for its 4 default steps too.
    half = _cost(
        "together", "black-forest-labs/FLUX.1-schnell", size="1024x512", params={"steps": 2}
    )
    assert half == pytest.approx(0.0027 * 0.5 * 0.5)
    task = ImageTask(
        provider="fireworks", model="flux-1-schnell-fp8", prompt="p", n=3, params=steps
    )
    assert TABLE.estimate(task) == pytest.approx(3 * 0.0035)


def test_a_megapixel_of_a_million_pixels() -> None:
    # Luma prices Photon per 10**6 pixels, not per 2**20 as BFL and fal count.
    assert _priced("luma", "photon-1", size="1000x1000") == Priced(0.0073, "price_table")
    full_hd = _cost("luma", "photon-flash-1", size="1920x1080")
    assert full_hd == pytest.approx(0.0019 * 2.0736, abs=1e-6)
    assert _priced("luma", "photon-1").basis == "estimate"  # size unknown: 1 MP assumed


def test_local_free_unknown_none() -> None:
    assert _priced("local", "local-art", images=4) == Priced(0.0, "price_table")
    assert _priced("openai", "gpt-image-9") == Priced(None, "unpriced")
    assert _cost("nowhere", "x") is None


def test_estimates_are_upper_bounds() -> None:
    def task(**kw: object) -> ImageTask:
        return ImageTask(**{"provider": "openai", "model": "gpt-image-1", "prompt": "p", **kw})  # type: ignore[arg-type]

    assert TABLE.estimate(task(n=2)) == 0.5
    assert TABLE.estimate(task(quality="low", size=(1024, 1024))) == 0.011
    edit = task(provider="bfl-flux", model="flux-2-pro", images=[InputImage(b"x", "image/png")])
    assert TABLE.estimate(edit) == pytest.approx(0.045)  # + 1 MP for the input image
    assert TABLE.estimate(task(provider="local", model="local-art", n=10)) == 0.0
    assert TABLE.estimate(task(model="gpt-image-9")) is None


def test_same_as_prices_a_model_as_another_providers_entry() -> None:
    table = PriceTable(
        {
            "a": {"m": {"per_image": 0.05, "source": "s", "date": "d"}},
            "b": {
                "m": {"same_as": "a/m", "source": "assumed: a's price", "date": "d"},
                "loop": {"same_as": "b/m", "source": "s", "date": "d"},
                "gone": {"same_as": "a/absent", "source": "s", "date": "d"},
            },
        }
    )
    assert table.price("b", "m", images=2, size=None, quality=None) == Priced(0.1, "price_table")
    assert table.entry("b", "loop") is None  # one step only
    assert table.entry("b", "gone") is None
    # The Gemini image models on Vertex AI are priced as on the Gemini API.
    assert TABLE.entry("vertex-ai", "gemini-3-pro-image") == TABLE.entry(
        "gemini", "gemini-3-pro-image"
    )


# --- a request's cost, through the gateway against the provider's emulator ----------------------


@contextmanager
def _served(provider: str, emulator: Emulator, tmp_path: Path) -> Iterator[RunningGateway]:
    with (
        emulator,
        serve_gateway(tmp_path, **provider_settings(CONTRACTS[provider], emulator)) as gw,
    ):
        yield gw


def _generate(gw: RunningGateway, **body: Any) -> dict[str, Any]:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations", json={"prompt": "a lighthouse", **body}, timeout=30
        )
    assert resp.status_code == 200, resp.text
    answer: dict[str, Any] = resp.json()
    return answer


def _size(answer: dict[str, Any]) -> tuple[int, int]:
    image = Image.open(io.BytesIO(base64.b64decode(answer["data"][0]["b64_json"])))
    return image.size


def test_a_per_step_price_through_the_gateway(tmp_path: Path) -> None:
    emulator = FireworksEmulator(api_key="fw_test_price_key", strict=True)
    with _served("fireworks", emulator, tmp_path) as gw:
        plain = _generate(gw, model="fireworks/flux-1-schnell-fp8", n=2)
        more = _generate(
            gw,
            model="fireworks/flux-1-schnell-fp8",
            provider_params={"num_inference_steps": 8},
        )
    assert plain["cost"] == {"usd": 0.0028, "basis": "price_table"}  # 2 x 4 steps x $0.00035
    assert more["cost"] == {"usd": 0.0028, "basis": "price_table"}  # 8 steps x $0.00035


def test_a_per_megapixel_price_with_steps_through_the_gateway(tmp_path: Path) -> None:
    emulator = TogetherEmulator(api_key="together_test_price_key", strict=True)
    with _served("together", emulator, tmp_path) as gw:
        answer = _generate(
            gw,
            model="together/black-forest-labs/FLUX.1-schnell",
            size="512x512",
            response_format="b64_json",
            provider_params={"steps": 8},
        )
    assert _size(answer) == (512, 512)
    assert answer["cost"] == {"usd": 0.00135, "basis": "price_table"}  # 0.25 MP x 2 x $0.0027


def test_a_price_per_million_pixels_through_the_gateway(tmp_path: Path) -> None:
    emulator = LumaEmulator(api_key="luma_test_price_key", strict=True, generation_seconds=0.05)
    with _served("luma", emulator, tmp_path) as gw:
        answer = _generate(gw, model="luma/photon-1", size="1024x768", response_format="b64_json")
    width, height = _size(answer)  # Luma makes its own size for the ratio asked (4:3)
    assert answer["cost"]["basis"] == "price_table"
    assert answer["cost"]["usd"] == pytest.approx(0.0073 * width * height / 1_000_000, abs=1e-6)


def test_credits_by_size_through_the_gateway(tmp_path: Path) -> None:
    emulator = RunwayEmulator(api_key="runway_test_price_key", strict=True, generation_seconds=0.05)
    with _served("runway", emulator, tmp_path) as gw:
        hd = _generate(gw, model="runway/gen4_image", size="1920x1080")
        small = _generate(gw, model="runway/gen4_image", size="1280x720", n=2)
    assert hd["cost"] == {"usd": 0.08, "basis": "price_table"}  # 8 credits at 1080p
    assert small["cost"] == {"usd": 0.1, "basis": "price_table"}  # 2 x 5 credits at 720p
