"""Synchronous and asynchronous requests are refused alike: every refusal a request can get
before a provider is called (configuration, validation, scopes, allow-lists, prompt length,
masks, rate, concurrency, budget, input images named by URL that are refused or are not images,
a mask BFL's conversion cannot read) has the same status and error body whether the request is
synchronous, asynchronous (`Prefer: respond-async`, with a webhook) or carries an
`Idempotency-Key` — and an asynchronous one gets it before any 202: no job is created, no
webhook is attempted, no provider is called.

And a key that may not make a request never makes the gateway fetch the images it names."""

from __future__ import annotations

import io
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.admin_helpers import ADMIN_TEST_KEY, create_key
from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY, Canary, RunningGateway
from tests.image_host import PNG_SIGNATURE, _png_chunk
from tests.jobs.support import ASYNC, FAST, eventually
from tests.jobs.test_webhooks_delivery import Receiver

MODES = ("sync", "async", "sync-idempotent", "async-idempotent")
MAX_PROMPT = 100
LOCAL = {"prompt": "a lighthouse", "size": "64x64"}
FLUX_PRO = {"prompt": "a fox", "model": "flux-pro-1.1", "size": "512x512"}  # $0.04
WEBHOOK_SECRET = "whsec_preflight-0123456789"


@dataclass
class Call:
    """One request: its key, and a JSON body or (for an edit) multipart fields and files."""

    key: str = GATEWAY_TEST_KEY
    json: dict[str, Any] | None = None
    data: dict[str, Any] | None = None
    files: dict[str, Any] | None = None

    @property
    def path(self) -> str:
        return "/v1/images/generations" if self.json is not None else "/v1/images/edits"


@dataclass
class Refusal:
    status: int
    code: str
    param: str | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    bfl: bool = True  # whether BFL is configured on the gateway


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGBA", (64, 64), (0, 0, 0, 0)).save(out, "PNG")
    return out.getvalue()


def _undecodable_png(side: int = 64) -> bytes:
    """A PNG whose headers and checksums are sound (it passes the upload check, which decodes
    no pixels) but whose pixel data is not deflate: only decoding it fails."""
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 6, 0, 0, 0)
    idat = b"\x78\x9c" + b"not-deflate-data" * 4
    return (
        PNG_SIGNATURE
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", idat)
        + _png_chunk(b"IEND", b"")
    )


class Setups:
    """What each case does before its refused request, run once per mode (keys are fresh per
    mode, so a limit one mode spent does not refuse the next)."""

    def __init__(self, gw: RunningGateway, bfl: Any, canary: Canary) -> None:
        self.gw, self.bfl, self.canary = gw, bfl, canary
        self.holders: list[threading.Thread] = []

    def __call__(self, case: str) -> Call:
        return getattr(self, case.replace("-", "_"))()  # type: ignore[no-any-return]

    def not_configured_bfl(self) -> Call:
        return Call(json={**FLUX_PRO, "model": "flux-dev"})

    def not_configured_openai(self) -> Call:
        return Call(json={"prompt": "a fox", "model": "gpt-image-1"})

    def unknown_model(self) -> Call:
        return Call(json={**LOCAL, "model": "no-such-model"})

    def unknown_provider(self) -> Call:
        return Call(json={**LOCAL, "provider": "no-such-provider"})

    def unsupported_size(self) -> Call:
        return Call(json={**LOCAL, "size": "7x7"})

    def prompt_too_long(self) -> Call:
        return Call(json={**LOCAL, "prompt": "x" * (MAX_PROMPT + 1)})

    def unknown_provider_param(self) -> Call:
        return Call(json={**FLUX_PRO, "provider_params": {"no_such_param": 1}})

    def unknown_fallback(self) -> Call:
        return Call(json={**LOCAL, "fallbacks": ["no-such-model"]})

    def mask_without_image(self) -> Call:
        return Call(data={"prompt": "p"}, files={"mask": ("m.png", _png(), "image/png")})

    def input_image_refused(self) -> Call:  # a loopback URL: the SSRF guard refuses it
        params = {"image_prompt": f"http://127.0.0.1:{self.canary.port}/a.png"}
        return Call(json={**FLUX_PRO, "provider_params": params})

    def input_image_not_an_image(self) -> Call:
        params = {"image_prompt": "data:image/png;base64,aGVsbG8gd29ybGQ="}
        return Call(json={**FLUX_PRO, "provider_params": params})

    def edit_image_url_refused(self) -> Call:
        url = f"http://127.0.0.1:{self.canary.port}/a.png"
        return Call(data={"prompt": "p", "model": "local-art", "image_url": url})

    def mask_bfl_cannot_read(self) -> Call:
        files = {
            "image": ("i.png", _png(), "image/png"),
            "mask": ("m.png", _undecodable_png(), "image/png"),
        }
        return Call(data={"prompt": "p", "model": "flux-pro-1.0-fill"}, files=files)

    def edit_without_scope(self) -> Call:
        key = create_key(self.gw, scopes=["generate"])["key"]
        return Call(key, data={"prompt": "p"}, files={"image": ("i.png", _png(), "image/png")})

    def generate_without_scope(self) -> Call:
        return Call(create_key(self.gw, scopes=["usage"])["key"], json=LOCAL)

    def admin_key(self) -> Call:
        return Call(ADMIN_TEST_KEY, json=LOCAL)

    def provider_not_allowed(self) -> Call:
        return Call(create_key(self.gw, allowed_providers=["local"])["key"], json=FLUX_PRO)

    def model_not_allowed(self) -> Call:
        key = create_key(self.gw, allowed_models=["bfl-flux/flux-dev"])["key"]
        return Call(key, json=FLUX_PRO)

    def rate(self) -> Call:
        key = create_key(self.gw, requests_per_minute=1)["key"]
        with self.gw.client(key=key) as http:
            assert http.post("/v1/images/generations", json=LOCAL).status_code == 200
        return Call(key, json=LOCAL)

    def concurrency(self) -> Call:
        key = create_key(self.gw, max_concurrent=1)["key"]
        submits = self.bfl.stats()["submits"]

        def hold() -> None:  # a generation that never becomes ready holds the key's one slot
            with self.gw.client(key=key) as http:
                body = {**FLUX_PRO, "model": "flux-dev", "prompt": "[never-ready]"}
                assert http.post("/v1/images/generations", json=body).status_code == 504

        holder = threading.Thread(target=hold)
        holder.start()
        self.holders.append(holder)
        eventually(lambda: self.bfl.stats()["submits"] > submits)
        return Call(key, json=LOCAL)

    def budget_too_small(self) -> Call:
        return Call(create_key(self.gw, monthly_budget_usd=0.01)["key"], json=FLUX_PRO)

    def budget_spent(self) -> Call:
        key = create_key(self.gw, monthly_budget_usd=0.04)["key"]
        with self.gw.client(key=key) as http:
            assert http.post("/v1/images/generations", json=FLUX_PRO).status_code == 200
        return Call(key, json=FLUX_PRO)


