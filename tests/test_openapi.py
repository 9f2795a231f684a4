"""`/openapi.json` tells the truth: every operation documents the error statuses it answers
(with the one error body) and never FastAPI's 422; keys, `Prefer` and `Idempotency-Key` are
documented; and every documented example, sent to a running gateway, is answered as documented.

The probes send each operation of the served document what a schema fuzzer would (no key, a
wrong key, bad parameters, unknown ids, bad and oversized bodies, the wrong kind of key) and
check that each answer's status is one the operation documents, with the documented body.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from image_gateway.api.openapi import ErrorResponse, answered_errors, error_classes
from image_gateway.errors import error_body
from image_gateway.schemas import ImagesResponse
from tests.admin_helpers import ADMIN_TEST_KEY
from tests.conftest import (
    GATEWAY_TEST_KEY,
    RunningGateway,
    emulator_settings,
)

METHODS = ("get", "post", "put", "patch", "delete")
IMAGE_ROUTES = ("/v1/images/generations", "/v1/images/edits")
MAX_BYTES = 4096


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield path, method, operation


def documented(operation: dict[str, Any]) -> set[int]:
    return {int(status) for status in operation["responses"]}


def check_answer(
    path: str, method: str, operation: dict[str, Any], response: httpx.Response, probe: str
) -> None:
    where = f"{method.upper()} {path} ({probe})"
    assert response.status_code in documented(operation), (
        f"{where}: {response.status_code} is not documented: {response.text[:300]}"
    )
    if response.status_code >= 400:
        assert response.headers["content-type"] == "application/json", where
        ErrorResponse.model_validate(response.json())  # the documented error body
        documented_headers = operation["responses"][str(response.status_code)]["headers"]
        for name in response.headers:
            if name.lower() in ("x-should-retry", "retry-after"):
                assert name.lower() in {h.lower() for h in documented_headers}, (where, name)
        assert response.headers["x-should-retry"] in ("true", "false"), where


@pytest.fixture
def spec(start_gateway: Callable[..., RunningGateway]) -> dict[str, Any]:
    gw = start_gateway()
    with gw.client() as http:
        response = http.get("/openapi.json")
    assert response.status_code == 200
    return dict(response.json())


def test_every_operation_documents_its_errors_with_the_error_model_and_never_422(
    spec: dict[str, Any],
) -> None:
    schemas = spec["components"]["schemas"]
    assert "HTTPValidationError" not in schemas and "ValidationError" not in schemas
    assert len(list(operations(spec))) >= 16
    for path, method, operation in operations(spec):
        where = f"{method.upper()} {path}"
        statuses = documented(operation)
        assert 422 not in statuses, where
        for status, response in operation["responses"].items():
            if int(status) >= 400 and path != "/readyz":
                schema = response["content"]["application/json"]["schema"]
                assert schema == {"$ref": "#/components/schemas/ErrorResponse"}, where
                assert response["description"], where
                assert "x-should-retry" in response["headers"], where
                if int(status) == 429:
                    assert "Retry-After" in response["headers"], where
        if operation.get("security"):
            assert {401, 503} <= statuses, where
        names = {p["name"] for p in operation.get("parameters", []) if p["in"] == "query"}
        if names or "requestBody" in operation:
            assert 400 in statuses, where
        if "requestBody" in operation:
            assert 413 in statuses, where
        if "{" in path and path != "/v1/images/files/{image_id}":
            assert operation.get("security"), f"{where}: ids belong to a key"
        if "{" in path:
            assert 404 in statuses, where
        if path.startswith("/v1/admin/"):
            assert {401, 403} <= statuses, where


def test_the_image_routes_document_every_error_the_gateway_has_and_their_headers(
    spec: dict[str, Any],
) -> None:
    every_status = {cls.status_code for cls in answered_errors()}
    assert {400, 401, 402, 403, 404, 409, 413, 429, 502, 503, 504} <= every_status
    for path in IMAGE_ROUTES:
        operation = spec["paths"][path]["post"]
        assert every_status | {200, 202} == documented(operation), path
        headers = {p["name"]: p for p in operation["parameters"] if p["in"] == "header"}
        assert set(headers) == {"Prefer", "Idempotency-Key"}, path
        assert "respond-async" in headers["Prefer"]["description"]
        assert headers["Idempotency-Key"]["schema"]["maxLength"] == 256
        assert operation["responses"]["202"]["headers"]["Location"]
        # Each error code of the gateway is named where its status is described.
        for cls in answered_errors():
            description = operation["responses"][str(cls.status_code)]["description"]
            assert f"`{cls.default_code}`" in description, (path, cls.__name__)


def test_keys_are_a_security_scheme_swagger_can_send(spec: dict[str, Any]) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["APIKeyHeader"] == {**schemes["APIKeyHeader"], "type": "apiKey"}
    assert (schemes["APIKeyHeader"]["in"], schemes["APIKeyHeader"]["name"]) == (
        "header",
        "X-API-Key",
    )
    assert (schemes["HTTPBearer"]["type"], schemes["HTTPBearer"]["scheme"]) == ("http", "bearer")
    secured = {path for path, _, op in operations(spec) if op.get("security")}
    assert {*IMAGE_ROUTES, "/v1/models", "/v1/usage", "/v1/jobs", "/v1/admin/keys"} <= secured
    assert {"/healthz", "/readyz", "/v1/images/files/{image_id}"}.isdisjoint(secured)
    for path, _, operation in operations(spec):
        if path in secured:
            assert operation["security"] == [{"APIKeyHeader": []}, {"HTTPBearer": []}]


def test_every_error_body_matches_the_documented_model() -> None:
    for cls in error_classes():
        err = cls("something went wrong", param="size", provider="openai")
        ErrorResponse.model_validate(error_body(err, "req_1"))
        ErrorResponse.model_validate(error_body(cls("x"), None))
    with pytest.raises(ValueError):
        ErrorResponse.model_validate({"error": {"message": "m", "type": "t", "code": None}})


def _bad_value(schema: dict[str, Any]) -> str:
    """A query value the parameter's own schema refuses."""
    options = schema.get("anyOf", [schema])
    kinds = {option.get("type") for option in options}
    if "integer" in kinds:
        return "not-a-number"
    limit = max((option.get("maxLength", 0) for option in options), default=0)
    return "x" * (limit + 1) if limit else "\x7f" * 300


