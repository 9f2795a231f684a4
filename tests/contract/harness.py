"""What the contract tests share: the providers to parametrize over (from the registry, not from
the table, so a provider without an entry fails), a provider's emulator and a gateway wired to
it (real servers on loopback ports), and the checks every test makes the same way (no key in
a response or log line, paid submissions counted, the ledger row of a request)."""

from __future__ import annotations

import hashlib
import io
import json
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from _pytest.mark.structures import ParameterSet
from PIL import Image

from emulators.kit import Emulator
from emulators.kit.server import BackgroundServer, bind_socket, url_of
from image_gateway.app import create_app
from image_gateway.providers.kit.config import PollingConfig
from image_gateway.providers.kit.definition import ProviderDefinition
from image_gateway.providers.registry import DEFINITIONS
from image_gateway.server import protocol_class
from tests.admin_helpers import ADMIN_TEST_KEY
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway, make_settings
from tests.contract.providers import CONTRACTS, Contract

# A paid submission that hangs is given up after this long (`<NAME>_TIMEOUT_SECONDS`); 1 s
# cut off an emulator's immediate answer (stability's `moderated`, a 504 for the 400) under the
# suite's load (average 15 with other runs on 2 cores).
SUBMIT_TIMEOUT = 2.0
# The gateway of a contract module: retries on (one retry: a retryable failure played once is
# recovered, played twice is the answer), short backoffs and polls, and a circuit breaker that
# never opens: the suite injects outages on purpose, and an open circuit would make the next
# test's answer depend on the ones before it.
CORE_SETTINGS: dict[str, Any] = {
    "admin_api_key": ADMIN_TEST_KEY,
    "retry_max_attempts": 2,
    "retry_base_seconds": 0.05,
    "retry_max_backoff_seconds": 0.2,
    "circuit_failure_threshold": 1000,
    "request_deadline_seconds": 10.0,
    "upstream_read_timeout_seconds": 2.0,
}
ATTEMPTS = CORE_SETTINGS["retry_max_attempts"]


def contract_of(provider: str) -> Contract:
    """The provider's table entry; a failure naming the table when it has none."""
    contract = CONTRACTS.get(provider)
    if contract is None:
        pytest.fail(
            f"provider {provider!r} is registered but has no entry in tests/contract/providers.py "
            "(tests/contract/README.md: how a provider joins the contract suite)"
        )
    return contract


def each_provider(
    *, upstream: bool, edits: bool = False, contracts: Mapping[str, Contract] = CONTRACTS
) -> list[ParameterSet]:
    """Every registered provider as a test parameter, marked skipped (with the reason, visible
    in `-rs`) when its entry in `contracts` says the test cannot apply: with `upstream`, a
    provider that calls nobody (its `offline` reason); with `edits` (a test of
    `POST /v1/images/edits`), a provider with no `edit_model`."""
    params = []
    for name in DEFINITIONS:
        contract = contracts.get(name)
        marks = []
        if upstream and contract is not None and contract.emulator is None:
            marks.append(pytest.mark.skip(reason=f"{name} calls no upstream: {contract.offline}"))
        elif edits and contract is not None and contract.edit_model is None:
            marks.append(pytest.mark.skip(reason=f"{name} has no model that edits"))
        params.append(pytest.param(name, marks=marks, id=name))
    return params


def known_bug(request: pytest.FixtureRequest, provider: str) -> None:
    """Mark this test `xfail(strict=True)` when the provider's entry lists it as a known bug."""
    reason = contract_of(provider).known_bugs.get(request.node.originalname)
    if reason:
        request.node.add_marker(pytest.mark.xfail(strict=True, reason=reason))


def canary_key(definition: ProviderDefinition) -> str:
    """A provider key no answer or log line may show: shaped like the provider's own keys
    (its first `key_prefixes`), so redaction by prefix and by value are both exercised."""
    prefix = definition.key_prefixes[0] if definition.key_prefixes else ""
    digest = hashlib.sha256(definition.name.encode()).hexdigest()[:24]
    # A `-` every 4 characters: each 8-character piece has one, so none can turn up by chance
    # in base64 image data (whose alphabet has no `-`).
    return prefix + "-".join(digest[i : i + 4] for i in range(0, len(digest), 4))


def provider_settings(contract: Contract, emulator: Emulator) -> dict[str, Any]:
    """Gateway settings that point the provider at its emulator: key and base URL, the
    emulator's second origin trusted (a provider with `trusted_hosts`: polls and results),
    short submission timeout and polls; then the entry's own."""
    definition = DEFINITIONS[contract.provider]
    fields = definition.config.model_fields
    prefix = definition.prefix
    values: dict[str, Any] = {
        f"{prefix}_api_key": emulator.api_key,
        f"{prefix}_base_url": emulator.base_url,
    }
    if "timeout_seconds" in fields:
        values[f"{prefix}_timeout_seconds"] = SUBMIT_TIMEOUT
    if "trusted_hosts" in fields:  # polling providers, and xAI's result host
        values[f"{prefix}_trusted_hosts"] = [emulator.poll_base_url]
    if issubclass(definition.config, PollingConfig):
        values[f"{prefix}_poll_initial_seconds"] = 0.02
        values[f"{prefix}_poll_max_interval_seconds"] = 0.05
        values[f"{prefix}_poll_timeout_seconds"] = 5.0
    if contract.settings is not None:
        values.update(contract.settings(emulator))
    return values