CASES = {
    "not-configured-bfl": Refusal(503, "provider_not_configured", bfl=False),
    "not-configured-openai": Refusal(503, "provider_not_configured"),
    "unknown-model": Refusal(404, "model_not_found", "model"),
    "unknown-provider": Refusal(404, "provider_not_found", "provider"),
    "unsupported-size": Refusal(400, "invalid_value", "size"),
    "prompt-too-long": Refusal(400, "invalid_value", "prompt"),
    "unknown-provider-param": Refusal(400, "unknown_parameter", "provider_params.no_such_param"),
    "unknown-fallback": Refusal(404, "model_not_found", "fallbacks[0]"),
    "mask-without-image": Refusal(400, "invalid_value", "image"),
    "input-image-refused": Refusal(400, "invalid_image", "provider_params.image_prompt"),
    "input-image-not-an-image": Refusal(400, "invalid_image", "provider_params.image_prompt"),
    "edit-image-url-refused": Refusal(400, "invalid_image", "image_url"),
    "mask-bfl-cannot-read": Refusal(400, "invalid_value", "mask"),
    "edit-without-scope": Refusal(403, "missing_scope"),
    "generate-without-scope": Refusal(403, "missing_scope"),
    "admin-key": Refusal(403, "admin_key_cannot_generate"),
    "provider-not-allowed": Refusal(403, "model_not_allowed", "model"),
    "model-not-allowed": Refusal(403, "model_not_allowed", "model"),
    "rate": Refusal(429, "rate_limit_exceeded"),
    "concurrency": Refusal(
        429, "concurrency_limit_exceeded", settings={"bfl_poll_timeout_seconds": 3}
    ),
    "budget-too-small": Refusal(402, "budget_exceeded"),
    "budget-spent": Refusal(402, "budget_exceeded"),
}


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


def _send(gw: RunningGateway, call: Call, mode: str, receiver: Receiver, n: int) -> httpx.Response:
    headers: dict[str, str] = {}
    json_body = call.json
    data = call.data
    if mode.startswith("async"):
        headers.update(ASYNC)
        hook = {"webhook_url": receiver.url, "webhook_secret": WEBHOOK_SECRET}
        if json_body is not None:
            json_body = {**json_body, **hook}
        else:
            data = {**(data or {}), **hook}
    if mode.endswith("idempotent"):
        headers["Idempotency-Key"] = f"preflight-{mode}-{n}"
    with gw.client(key=call.key) as http:
        return http.post(call.path, json=json_body, data=data, files=call.files, headers=headers)


