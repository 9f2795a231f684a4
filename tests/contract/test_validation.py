"""Every provider's validation, for every model it offers:

- is pure: `normalize` may fill in what a request implies, `validate` then changes nothing,
  whether it accepts the task or refuses it (checked in-process, on every model, with every
  declared value and a refused one of every field);
- matches its catalogue: through the gateway, each value a model's `/v1/providers` card
  declares is accepted, and a value or field it does not declare is a 400 naming that field.
  The gateway has no provider key, so an accepted request ends in 503
  `provider_not_configured` before anything is sent (validation comes first), or is served by
  a provider that needs no key.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from image_gateway.errors import CallerError
from image_gateway.providers.kit.base import Provider, adapter_class
from image_gateway.providers.kit.capabilities import (
    COMPRESSED_FORMATS,
    TRANSPARENT_FORMATS,
    ModelSpec,
    drop_defaults,
)
from image_gateway.providers.registry import DEFINITIONS
from image_gateway.schemas import OPENAI_DEFAULTS, ImageTask, InputImage
from image_gateway.upstream.client import UpstreamClient
from tests.conftest import RunningGateway, make_settings
from tests.contract.harness import (
    brief,
    contract_of,
    each_provider,
    known_bug,
    png,
    png_file,
    serve_gateway,
)

CHOICES = {  # card entry -> request field
    "quality": "quality",
    "style": "style",
    "background": "background",
    "moderation": "moderation",
    "input_fidelity": "input_fidelity",
    "output_formats": "output_format",
}
# A real value of each choice field that is not one of OpenAI's defaults (a default a model
# cannot honour means "not given", so it would be accepted).
REAL_VALUES = {
    "quality": "high",
    "style": "natural",
    "background": "opaque",
    "moderation": "low",
    "input_fidelity": "high",
    "output_format": "webp",
}
FLAGS: dict[str, dict[str, Any]] = {  # card flag -> a request that uses it
    "seed": {"seed": 7},
    "negative_prompt": {"negative_prompt": "fog"},
    "output_compression": {"output_compression": 60},
    "aspect_ratio": {"aspect_ratio": "16:9"},
}
UNDECLARED_PARAM = "contract_undeclared_param"


# --- purity, in-process ------------------------------------------------------------------------


@pytest.fixture
def provider_instance(provider: str, tmp_path: Path) -> Iterator[Provider]:
    http = UpstreamClient(
        connect_timeout=1, read_timeout=1, max_connections=1, max_response_bytes=1
    )
    yield adapter_class(DEFINITIONS[provider])(make_settings(tmp_path), http)


@pytest.mark.parametrize("provider", each_provider(upstream=False))
def test_validation_is_pure(
    provider: str, provider_instance: Provider, request: pytest.FixtureRequest
) -> None:
    known_bug(request, provider)
    changed: list[str] = []
    for spec in provider_instance.catalogue().values():
        for name, task in tasks_for(provider, spec):
            drop_defaults(task, spec)  # as the gateway does, per candidate
            provider_instance.normalize(task, spec)
            before = copy.deepcopy(task)
            try:
                provider_instance.validate(task, spec)
            except CallerError:
                pass
            if task != before:
                diff = {
                    f: (getattr(before, f), getattr(task, f))
                    for f in before.__dataclass_fields__
                    if getattr(before, f) != getattr(task, f)
                }
                changed.append(f"{spec.id} {name}: {diff}")
    assert not changed, changed


def tasks_for(provider: str, spec: ModelSpec) -> Iterator[tuple[str, ImageTask]]:
    """Tasks using each declared value of each field, and one refused value of each."""
    params = dict(contract_of(provider).model_params.get(spec.id, {}))
    edit = [InputImage(png(), "image/png", "in.png")]

    def task(**fields: Any) -> ImageTask:
        fields.setdefault("params", dict(params))
        as_edit = fields.pop("edit", False)
        if spec.edit_only or as_edit:
            fields.setdefault("images", [InputImage(png(), "image/png", "in.png")])
        return ImageTask(provider=provider, model=spec.id, prompt="a fox", **fields)

    yield "plain", task()
    card = spec.card()
    for entry, field in CHOICES.items():
        for value in [*card[entry], REAL_VALUES[field], "contract-bogus"]:
            yield f"{field}={value}", task(**{field: value}, edit=field == "input_fidelity")
    for flag, fields in FLAGS.items():
        yield flag, task(**fields)
    for ratio in ("1:1", "16:9", "9:16", "21:9"):
        yield f"aspect_ratio={ratio}", task(aspect_ratio=ratio)
    for size in [*spec.sizes, "1024x1024", "1000x600", "123x457"]:
        width, height = (int(x) for x in size.split("x"))
        yield f"size={size}", task(size=(width, height))
    yield "n=max", task(n=spec.max_n)
    yield "n=max+1", task(n=spec.max_n + 1)
    yield "undeclared param", task(params={**params, UNDECLARED_PARAM: 1})
    if spec.edits:
        yield "edit", task(images=edit)
        mask = InputImage(png(mode="RGBA"), "image/png", "mask.png")
        yield "edit with mask", task(images=edit, mask=mask)


# --- the catalogue, through the gateway --------------------------------------------------------


@pytest.fixture(scope="module")
def unconfigured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
    """A gateway without any provider key (`local` needs none)."""
    with serve_gateway(tmp_path_factory.mktemp("contract-catalogue")) as gateway:
        yield gateway


@pytest.mark.parametrize("provider", each_provider(upstream=False))
def test_the_catalogue_is_what_is_accepted(
    provider: str, unconfigured: RunningGateway, request: pytest.FixtureRequest
) -> None:
    known_bug(request, provider)
    params = contract_of(provider).model_params
    with unconfigured.client() as http:
        listed = {p["id"]: p for p in http.get("/v1/providers").json()["data"]}
        assert provider in listed, sorted(listed)
        cards = listed[provider]["models"]
        assert cards, f"{provider} lists no model"
        wrong: list[str] = []
        for card in cards:
            base = {"model": f"{provider}/{card['id']}", "prompt": "a fox"}
            if card["id"] in params:
                base["provider_params"] = dict(params[card["id"]])
            for fields, edit in accepted_requests(card):
                resp = send(http, {**base, **fields}, edit or card.get("requires_input_image"))
                if not accepted(resp):
                    wrong.append(f"{card['id']} {fields}: {brief(resp)}")
            for fields, field, edit in refused_requests(card):
                resp = send(http, {**base, **fields}, edit or card.get("requires_input_image"))
                param = resp.json().get("error", {}).get("param") if resp.is_error else None
                if resp.status_code != 400 or param != field:
                    wrong.append(f"{card['id']} {fields}: {brief(resp)}")
    assert not wrong, wrong


def accepted_requests(card: dict[str, Any]) -> Iterator[tuple[dict[str, Any], bool]]:
    """(fields, as an edit) for each value the card declares."""
    formats = card["output_formats"]
    for entry, field in CHOICES.items():
        for value in card[entry]:
            fields: dict[str, Any] = {field: value}
            if field == "background" and value == "transparent":
                fields["output_format"] = next(f for f in formats if f in TRANSPARENT_FORMATS)
            yield fields, field == "input_fidelity"
    for flag, fields in FLAGS.items():
        if card[flag]:
            if flag == "output_compression":
                fields = {**fields, "output_format": _first(formats, COMPRESSED_FORMATS)}
            yield fields, False
    if isinstance(card["sizes"], list):
        for size in card["sizes"]:
            yield {"size": size}, False


def refused_requests(card: dict[str, Any]) -> Iterator[tuple[dict[str, Any], str, bool]]:
    """(fields, the field the 400 must name, as an edit) for what the card does not declare."""
    for entry, field in CHOICES.items():
        declared = card[entry]
        edit = field == "input_fidelity" and card["edits"]
        if declared:
            yield {field: "contract-bogus"}, field, edit
        elif REAL_VALUES[field] not in OPENAI_DEFAULTS.get(field, ()):
            yield {field: REAL_VALUES[field]}, field, edit
    undeclared_formats = [f for f in ("jpeg", "webp") if f not in card["output_formats"]]
    for fmt in undeclared_formats:
        yield {"output_format": fmt}, "output_format", False
    for flag, fields in FLAGS.items():
        if not card[flag]:
            yield fields, flag, False
    if isinstance(card["sizes"], list):
        yield {"size": "123x457"}, "size", False
    yield {"provider_params": {UNDECLARED_PARAM: 1}}, f"provider_params.{UNDECLARED_PARAM}", False


def send(http: httpx.Client, body: dict[str, Any], edit: bool) -> httpx.Response:
    if not edit:
        return http.post("/v1/images/generations", json=body)
    data = {k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in body.items()}
    return http.post("/v1/images/edits", data=data, files={"image": png_file()})


def accepted(resp: httpx.Response) -> bool:
    """Past validation: served (a provider without a key) or 503 for one that needs a key."""
    return resp.status_code == 200 or (
        resp.status_code == 503 and resp.json()["error"]["code"] == "provider_not_configured"
    )


def _first(values: list[str], wanted: tuple[str, ...]) -> str:
    return next(v for v in values if v in wanted)