def test_probes_get_only_documented_statuses_and_bodies(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    gw = start_gateway(admin_api_key=ADMIN_TEST_KEY, max_request_bytes=MAX_BYTES)
    seen: dict[tuple[str, str], set[int]] = {}
    with httpx.Client(base_url=gw.url, timeout=30) as http:
        spec = http.get("/openapi.json").json()
        for path, method, operation in operations(spec):
            url = path.replace("{job_id}", "job_nope").replace("{key_id}", "key_0123456789abcdef")
            url = url.replace("{image_id}", "img_nope")
            admin = path.startswith("/v1/admin/")
            own_key = ADMIN_TEST_KEY if admin else GATEWAY_TEST_KEY
            other_key = GATEWAY_TEST_KEY if admin else ADMIN_TEST_KEY
            body = "requestBody" in operation
            json_headers = {"content-type": "application/json"}

            def send(probe: str, headers: dict[str, str], **kw: Any) -> None:
                response = http.request(method, url, headers=headers, **kw)
                check_answer(path, method, operation, response, probe)
                seen.setdefault((method, path), set()).add(response.status_code)

            send("no key", {})
            send("wrong key", {"Authorization": "Bearer wrong-key"})
            example = _first_example(operation)
            if example is None:
                send("the other kind of key", {"X-API-Key": other_key})
            else:  # a valid body, so that the key is what is wrong
                send("the other kind of key", {"X-API-Key": other_key}, json=example)
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "query":
                    params = {parameter["name"]: _bad_value(parameter["schema"])}
                    send(f"bad {parameter['name']}", {"X-API-Key": own_key}, params=params)
            if body:
                key = {"X-API-Key": own_key, **json_headers}
                send("not JSON", key, content=b"{")
                send("not an object", key, content=b"[]")
                send("oversized", key, content=b"{" + b" " * MAX_BYTES + b"}")
            elif "{" in path:
                send("unknown id", {"X-API-Key": own_key})
    # The probes reached the errors they were aimed at, not only documented but real.
    for (method, path), statuses in seen.items():
        operation = spec["paths"][path][method]
        if operation.get("security"):
            assert 401 in statuses, (method, path, statuses)
        if "{" in path:
            assert 404 in statuses, (method, path, statuses)
        if "requestBody" in operation:
            assert {400, 413} <= statuses, (method, path, statuses)
    assert 403 in seen[("post", "/v1/images/generations")]  # the admin key cannot generate
    assert 403 in seen[("get", "/v1/admin/keys")]  # a client key cannot administer
    assert 400 in seen[("get", "/v1/usage")] and 400 in seen[("get", "/v1/jobs")]


def _first_example(operation: dict[str, Any]) -> Any:
    content = operation.get("requestBody", {}).get("content", {})
    for media in content.values():
        for example in media.get("examples", {}).values():
            return example["value"]
    return None


def _examples(spec: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any], str, Any]]:
    for path, method, operation in operations(spec):
        content = operation.get("requestBody", {}).get("content", {})
        for media_type, media in content.items():
            for name, example in media.get("examples", {}).items():
                yield path, method, operation, f"{media_type} {name}", example["value"]


def test_documented_examples_work_offline_in_development_mode(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    """What Swagger's "Try it out" sends on a fresh `make run` (no key of any kind)."""
    gw = start_gateway(gateway_api_keys=[])
    with httpx.Client(base_url=gw.url, timeout=60) as http:
        spec = http.get("/openapi.json").json()
        sent = 0
        for path, method, operation, name, value in _examples(spec):
            response = http.request(method, path, json=value)
            check_answer(path, method, operation, response, name)
            assert response.status_code != 400, (path, name, response.text)
            if path in IMAGE_ROUTES and "local" in str(value):
                assert response.status_code == 200, (path, name, response.text)
                assert ImagesResponse.model_validate(response.json()).provider == "local"
            sent += 1
        first = spec["paths"]["/v1/images/generations"]["post"]["requestBody"]["content"]
        assert next(iter(first["application/json"]["examples"])) == "offline"
    assert sent >= 5


def test_documented_examples_succeed_with_their_providers(
    start_gateway: Callable[..., RunningGateway], bfl: Any, openai_emu: Any
) -> None:
    gw = start_gateway(
        admin_api_key=ADMIN_TEST_KEY,
        **emulator_settings(openai_emu, bfl),
    )
    with httpx.Client(base_url=gw.url, timeout=60) as http:
        spec = http.get("/openapi.json").json()
        served = set()
        for path, method, operation, name, value in _examples(spec):
            key = ADMIN_TEST_KEY if path.startswith("/v1/admin/") else GATEWAY_TEST_KEY
            response = http.request(method, path, json=value, headers={"X-API-Key": key})
            check_answer(path, method, operation, response, name)
            assert response.status_code in (200, 201), (path, name, response.text)
            if path in IMAGE_ROUTES:
                served.add(ImagesResponse.model_validate(response.json()).provider)
    assert served == {"local", "openai", "bfl-flux"}
