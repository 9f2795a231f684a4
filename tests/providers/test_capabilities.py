"""One rule for every model of every provider: what `/v1/providers` lists for a model is what a
request to it may carry. A listed value is accepted; an unlisted one is a 400 naming the field,
unless it is OpenAI's documented default, which then means "not given". Checked over sockets
for every model the registry offers (providers need no key: validation comes first)."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from PIL import Image

from image_gateway.providers.registry import DEFINITIONS
from image_gateway.schemas import OPENAI_DEFAULTS
from tests.conftest import RunningGateway

# Every value the wire accepts for each common choice field.
CHOICES: dict[str, tuple[str, ...]] = {
    "quality": ("low", "medium", "high", "auto", "standard", "hd"),
    "style": ("vivid", "natural"),
    "background": ("transparent", "opaque", "auto"),
    "moderation": ("low", "auto"),
    "output_format": ("png", "jpeg", "webp"),
}
# Card flag -> a request that uses it.
FLAGS: dict[str, dict[str, Any]] = {
    "seed": {"seed": 7},
    "negative_prompt": {"negative_prompt": "fog"},
    "output_compression": {"output_compression": 60, "output_format": "webp"},
}


def cards(gw: RunningGateway) -> list[tuple[str, dict[str, Any]]]:
    """(provider/model, card) of every model that can generate without an input image."""
    with gw.client() as http:
        providers = http.get("/v1/providers").json()["data"]
    return [
        (f"{p['id']}/{card['id']}", card)
        for p in providers
        for card in p["models"]
        if not card.get("requires_input_image")
    ]


def post(
    http: httpx.Client, model: str, card: dict[str, Any], extra: dict[str, Any]
) -> httpx.Response:
    body: dict[str, Any] = {"prompt": "p", "model": model, **extra}
    if model.startswith("local/"):
        body["size"] = "64x64"  # cheap to draw
    if "finetune_id" in card["provider_params"]:
        body["provider_params"] = {"finetune_id": "ft-1"}  # fine-tuned endpoints need one
    return http.post("/v1/images/generations", json=body)


def accepted(resp: httpx.Response) -> bool:
    """Past validation: served (local) or 503 for a provider without a key."""
    return resp.status_code == 200 or (
        resp.status_code == 503 and resp.json()["error"]["code"] == "provider_not_configured"
    )


@pytest.mark.parametrize("field", list(CHOICES))
def test_every_model_takes_what_it_lists_and_refuses_the_rest(
    gateway: RunningGateway, field: str
) -> None:
    models = cards(gateway)
    assert {model.split("/")[0] for model, _ in models} == set(DEFINITIONS)
    with gateway.client() as http:
        for model, card in models:
            listed = card["output_formats"] if field == "output_format" else card[field]
            for value in CHOICES[field]:
                extra: dict[str, Any] = {field: value}
                if field == "background" and "png" in card["output_formats"]:
                    extra["output_format"] = "png"  # transparency needs png or webp
                resp = post(http, model, card, extra)
                if value in listed or value in OPENAI_DEFAULTS[field]:
                    assert accepted(resp), (model, field, value, resp.text)
                else:
                    assert resp.status_code == 400, (model, field, value, resp.text)
                    assert resp.json()["error"]["param"] == field, (model, value)


@pytest.mark.parametrize("flag", list(FLAGS))
def test_every_model_takes_its_flags_and_refuses_the_rest(
    gateway: RunningGateway, flag: str
) -> None:
    with gateway.client() as http:
        for model, card in cards(gateway):
            extra = dict(FLAGS[flag])
            # A compressed format the model makes (Azure's: jpeg only), else none.
            compressed = [f for f in ("webp", "jpeg") if f in card["output_formats"]]
            if "output_format" in extra and compressed:
                extra["output_format"] = compressed[0]
            else:
                extra.pop("output_format", None)
                if flag == "output_compression" and "jpeg" in card["output_formats"]:
                    extra["output_format"] = "jpeg"  # compression needs a lossy format
            resp = post(http, model, card, extra)
            if card[flag]:
                assert accepted(resp), (model, flag, resp.text)
            else:
                assert resp.status_code == 400, (model, flag, resp.text)
                error = resp.json()["error"]
                assert (error["param"], error["code"]) == (flag, "unsupported_parameter")


def test_input_fidelity_is_for_edits_of_models_that_list_it(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        for model, card in cards(gateway):
            default = post(http, model, card, {"input_fidelity": "low"})
            assert accepted(default), model
            resp = post(http, model, card, {"input_fidelity": "high"})
            assert resp.status_code == 400 and resp.json()["error"]["param"] == "input_fidelity"
            if "high" in card["input_fidelity"]:
                assert "edits only" in resp.json()["error"]["message"], model


def test_a_mask_reaches_only_models_that_list_it(gateway: RunningGateway) -> None:
    """`mask` on the card is the one declaration: an edit with a mask to a model without it is
    a 400 naming `mask` (the provider would drop it unread or refuse it), and the message names
    the provider's models that take one; to a model with it, the mask passes validation."""
    image, mask = _png("RGB"), _png("RGBA")
    with gateway.client() as http:
        providers = http.get("/v1/providers").json()["data"]
        edits = [(p, card) for p in providers for card in p["models"] if card["edits"]]
        assert {card["mask"] for _, card in edits} == {True, False}
        for provider, card in edits:
            resp = http.post(
                "/v1/images/edits",
                data={"model": f"{provider['id']}/{card['id']}", "prompt": "p"},
                files={
                    "image": ("i.png", image, "image/png"),
                    "mask": ("m.png", mask, "image/png"),
                },
            )
            error = resp.json().get("error") or {}
            if card["mask"]:
                assert error.get("param") != "mask", (card["id"], resp.text)
                continue
            assert resp.status_code == 400, (card["id"], resp.text)
            assert (error["param"], error["code"]) == ("mask", "unsupported_parameter")
            takers = [other["id"] for other in provider["models"] if other["mask"]]
            assert all(taker in error["message"] for taker in takers), error["message"]


def _png(mode: str) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (64, 64)).save(out, "PNG")
    return out.getvalue()
