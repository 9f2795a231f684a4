"""Prices: the data file covers every catalogued model with a source, and each way of pricing
(the provider's own charge, tokens, per image, per megapixel, unknown) gives the right USD and
says which it used."""

from __future__ import annotations

import json
from typing import Any

import pytest

from image_gateway.billing.pricing import PRICES_FILE, Priced, PriceTable
from image_gateway.providers.bfl.models import MODELS as BFL_MODELS
from image_gateway.providers.openai.models import MODELS as OPENAI_MODELS
from image_gateway.schemas import Charge, ImageTask, InputImage

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