@pytest.mark.parametrize("case", list(CASES))
def test_sync_and_async_get_the_same_refusal_before_any_job(
    start_gateway: Callable[..., RunningGateway],
    bfl: Any,
    receiver: Receiver,
    canary: Canary,
    case: str,
) -> None:
    refusal = CASES[case]
    settings: dict[str, Any] = {
        **FAST,
        "admin_api_key": ADMIN_TEST_KEY,
        "max_prompt_chars": MAX_PROMPT,
        "webhook_allow_hosts": [receiver.authority],
        **refusal.settings,
    }
    if refusal.bfl:
        settings.update(
            bfl_api_key=BFL_TEST_KEY,
            bfl_base_url=bfl.base_url,
            bfl_trusted_hosts=bfl.poll_base_url,
        )
    gw = start_gateway(**settings)
    setups = Setups(gw, bfl, canary)
    answers: dict[str, tuple[int, str, str | None, bool]] = {}
    bodies: dict[str, dict[str, Any]] = {}
    submits = 0
    for n, mode in enumerate(MODES):
        call = setups(case)
        submits = bfl.stats()["submits"]  # what the setup itself sent
        resp = _send(gw, call, mode, receiver, n)
        error = resp.json().get("error") or {}
        bodies[mode] = {k: v for k, v in error.items() if k != "request_id"}
        answers[mode] = (
            resp.status_code,
            error.get("code"),
            error.get("param"),
            "retry-after" in resp.headers,
        )
        assert bfl.stats()["submits"] == submits, mode  # the provider was not called
        assert resp.status_code != 202 and "location" not in resp.headers, (mode, resp.text)
    for holder in setups.holders:
        holder.join(10)
    expected = (refusal.status, refusal.code)
    assert {mode: answer[:2] for mode, answer in answers.items()} == dict.fromkeys(MODES, expected)
    assert len(set(answers.values())) == 1, answers  # param and Retry-After alike too
    assert all(body == bodies["sync"] for body in bodies.values()), bodies  # the whole error
    if refusal.param is not None:
        assert answers["sync"][2] == refusal.param
    with gw.client(key=ADMIN_TEST_KEY) as admin:  # the admin key sees every key's jobs
        assert admin.get("/v1/jobs").json()["data"] == []
    time.sleep(4 * FAST["job_sweep_seconds"])  # a webhook due would be delivered by now
    assert receiver.deliveries == []
    assert canary.accepted == 0  # nothing was fetched from a refused address


# (key settings, model, status): edits whose images are named by URL, refused at admission or
# for configuration. The listener is allowed through FETCH_ALLOW_HOSTS, so a fetch would reach it.
REFUSED_EDITS = {
    "no-edit-scope": ({"scopes": ["generate"]}, "local-art", 403),
    "provider-not-allowed": ({"allowed_providers": ["local"]}, "flux-kontext-pro", 403),
    "model-not-allowed": ({"allowed_models": ["local/local-art"]}, "flux-kontext-pro", 403),
    "budget-too-small": ({"monthly_budget_usd": 0.01}, "flux-kontext-pro", 402),
    "not-configured": ({}, "gpt-image-1", 503),
}
# The JSON edit also names a mask, so its model must take one: Kontext does not, Fill does.
MASKED = {"flux-kontext-pro": "flux-pro-1.0-fill"}


@pytest.mark.parametrize("case", list(REFUSED_EDITS))
def test_a_refused_edit_fetches_nothing(
    start_gateway: Callable[..., RunningGateway], bfl: Any, canary: Canary, case: str
) -> None:
    limits, model, status = REFUSED_EDITS[case]
    gw = start_gateway(
        **FAST,
        admin_api_key=ADMIN_TEST_KEY,
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        fetch_allow_hosts=[f"127.0.0.1:{canary.port}"],
    )
    key = create_key(gw, **limits)["key"] if limits else GATEWAY_TEST_KEY
    url = f"http://127.0.0.1:{canary.port}/a.png"
    mask = f"http://127.0.0.1:{canary.port}/m.png"
    with gw.client(key=key) as http:
        for headers in ({}, ASYNC, {"Idempotency-Key": f"refused-{case}"}):
            multipart = http.post(
                "/v1/images/edits",
                data={"prompt": "p", "model": model, "image_url": [url, url]},
                headers=headers,
            )
            body = {
                "prompt": "p",
                "model": MASKED.get(model, model),
                "images": [{"image_url": url}],
            }
            as_json = http.post(
                "/v1/images/edits", json={**body, "mask": {"image_url": mask}}, headers=headers
            )
            for resp in (multipart, as_json):
                assert resp.status_code == status, (headers, resp.text)
    time.sleep(0.2)  # let the listener count anything that did arrive
    assert canary.accepted == 0
    assert bfl.stats()["submits"] == 0


def test_an_admitted_edit_fetches_its_urls(
    start_gateway: Callable[..., RunningGateway], canary: Canary
) -> None:
    """The control for the test above: the same listener counts the fetch of an admitted edit
    (it answers nothing, so the edit is a 400 naming the field)."""
    gw = start_gateway(**FAST, fetch_allow_hosts=[f"127.0.0.1:{canary.port}"])
    url = f"http://127.0.0.1:{canary.port}/a.png"
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits", data={"prompt": "p", "model": "local-art", "image_url": url}
        )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "image_url", resp.text
    eventually(lambda: canary.accepted >= 1)
