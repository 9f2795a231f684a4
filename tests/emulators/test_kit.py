"""The emulator kit over real sockets, the same way for every emulator on it: the scenario
interface (each standard failure in the provider's own form), the request record, strict
mode, the HTTP control surface, signed URL expiry and the standard command line."""

from __future__ import annotations

import base64
import io
import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PIL import Image

from emulators.bfl import BFLEmulator
from emulators.kit import SCENARIOS, Emulator, UnknownScenario
from emulators.kit.signed_urls import SignedUrls
from emulators.openai_images import OpenAIEmulator
from emulators.registry import EMULATORS, load

ROOT = Path(__file__).resolve().parents[2]


class Provider:
    """How a test submits a paid generation to one emulator, in the provider's own terms."""

    def __init__(self, name: str, make: Callable[[], Emulator]) -> None:
        self.name, self.make = name, make

    def submit(
        self, emu: Emulator, prompt: str = "a lighthouse", timeout: float = 5, **fields: Any
    ) -> httpx.Response:
        if isinstance(emu, OpenAIEmulator):
            body = {"model": "gpt-image-1", "prompt": prompt, **fields}
            headers = {"Authorization": f"Bearer {emu.api_key}"}
            url = f"{emu.base_url}/images/generations"
        else:
            body, headers = {"prompt": prompt, **fields}, {"x-key": emu.api_key}
            url = f"{emu.base_url}/v1/flux-dev"
        return httpx.post(url, json=body, headers=headers, timeout=timeout)

    def __repr__(self) -> str:
        return self.name


OPENAI = Provider("openai", lambda: OpenAIEmulator())
BFL = Provider("bfl", lambda: BFLEmulator(generation_seconds=0.05))
PROVIDERS = [OPENAI, BFL]


@pytest.fixture(scope="module")
def running() -> Iterator[dict[str, Emulator]]:
    emulators = {p.name: p.make().start() for p in PROVIDERS}
    yield emulators
    for emu in emulators.values():
        emu.stop()


@pytest.fixture(params=PROVIDERS, ids=repr)
def case(request: pytest.FixtureRequest, running: dict[str, Emulator]) -> tuple[Provider, Any]:
    provider: Provider = request.param
    emu = running[provider.name]
    emu.reset()
    return provider, emu


def poll_bfl(emu: BFLEmulator, answer: httpx.Response) -> dict[str, Any]:
    deadline = time.monotonic() + 5
    while True:
        result = httpx.get(answer.json()["polling_url"], headers={"x-key": emu.api_key}).json()
        if result["status"] != "Pending" or time.monotonic() > deadline:
            return dict(result)
        time.sleep(0.02)


# --- the scenario interface -------------------------------------------------------------------


def test_every_emulator_in_the_registry_is_on_the_kit() -> None:
    for name in EMULATORS:
        cls = load(name)
        assert cls.NAME == name and issubclass(cls, Emulator)
        assert set(cls.SCENARIO_FAULTS) <= set(SCENARIOS)


def test_supports_names_the_forms_each_provider_has(running: dict[str, Emulator]) -> None:
    openai, bfl = running["openai"], running["bfl"]
    assert [s for s in SCENARIOS if not openai.supports(s)] == ["moderated_200"]
    assert [s for s in SCENARIOS if not bfl.supports(s)] == ["moderated"]
    with pytest.raises(ValueError):
        openai.supports("nope")
    with pytest.raises(UnknownScenario):
        openai.scenario("moderated_200")
    with pytest.raises(UnknownScenario):
        bfl.scenario("teapot")


def test_base_url_and_key(running: dict[str, Emulator]) -> None:
    openai, bfl = running["openai"], running["bfl"]
    assert openai.base_url.endswith("/v1") and openai.api_key == "sk-emulator"
    assert not bfl.base_url.endswith("/v1") and bfl.api_key == "bfl-emulator"