@contextmanager
def serve_gateway(tmp_path: Path, **overrides: Any) -> Iterator[RunningGateway]:
    """The real gateway app (as `make run` serves it) on an ephemeral loopback port."""
    settings = make_settings(tmp_path, **{**CORE_SETTINGS, **overrides})
    sock = bind_socket()
    http = protocol_class(settings.client_header_timeout_seconds)
    server = BackgroundServer(create_app(settings), [sock], http=http)
    server.start()
    try:
        yield RunningGateway(url_of(sock), settings, server)
    finally:
        server.stop()


@dataclass
class Served:
    """A gateway configured with one provider (and `local`, which is always there), and that
    provider's emulator; None for a provider that calls nobody."""

    contract: Contract
    gateway: RunningGateway
    emulator: Emulator | None

    @property
    def emu(self) -> Emulator:
        assert self.emulator is not None, f"{self.contract.provider} has no emulator"
        return self.emulator

    @property
    def definition(self) -> ProviderDefinition:
        return DEFINITIONS[self.contract.provider]

    @property
    def secrets(self) -> tuple[str, ...]:
        """The keys no answer or log line may show: the provider's, the client's, the admin's."""
        keys = (GATEWAY_TEST_KEY, ADMIN_TEST_KEY)
        return keys if self.emulator is None else (self.emulator.api_key, *keys)

    def body(self, model: str | None = None, **fields: Any) -> dict[str, Any]:
        """A generation request for `model` (the entry's by default) of this provider."""
        model = model or self.contract.model
        body: dict[str, Any] = {
            "model": f"{self.contract.provider}/{model}",
            "prompt": "a lighthouse at dusk",
        }
        params = self.contract.model_params.get(model)
        if params:
            body["provider_params"] = dict(params)
        for name, value in fields.items():
            if name == "provider_params":
                body["provider_params"] = {**body.get("provider_params", {}), **value}
            else:
                body[name] = value
        return body

    def generate(self, body: Mapping[str, Any]) -> httpx.Response:
        with self.gateway.client() as http:
            return http.post("/v1/images/generations", json=dict(body))

    def edit(self, body: Mapping[str, Any]) -> httpx.Response:
        """`body` as a multipart edit of a small PNG (fields as text, `provider_params` JSON),
        with the entry's `edit_params` under the body's own."""
        if self.contract.edit_params:
            params = {**self.contract.edit_params, **body.get("provider_params", {})}
            body = {**body, "provider_params": params}
        data = {k: json.dumps(v) if isinstance(v, dict) else str(v) for k, v in body.items()}
        with self.gateway.client() as http:
            return http.post("/v1/images/edits", data=data, files={"image": png_file()})

    def send(self, body: Mapping[str, Any], edit: bool) -> httpx.Response:
        return self.edit(body) if edit else self.generate(body)

    def submits(self) -> int:
        """How many paid submissions reached the emulator (answered or not)."""
        counters = self.emu.stats()["requests"]
        return sum(int(counters.get(kind, 0)) for kind in self.contract.submit_kinds)

    def accepted(self) -> int:
        """How many the provider accepted, i.e. would bill (`stats()["submissions"]`)."""
        return int(self.emu.stats()["submissions"])


@contextmanager
def serve_provider(contract: Contract, tmp_path: Path) -> Iterator[Served]:
    """The provider's emulator (when it has one) and a gateway wired to it."""
    if contract.emulator is None:
        with serve_gateway(tmp_path) as gateway:
            yield Served(contract, gateway, None)
        return
    emulator = contract.emulator(canary_key(DEFINITIONS[contract.provider]))
    with emulator, serve_gateway(tmp_path, **provider_settings(contract, emulator)) as gateway:
        yield Served(contract, gateway, emulator)


# --- the checks -------------------------------------------------------------------------------


def png(size: tuple[int, int] = (64, 64), mode: str = "RGB") -> bytes:
    buf = io.BytesIO()
    Image.new(mode, size).save(buf, "PNG")
    return buf.getvalue()


def png_file() -> tuple[str, bytes, str]:
    return ("in.png", png(), "image/png")


def fragments(secret: str, length: int = 8) -> set[str]:
    """Every piece of `secret` long enough to identify it."""
    return {secret[i : i + length] for i in range(len(secret) - length + 1)}


def shown(resp: httpx.Response) -> str:
    """All a client sees of an answer: status line, headers and body."""
    headers = "\n".join(f"{name}: {value}" for name, value in resp.headers.items())
    return f"{resp.status_code}\n{headers}\n{resp.text}"


def brief(resp: httpx.Response) -> str:
    """An answer for an assertion message: its status and the start of its body (a success
    carries whole images)."""
    return f"HTTP {resp.status_code} {resp.text[:400]}"


def assert_no_secrets(texts: list[str], secrets: tuple[str, ...]) -> None:
    haystack = "\n".join(texts)
    for secret in secrets:
        leaked = sorted(f for f in fragments(secret) if f in haystack)
        assert not leaked, f"a key leaked: {leaked[:3]}"


def ledger_row(gateway: RunningGateway, request_id: str) -> dict[str, Any]:
    """The usage-ledger row of a request, once the background writer has written it."""
    from tests.usage_helpers import ledger_rows

    deadline = time.monotonic() + 5
    while True:
        rows = [row for row in ledger_rows(gateway) if row["request_id"] == request_id]
        if rows:
            assert len(rows) == 1, rows
            return rows[0]
        assert time.monotonic() < deadline, f"no ledger row for {request_id}"
        time.sleep(0.05)


def wire_value(fields: Mapping[str, Any], path: str) -> Any:
    """A recorded field by its (dotted) name, a number indexing a list (`contents.0.parts.0.
    text`); KeyError naming it when absent."""
    value: Any = fields
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        elif isinstance(value, Mapping) and part in value:
            value = value[part]
        else:
            raise KeyError(f"{path} (have: {sorted(fields)})")
    return value
