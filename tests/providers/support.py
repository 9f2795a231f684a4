"""The fixtures every provider's test module needs: its emulator (module-wide, reset before
each test), the real gateway pointed at it (the contract's settings, `tests/contract/harness`),
and the official `openai` SDK on that gateway. A new provider's test file:

    from tests.providers.support import decoded, error_of, provider_fixtures

    emu, gw, _reset, sdk = provider_fixtures(
        "runway", lambda: RunwayEmulator(api_key=RUNWAY_TEST_KEY, strict=True)
    )

and its tests take `emu`, `gw` and `sdk` as arguments. `settings` replaces the contract's
gateway settings (a function of the emulator); an async emulator's job timings
(`emu.book.queue_seconds`...) that a test changes are put back after it.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import httpx
import openai
import pytest
from PIL import Image

from emulators.kit import Emulator
from emulators.kit.jobs import JobEmulator
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway
from tests.contract.harness import provider_settings, serve_gateway
from tests.contract.providers import CONTRACTS

E = TypeVar("E", bound=Emulator)


def provider_fixtures(
    provider: str,
    make_emulator: Callable[[], E],
    settings: Callable[[E], dict[str, Any]] | None = None,
) -> tuple[Any, Any, Any, Any]:
    """The fixtures `emu`, `gw`, `_reset` (autouse) and `sdk` of one provider's module: bind
    all four to module names (pytest finds them there)."""

    @pytest.fixture(scope="module", name="emu")
    def emu() -> Iterator[E]:
        with make_emulator() as emulator:
            yield emulator

    @pytest.fixture(scope="module", name="gw")
    def gw(emu: E, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningGateway]:
        values = (settings or gateway_settings(provider))(emu)
        with serve_gateway(tmp_path_factory.mktemp(provider), **values) as gateway:
            yield gateway

    @pytest.fixture(autouse=True, name="_reset")
    def reset(emu: E) -> Iterator[None]:
        emu.reset()
        book = emu.book if isinstance(emu, JobEmulator) else None
        timings = None if book is None else (book.queue_seconds, book.generation_seconds,
                                             book.retention)  # fmt: skip
        yield
        if book is not None and timings is not None:
            book.queue_seconds, book.generation_seconds, book.retention = timings

    @pytest.fixture(name="sdk")
    def sdk(gw: RunningGateway) -> openai.OpenAI:
        return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)

    return emu, gw, reset, sdk


def gateway_settings(provider: str) -> Callable[[Emulator], dict[str, Any]]:
    """The contract suite's gateway settings for `provider` pointed at an emulator."""
    return lambda emulator: provider_settings(CONTRACTS[provider], emulator)


def decoded(b64: str | None) -> Image.Image:
    """A base64 image (a `b64_json`) opened with Pillow."""
    return Image.open(io.BytesIO(base64.b64decode(b64 or "")))


def fetched(url: str | None) -> Image.Image:
    """An image the gateway stored for `response_format: "url"` (its own
    `/v1/images/files/{id}` link), downloaded and opened with Pillow."""
    resp = httpx.get(url or "", timeout=10)
    assert resp.status_code == 200, resp.text
    return Image.open(io.BytesIO(resp.content))


def error_of(resp: httpx.Response) -> dict[str, Any]:
    """The gateway's `error` object of a refused request."""
    error: dict[str, Any] = resp.json()["error"]
    return error


def generate(gw: RunningGateway, default_model: str, /, **body: Any) -> httpx.Response:
    """POST /v1/images/generations (`default_model` and prompt "a lighthouse" unless given)."""
    body.setdefault("prompt", "a lighthouse")
    body.setdefault("model", default_model)
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)