def test_rate_limited(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    emu.scenario("rate_limited")
    refused = provider.submit(emu)
    assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
    if provider is OPENAI:
        assert refused.headers["retry-after-ms"] == "1000"
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
    else:
        assert "maximum number of active tasks" in refused.json()["detail"]
    assert emu.stats()["submissions"] == 0
    assert provider.submit(emu).status_code == 200  # once
    assert emu.stats()["submissions"] == 1


def test_server_error_in_the_provider_shape(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    emu.scenario("server_error", times=2)
    for _ in range(2):
        failed = provider.submit(emu)
        assert failed.status_code == 500
        body = failed.json()
        if provider is OPENAI:
            assert body["error"]["type"] == "server_error"
        else:
            assert body == {"detail": "Internal Server Error"}
    assert provider.submit(emu).status_code == 200
    assert emu.stats()["submissions"] == 1 and emu.stats()["faults_triggered"] == 2


def test_hang_until_the_client_gives_up(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    emu.scenario("hang")
    with pytest.raises(httpx.ReadTimeout):
        provider.submit(emu, timeout=0.5)
    assert emu.stats()["submissions"] == 0
    assert provider.submit(emu).status_code == 200


def test_reset_after_send_bills_the_submission(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    emu.scenario("reset_after_send")
    with pytest.raises(httpx.TransportError):
        provider.submit(emu, prompt="billed, never answered")
    stats = emu.stats()
    paid = "generate" if provider is OPENAI else "submit"
    assert stats["submissions"] == 1 and stats["requests"][paid] == 1
    assert emu.requests()[-1]["fields"]["prompt"] == "billed, never answered"


def test_malformed_json(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    emu.scenario("malformed_json")
    broken = provider.submit(emu)
    assert broken.status_code == 200 and broken.headers["content-type"] == "application/json"
    with pytest.raises(ValueError):
        broken.json()


def test_moderated_is_an_http_error_at_openai(running: dict[str, Emulator]) -> None:
    emu = running["openai"]
    emu.reset()
    emu.scenario("moderated")
    refused = OPENAI.submit(emu, prompt="an innocent prompt")
    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "moderation_blocked"
    assert emu.stats()["submissions"] == 0
    assert OPENAI.submit(emu, prompt="an innocent prompt").status_code == 200


def test_moderated_200_is_a_poll_status_at_bfl(running: dict[str, Emulator]) -> None:
    emu = running["bfl"]
    assert isinstance(emu, BFLEmulator)
    emu.reset()
    emu.scenario("moderated_200")
    accepted = BFL.submit(emu, prompt="an innocent prompt")
    assert accepted.status_code == 200
    assert poll_bfl(emu, accepted)["status"] == "Request Moderated"
    assert poll_bfl(emu, BFL.submit(emu))["status"] == "Ready"


def test_quota(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    emu.scenario("quota")
    refused = provider.submit(emu)
    if provider is OPENAI:
        assert refused.status_code == 429 and "retry-after" not in refused.headers
        assert refused.json()["error"]["code"] == "insufficient_quota"
    else:
        assert refused.status_code == 402
        assert refused.json() == {"detail": "Insufficient credits"}
    assert emu.stats()["submissions"] == 0


def test_scenarios_over_http(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    control = emu.base_url.removesuffix("/v1") + "/_emulator/scenario"
    listed = httpx.get(control).json()["scenarios"]
    assert listed == {name: emu.supports(name) for name in SCENARIOS}
    assert httpx.post(control, json={"name": "server_error", "times": 2}).json() == {"queued": 1}
    assert httpx.post(control, json={"name": "teapot"}).status_code == 400
    assert httpx.post(control, json={"name": "hang", "times": 0}).status_code == 400
    assert [provider.submit(emu).status_code for _ in range(3)] == [500, 500, 200]


# --- records, counters, reset -------------------------------------------------------------------


def test_requests_record_fields_under_the_provider_names(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    provider.submit(emu, prompt="recorded", seed=7)
    [record] = emu.requests()
    assert record["method"] == "POST"
    assert record["fields"]["prompt"] == "recorded" and record["fields"]["seed"] == 7
    assert record["path"] in ("/v1/images/generations", "/v1/flux-dev")
    emu.reset()
    assert emu.requests() == [] and emu.stats()["submissions"] == 0


def test_multipart_records_name_file_parts(running: dict[str, Emulator]) -> None:
    emu = running["openai"]
    emu.reset()
    png = _png(64, 64)
    httpx.post(
        f"{emu.base_url}/images/edits",
        headers={"Authorization": f"Bearer {emu.api_key}"},
        data={"model": "gpt-image-1", "prompt": "night"},
        files=[("image[]", ("a.png", png, "image/png")), ("image[]", ("b.png", png, "image/png"))],
    ).raise_for_status()
    fields = emu.requests()[-1]["fields"]
    assert fields["model"] == "gpt-image-1" and fields["prompt"] == "night"
    assert fields["image[]"] == [
        {"filename": "a.png", "content_type": "image/png", "bytes": len(png)},
        {"filename": "b.png", "content_type": "image/png", "bytes": len(png)},
    ]
    assert emu.stats()["requests"]["edit"] == 1 and emu.stats()["submissions"] == 1


def test_requests_over_http(case: tuple[Provider, Any]) -> None:
    provider, emu = case
    provider.submit(emu, prompt="over http")
    control = emu.base_url.removesuffix("/v1") + "/_emulator/requests"
    assert httpx.get(control).json()["requests"][-1]["fields"]["prompt"] == "over http"


# --- strict and lenient ---------------------------------------------------------------------------


def test_bfl_is_lenient_unless_strict(running: dict[str, Emulator]) -> None:
    assert BFLEmulator.LENIENT == {"submit"} and OpenAIEmulator.LENIENT == frozenset()
    lenient = BFL.submit(running["bfl"], prompt="x", guidance_scale=3)
    assert lenient.status_code == 200  # a misnamed field, silently dropped, like BFL
    with BFLEmulator(strict=True) as strict:
        refused = BFL.submit(strict, guidance_scale=3)
        assert refused.status_code == 422
        [error] = refused.json()["detail"]
        assert (error["type"], error["loc"]) == ("extra_forbidden", ["body", "guidance_scale"])
        assert BFL.submit(strict, guidance=3).status_code == 200
        assert strict.stats()["submissions"] == 1 and strict.stats()["rejected_422"] == 1


def test_openai_refuses_unknown_fields_either_way() -> None:
    with OpenAIEmulator(strict=True) as strict:
        refused = OPENAI.submit(strict, guidance_scale=3)
        assert refused.status_code == 400
        assert "guidance_scale" in refused.json()["error"]["message"]


# --- limits ---------------------------------------------------------------------------------------


def test_openai_rate_limit_answers_with_its_retry_hints() -> None:
    with OpenAIEmulator(rate_limit=2) as emu:
        assert [OPENAI.submit(emu).status_code for _ in range(2)] == [200, 200]
        refused = OPENAI.submit(emu)
        assert refused.status_code == 429
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        # The window opened at the first request: what is left of its 60 s (less under load).
        wait_ms = int(refused.headers["retry-after-ms"])
        assert 50_000 <= wait_ms <= 60_000
        assert 0 <= int(refused.headers["retry-after"]) * 1000 - wait_ms <= 1000  # rounded up
        emu.reset()
        assert OPENAI.submit(emu).status_code == 200


# --- signed URLs ----------------------------------------------------------------------------------


def test_signed_urls_expire_and_cover_every_parameter() -> None:
    now = [1_000_000.0]
    urls = SignedUrls(clock=lambda: now[0])
    url = urls.make("http://h", "/files/", "a.png", now[0] + 60, {"w": 8})
    path, _, query = url.partition("?")
    assert path == "http://h/files/a.png"
    params = dict(item.split("=") for item in query.split("&"))
    assert params["se"] == "1000060" and params["w"] == "8"
    assert urls.check("a.png", params, ("w",)) is None
    for changed in ({"w": "9"}, {"se": "1000061"}, {"sig": "0" * 32}):
        refusal = urls.check("a.png", {**params, **changed}, ("w",))
        assert refusal is not None and refusal.detail == "Signature did not match."
    assert urls.check("b.png", params, ("w",)) is not None
    now[0] += 61
    expired = urls.check("a.png", params, ("w",))
    assert expired is not None and expired.status == 403 and "expired" in expired.detail
    assert b"<Code>AuthenticationFailed</Code>" in expired.xml()
    other = SignedUrls(clock=lambda: 0.0)  # another emulator's secret
    assert other.check("a.png", params, ("w",)) is not None


def test_an_expired_result_url_over_sockets() -> None:
    with OpenAIEmulator(url_ttl=60) as emu:
        answer = OPENAI.submit(emu, prompt="x", model="dall-e-2", size="256x256").json()
        url = answer["data"][0]["url"]
        assert httpx.get(url).status_code == 200
        emu.app.files.clock = lambda: time.time() + 120
        expired = httpx.get(url)
        assert expired.status_code == 403
        assert expired.headers["x-ms-error-code"] == "AuthenticationFailed"


# --- the standard command line --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "extra"),
    [("openai", ()), ("bfl", ("--poll-port", "0", "--strict"))],
)
def test_cli_port_and_api_key(name: str, extra: tuple[str, ...]) -> None:
    command = [sys.executable, "-m", "emulators", name, "--port", "0", "--api-key", "cli-key"]
    process = subprocess.Popen(
        [*command, *extra],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()  # "<TITLE>: <base URL>[, polling <URL>]"
        base = line.split(": ", 1)[1].split(",")[0].strip()
        assert base.startswith("http://127.0.0.1:")
        assert "API_KEY=cli-key" in process.stdout.readline()  # the gateway's wiring
        if name == "openai":
            url, auth, ok = f"{base}/images/generations", "authorization", "Bearer cli-key"
            body: dict[str, Any] = {"model": "gpt-image-1", "prompt": "x"}
        else:
            url, auth, ok = f"{base}/v1/flux-dev", "x-key", "cli-key"
            body = {"prompt": "x"}
        assert httpx.post(url, json=body, headers={auth: ok}, timeout=10).status_code == 200
        wrong = "Bearer other" if name == "openai" else "other"
        assert httpx.post(url, json=body, headers={auth: wrong}, timeout=10).status_code == 401
        if name == "bfl":  # --strict
            misnamed = {**body, "guidance_scale": 3}
            assert httpx.post(url, json=misnamed, headers={auth: ok}).status_code == 422
        stats = httpx.get(f"{base.removesuffix('/v1')}/_emulator/stats").json()
        assert stats["submissions"] == 1
    finally:
        process.terminate()
        process.wait(10)
        if process.stdout is not None:
            process.stdout.close()


def _png(width: int, height: int) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), "red").save(buf, "PNG")
    return buf.getvalue()


# --- the README's example emulator ---------------------------------------------------------------


def test_the_readme_example_emulator_runs_on_the_kit() -> None:
    readme = (ROOT / "emulators" / "README.md").read_text()
    code = readme.split("## Writing a new emulator")[1].split("```python\n")[1].split("```")[0]
    namespace: dict[str, Any] = {"__name__": "emulators.acme"}
    exec(compile(code, "emulators/README.md", "exec"), namespace)
    acme_class = namespace["AcmeEmulator"]
    with acme_class() as acme:
        url, key = f"{acme.base_url}/v1/generate", {"x-api-key": acme.api_key}
        assert httpx.post(url, json={"prompt": "x", "sede": 1}, headers=key).status_code == 200
        assert httpx.post(url, json={"prompt": "x"}).status_code == 401
        assert [s for s in SCENARIOS if not acme.supports(s)] == ["moderated_200"]
        acme.scenario("rate_limited")
        refused = httpx.post(url, json={"prompt": "x"}, headers=key)
        assert refused.status_code == 429 and refused.headers["retry-after"] == "1"
        acme.scenario("moderated")
        assert httpx.post(url, json={"prompt": "x"}, headers=key).status_code == 400
        assert acme.stats()["submissions"] == 1
        assert acme.requests()[0]["fields"] == {"prompt": "x", "sede": 1}
    with acme_class(strict=True) as strict:
        misnamed = httpx.post(
            f"{strict.base_url}/v1/generate",
            json={"prompt": "x", "sede": 1},
            headers={"x-api-key": strict.api_key},
        )
        assert misnamed.status_code == 400 and "sede" in misnamed.text


def test_a_large_field_is_recorded_by_length_and_hash(running: dict[str, Emulator]) -> None:
    import hashlib

    emu = running["bfl"]
    emu.reset()
    noise = Image.frombytes("RGB", (64, 48), os.urandom(64 * 48 * 3))
    buf = io.BytesIO()
    noise.save(buf, "PNG")
    image = base64.b64encode(buf.getvalue()).decode()
    assert len(image) > 4096
    answer = httpx.post(
        f"{emu.base_url}/v1/flux-kontext-pro",
        json={"prompt": "x", "input_image": image},
        headers={"x-key": emu.api_key},
    )
    assert answer.status_code == 200, answer.text
    recorded = emu.requests()[-1]["fields"]
    assert recorded["prompt"] == "x"
    assert recorded["input_image"] == {
        "chars": len(image),
        "sha256": hashlib.sha256(image.encode()).hexdigest(),
    }


def test_an_idle_connection_outlives_uvicorns_default_keep_alive(
    running: dict[str, Emulator],
) -> None:
    """An emulator keeps an idle kept-alive connection longer than the gateway does (30 s), as a
    provider's front end does, not uvicorn's 5 s (emulators/kit/server.py KEEP_ALIVE_SECONDS):
    a connection idle for 6 s still answers its next request."""
    host, port = httpx.URL(running["bfl"].base_url).host, httpx.URL(running["bfl"].base_url).port
    request = f"GET /v1/get_result?id=none HTTP/1.1\r\nHost: {host}\r\n\r\n".encode()
    with socket.create_connection((host, port), timeout=5) as sock:
        for wait in (0, 6):
            time.sleep(wait)
            sock.sendall(request)
            assert _response(sock).startswith(b"HTTP/1.1 ")  # an answer, not a closed socket


def _response(sock: socket.socket) -> bytes:
    """One whole HTTP/1.1 response with a Content-Length, however the kernel splits it (the
    body may come in a second segment: reading only the first left it to the next request)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
    assert length, head
    while len(body) < int(length.group(1)):
        chunk = sock.recv(65536)
        assert chunk, "closed mid-body"
        body += chunk
    return head + b"\r\n\r\n" + body
