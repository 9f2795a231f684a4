"""`vertex-ai` end to end: the gateway and the Vertex AI emulator on loopback ports, the official
`openai` SDK and plain HTTP as clients. What the contract suite (tests/contract) does not
cover: OAuth access tokens (issued by the emulator from the service account's signed
assertion, reused, refreshed once after a 401), express mode, Imagen's HTTP-200 filtering,
its sizes and fan-out, and Vertex's own error answers."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.vertex import VertexEmulator
from image_gateway.settings import ConfigurationError, load_settings
from tests.conftest import GATEWAY_TEST_KEY, LogCapture, RunningGateway

EXPRESS_KEY = "AIza-test-canary-vertex-3c9e1a"
PREDICT = "predict"


@pytest.fixture(scope="module")
def vertex() -> Iterator[VertexEmulator]:
    with VertexEmulator(api_key=EXPRESS_KEY, strict=True) as emulator:
        yield emulator


@pytest.fixture
def emu(vertex: VertexEmulator) -> VertexEmulator:
    vertex.reset()
    return vertex


def oauth_settings(emu: VertexEmulator, **overrides: Any) -> dict[str, Any]:
    return {
        "vertex_ai_base_url": emu.base_url,
        "vertex_ai_project": emu.project,
        "vertex_ai_location": "us-central1",
        "vertex_ai_credentials_file": str(emu.credentials_file),
        **overrides,
    }


@pytest.fixture
def gw(start_gateway: Callable[..., RunningGateway], emu: VertexEmulator) -> RunningGateway:
    return start_gateway(**oauth_settings(emu))


@pytest.fixture
def sdk(gw: RunningGateway) -> openai.OpenAI:
    return openai.OpenAI(base_url=gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)


def generate(gw: RunningGateway, **body: Any) -> httpx.Response:
    body.setdefault("prompt", "a lighthouse at dusk")
    body.setdefault("model", "vertex-ai/imagen-4.0-fast-generate-001")
    with gw.client() as http:
        return http.post("/v1/images/generations", json=body)


def image_of(b64: str | None) -> Image.Image:
    assert b64 is not None
    return Image.open(io.BytesIO(base64.b64decode(b64)))


def predicts(emu: VertexEmulator) -> list[dict[str, Any]]:
    """The `:predict` calls the emulator parsed, oldest first."""
    return [r for r in emu.requests() if r["path"].endswith(":predict")]


def calls(emu: VertexEmulator, kind: str) -> int:
    return int(emu.stats()["requests"].get(kind, 0))


# --- the official SDK, OAuth ----------------------------------------------------------------------


def test_the_openai_sdk_generates_with_imagen_through_an_access_token(
    sdk: openai.OpenAI, emu: VertexEmulator
) -> None:
    result = sdk.images.generate(
        model="vertex-ai/imagen-4.0-generate-001", prompt="a fox", n=2, size="2816x1536"
    )
    assert len(result.data) == 2
    image = image_of(result.data[0].b64_json)
    assert (image.format, image.size) == ("PNG", (2816, 1536))
    [sent] = predicts(emu)
    assert sent["path"] == (
        f"/v1/projects/{emu.project}/locations/us-central1/publishers/google/models/"
        "imagen-4.0-generate-001:predict"
    )
    assert sent["fields"]["instances"] == [{"prompt": "a fox"}]
    assert sent["fields"]["parameters"] == {
        "sampleCount": 2,
        "includeRaiReason": True,
        "aspectRatio": "16:9",
        "sampleImageSize": "2K",
    }
    stats = emu.stats()
    assert (stats["tokens_issued"], stats["auth_failures"]) == (1, 0)


def test_n_beyond_a_calls_images_is_fanned_out_with_one_token(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    resp = generate(gw, model="vertex-ai/imagen-4.0-generate-001", n=6, seed=10)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["data"]) == 6
    sent = sorted(
        (r["fields"]["parameters"]["sampleCount"], r["fields"]["parameters"]["seed"])
        for r in predicts(emu)
    )
    assert sent == [(2, 14), (4, 10)]  # consecutive seeds per call, the kit's fan-out
    assert emu.stats()["tokens_issued"] == 1
    assert resp.json()["cost"] == {"usd": 0.24, "basis": "price_table"}  # 6 x $0.04


def test_ultra_makes_one_image_per_call(gw: RunningGateway, emu: VertexEmulator) -> None:
    resp = generate(gw, model="vertex-ai/imagen-4.0-ultra-generate-001", n=3)
    assert resp.status_code == 200, resp.text
    assert [r["fields"]["parameters"]["sampleCount"] for r in predicts(emu)] == [1, 1, 1]


# --- access tokens --------------------------------------------------------------------------------


def test_the_token_is_reused_and_refreshed_once_after_a_401(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    for _ in range(2):
        assert generate(gw).status_code == 200
    assert emu.stats()["tokens_issued"] == 1  # cached while valid
    emu.add_faults([{"match": PREDICT, "expire_tokens": True}])  # Vertex forgets every token
    resp = generate(gw)
    assert resp.status_code == 200, resp.text
    stats = emu.stats()
    assert (stats["tokens_issued"], stats["auth_failures"]) == (2, 1)
    assert calls(emu, PREDICT) == 4  # the refused one, sent again once with the new token


def test_a_token_refused_again_after_the_refresh_is_an_auth_failure(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    emu.add_faults([{"match": PREDICT, "expire_tokens": True, "times": 2}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed"
    assert "VERTEX_AI_CREDENTIALS_FILE" in error["message"]
    assert resp.headers["x-should-retry"] == "false"
    assert calls(emu, PREDICT) == 2  # refreshed once, never more


def test_a_key_file_with_the_wrong_key_is_refused_at_the_token_endpoint(
    start_gateway: Callable[..., RunningGateway], emu: VertexEmulator, tmp_path: Path
) -> None:
    forged = emu.write_credentials(tmp_path / "forged.json", forged=True)
    gw = start_gateway(**oauth_settings(emu, vertex_ai_credentials_file=str(forged)))
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed"
    assert "invalid_grant" in error["message"] and "VERTEX_AI_CREDENTIALS_FILE" in error["message"]
    assert emu.stats()["token_refusals"] == 1
    assert calls(emu, PREDICT) == 0  # nothing was sent to the paid API


def test_a_credentials_file_that_is_no_key_file_is_not_configured(
    start_gateway: Callable[..., RunningGateway], emu: VertexEmulator, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text('{"type": "service_account"}')
    for path in (broken,):
        gw = start_gateway(**oauth_settings(emu, vertex_ai_credentials_file=str(path)))
        resp = generate(gw)
        assert resp.status_code == 503, resp.text
        error = resp.json()["error"]
        assert error["code"] == "provider_not_configured"
        assert "VERTEX_AI_CREDENTIALS_FILE" in error["message"]
    assert calls(emu, "token") == 0 and calls(emu, PREDICT) == 0


def test_a_credentials_file_that_does_not_exist_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Found at start-up, not as `configured: true` and a 503 on the first request."""
    monkeypatch.setenv("VERTEX_AI_PROJECT", "p")
    monkeypatch.setenv("VERTEX_AI_CREDENTIALS_FILE", str(tmp_path / "absent" / "sa.json"))
    with pytest.raises(ConfigurationError) as err:
        load_settings()
    assert "VERTEX_AI_CREDENTIALS_FILE" in str(err.value) and "no file" in str(err.value)


def test_a_refused_token_request_says_what_the_endpoint_said_in_a_sentence(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    """A token endpoint answering in Google's envelope: its status and message, no dict."""
    refusal = {
        "error": {
            "code": 401,
            "message": "Request had invalid credentials.",
            "status": "UNAUTHENTICATED",
        }
    }
    emu.add_faults([{"match": "token", "status": 401, "body": refusal}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed"
    message = error["message"]
    assert "UNAUTHENTICATED: Request had invalid credentials." in message
    assert "VERTEX_AI_CREDENTIALS_FILE" in message
    assert "{" not in message and "None" not in message
    assert calls(emu, PREDICT) == 0


def test_application_default_credentials_without_a_key_file(
    start_gateway: Callable[..., RunningGateway],
    emu: VertexEmulator,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Only VERTEX_AI_PROJECT: google-auth's ADC, here GOOGLE_APPLICATION_CREDENTIALS."""
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(emu.credentials_file))
    gw = start_gateway(**oauth_settings(emu, vertex_ai_credentials_file=None))
    assert generate(gw).status_code == 200
    assert emu.stats()["tokens_issued"] == 1


def test_an_unreachable_token_endpoint_is_a_retryable_upstream_error(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    emu.add_faults([{"match": "token", "reset": True}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "upstream_error" and "token endpoint" in error["message"]
    assert resp.headers["x-should-retry"] == "true"  # nothing was sent to the paid API
    assert calls(emu, PREDICT) == 0


def test_the_project_comes_from_the_key_file_when_not_set(
    start_gateway: Callable[..., RunningGateway], emu: VertexEmulator
) -> None:
    gw = start_gateway(**oauth_settings(emu, vertex_ai_project=None))
    assert generate(gw).status_code == 200
    assert f"/projects/{emu.project}/" in predicts(emu)[0]["path"]


def test_no_token_or_key_shows_in_answers_or_logs(
    gw: RunningGateway, emu: VertexEmulator, gateway_logs: LogCapture
) -> None:
    """A Vertex error quoting the access token the gateway sent: neither it nor the key it
    carries (`accounts.py`) shows in the answer or a log line."""
    assert generate(gw).status_code == 200
    token = emu.app.account.tokens()[-1]  # this gateway's, the newest
    quoted = {
        "error": {"code": 400, "message": f"token {token} is bad", "status": "INVALID_ARGUMENT"}
    }
    emu.add_faults([{"match": PREDICT, "status": 400, "body": quoted}])
    answers = [generate(gw), generate(gw, prompt="[filter-all] x")]
    assert [a.status_code for a in answers] == [400, 400]
    texts = [r.text + str(r.headers) for r in answers] + gateway_logs.lines
    for secret in (token, EXPRESS_KEY):
        leaked = [t for t in texts if any(secret[i : i + 8] in t for i in range(len(secret) - 7))]
        assert not leaked, leaked[:1]


# --- express mode ---------------------------------------------------------------------------------


def test_express_mode_sends_the_api_key_and_no_project(
    start_gateway: Callable[..., RunningGateway], emu: VertexEmulator
) -> None:
    gw = start_gateway(vertex_ai_api_key=EXPRESS_KEY, vertex_ai_base_url=emu.base_url)
    resp = generate(gw)
    assert resp.status_code == 200, resp.text
    [sent] = predicts(emu)
    assert sent["path"] == "/v1/publishers/google/models/imagen-4.0-fast-generate-001:predict"
    assert calls(emu, "token") == 0


def test_express_mode_with_a_wrong_key_is_an_auth_failure(
    start_gateway: Callable[..., RunningGateway], emu: VertexEmulator
) -> None:
    gw = start_gateway(vertex_ai_api_key="AIza-wrong-key-0000", vertex_ai_base_url=emu.base_url)
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "VERTEX_AI_API_KEY" in error["message"]


def test_not_configured_names_the_variables(start_gateway: Callable[..., RunningGateway]) -> None:
    resp = generate(start_gateway())
    assert resp.status_code == 503
    message = resp.json()["error"]["message"]
    for variable in ("VERTEX_AI_PROJECT", "VERTEX_AI_CREDENTIALS_FILE", "VERTEX_AI_API_KEY"):
        assert variable in message


# --- Imagen's refusals ----------------------------------------------------------------------------


def test_images_removed_by_the_filters_are_left_out(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    resp = generate(gw, model="vertex-ai/imagen-4.0-generate-001", prompt="[filter-one] x", n=3)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["data"]) == 2
    assert resp.json()["images_filtered"] == 1  # what the client can tell
    assert resp.json()["cost"]["usd"] == pytest.approx(0.08)  # the images made, not asked


def test_the_filtered_count_is_summed_over_a_fan_out_and_absent_when_none(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    """n=6 on a 4-a-call model: two calls, each with one image filtered."""
    resp = generate(gw, model="vertex-ai/imagen-4.0-generate-001", prompt="[filter-one] x", n=6)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["data"]) == 4 and resp.json()["images_filtered"] == 2
    assert resp.json()["cost"]["usd"] == pytest.approx(0.16)
    plain = generate(gw, model="vertex-ai/imagen-4.0-generate-001", n=2)
    assert plain.status_code == 200 and "images_filtered" not in plain.json()


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"predictions": []}, "no_image_generated"),
        ({}, "no_image_generated"),
        ({"unexpected": True}, "upstream_error"),
    ],
)
def test_an_answer_without_images_or_a_reason_is_the_providers_failure(
    gw: RunningGateway, emu: VertexEmulator, body: dict[str, Any], code: str
) -> None:
    """Only an answer that shows filtering is a content-policy refusal (the caller's)."""
    emu.add_faults([{"match": PREDICT, "status": 200, "body": body}])
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and "safety filters" not in error["message"]
    assert calls(emu, PREDICT) == 1  # a paid call: not sent again


def test_every_image_filtered_is_a_content_policy_violation_with_googles_reason(
    sdk: openai.OpenAI,
) -> None:
    with pytest.raises(openai.BadRequestError) as err:
        sdk.images.generate(model="vertex-ai/imagen-4.0-generate-001", prompt="[filter-all] x")
    body = err.value.body
    assert isinstance(body, dict) and body["code"] == "content_policy_violation"
    assert "Support codes" in body["message"]


def test_a_blocked_prompt_is_a_content_policy_violation(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    resp = generate(gw, prompt="[moderate] x")
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["code"] == "content_policy_violation" and "58061214" in error["message"]
    assert calls(emu, PREDICT) == 1


# --- Vertex's other answers -----------------------------------------------------------------------


def test_another_project_is_permission_denied_naming_it(
    start_gateway: Callable[..., RunningGateway], emu: VertexEmulator
) -> None:
    gw = start_gateway(**oauth_settings(emu, vertex_ai_project="someone-elses"))
    resp = generate(gw)
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "provider_auth_failed" and "project someone-elses" in error["message"]
    assert calls(emu, PREDICT) == 1


def test_the_project_id_is_not_redacted_from_a_billing_answer(
    start_gateway: Callable[..., RunningGateway],
) -> None:
    """The default emulator (its key in every token): the project it names survives."""
    with VertexEmulator() as emu:
        gw = start_gateway(**oauth_settings(emu))
        emu.add_faults([{"match": PREDICT, **VertexEmulator.SCENARIO_FAULTS["quota"]}])
        resp = generate(gw)
    assert resp.status_code == 402, resp.text
    message = resp.json()["error"]["message"]
    assert f"project {emu.project}" in message and "[redacted]" not in message


def test_a_daily_quota_is_exhausted_not_rate_limited(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    quota = {
        "error": {
            "code": 429,
            "message": "Quota exceeded.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [
                {
                    "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                    "violations": [{"quotaId": "ImagesPerDayPerProjectPerModel"}],
                }
            ],
        }
    }
    emu.add_faults([{"match": PREDICT, "status": 429, "body": quota}])
    resp = generate(gw)
    assert resp.status_code == 402, resp.text
    assert resp.json()["error"]["code"] == "provider_quota_exhausted"
    assert resp.headers["x-should-retry"] == "false"


def test_a_model_not_served_in_the_location_names_it(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    emu.add_faults(
        [
            {
                "match": PREDICT,
                "status": 404,
                "body": {
                    "error": {
                        "code": 404,
                        "message": "Publisher Model not found.",
                        "status": "NOT_FOUND",
                    }
                },
            }
        ]
    )
    resp = generate(gw)
    assert resp.status_code == 404, resp.text
    assert "location us-central1" in resp.json()["error"]["message"]


# --- what a model cannot honour -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"size": "1024x768"}, "size"),
        ({"size": "2048x2048"}, "size"),  # Fast makes 1K only
        ({"aspect_ratio": "3:2"}, "aspect_ratio"),
        ({"size": "1408x768", "aspect_ratio": "9:16"}, "aspect_ratio"),
        ({"negative_prompt": "fog"}, "negative_prompt"),
        ({"output_format": "webp"}, "output_format"),
        ({"quality": "high"}, "quality"),
        ({"seed": 3, "provider_params": {"addWatermark": True}}, "seed"),
        ({"provider_params": {"personGeneration": "everyone"}}, "provider_params.personGeneration"),
        ({"provider_params": {"storageUri": "gs://bucket"}}, "provider_params.storageUri"),
        ({"n": 11}, "n"),
    ],
)
def test_what_imagen_cannot_honour_is_a_400_naming_it(
    gw: RunningGateway, emu: VertexEmulator, fields: dict[str, Any], param: str
) -> None:
    resp = generate(gw, **fields)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert calls(emu, PREDICT) == 0


# --- hosts ----------------------------------------------------------------------------------------


HOSTS = {
    "global": ({"vertex_ai_project": "p-1"}, "https://aiplatform.googleapis.com"),
    "regional": (
        {"vertex_ai_project": "p-1", "vertex_ai_location": "europe-west4"},
        "https://europe-west4-aiplatform.googleapis.com",
    ),
    "multi-region": (
        {"vertex_ai_project": "p-1", "vertex_ai_location": "eu"},
        "https://aiplatform.eu.rep.googleapis.com",
    ),
    "express": (
        {"vertex_ai_api_key": "AIza-k", "vertex_ai_location": "us-east4"},
        "https://aiplatform.googleapis.com",
    ),
    "set": (
        {"vertex_ai_project": "p-1", "vertex_ai_base_url": "https://vertex.example:8443/"},
        "https://vertex.example:8443",
    ),
}


@pytest.mark.parametrize(("settings", "host"), list(HOSTS.values()), ids=list(HOSTS))
def test_the_host_follows_the_location(tmp_path: Path, settings: dict[str, Any], host: str) -> None:
    """Pure: no call is made (express mode uses the global host, python-genai `_api_client`)."""
    from image_gateway.providers.vertex.adapter import VertexProvider
    from image_gateway.upstream.client import UpstreamClient
    from tests.conftest import make_settings

    http = UpstreamClient(
        connect_timeout=1, read_timeout=1, max_connections=1, max_response_bytes=1
    )
    assert VertexProvider(make_settings(tmp_path, **settings), http).api_base == host


# --- the Gemini image models on Vertex ------------------------------------------------------------


def generations(emu: VertexEmulator) -> list[dict[str, Any]]:
    """The `:generateContent` calls the emulator parsed, oldest first."""
    return [r for r in emu.requests() if r["path"].endswith(":generateContent")]


def test_the_openai_sdk_generates_with_a_gemini_model_on_vertex(
    sdk: openai.OpenAI, emu: VertexEmulator
) -> None:
    result = sdk.images.generate(
        model="vertex-ai/gemini-3-pro-image", prompt="a fox", size="2752x1536", n=2
    )
    assert len(result.data) == 2
    image = image_of(result.data[0].b64_json)
    assert (image.format, image.size) == ("PNG", (2752, 1536))
    assert result.data[0].revised_prompt  # the text the model wrote beside its image
    sent = generations(emu)
    assert len(sent) == 2  # one image per call: n fanned out
    assert sent[0]["path"] == (
        f"/v1/projects/{emu.project}/locations/us-central1/publishers/google/models/"
        "gemini-3-pro-image:generateContent"
    )
    assert sent[0]["fields"]["generationConfig"]["imageConfig"] == {
        "aspectRatio": "16:9",
        "imageSize": "2K",
    }
    assert emu.stats()["tokens_issued"] == 1
    assert result.model_extra is not None
    assert result.model_extra["cost"] == {"usd": 0.268, "basis": "price_table"}  # 2 x 2K


def test_the_openai_sdk_edits_with_a_gemini_model_on_vertex(
    sdk: openai.OpenAI, emu: VertexEmulator
) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buf, "PNG")
    result = sdk.images.edit(
        model="vertex-ai/gemini-3.1-flash-image",
        image=("in.png", buf.getvalue(), "image/png"),
        prompt="make it blue",
        extra_body={"aspect_ratio": "4:3"},
    )
    assert image_of(result.data[0].b64_json).size == (1184, 864)
    [sent] = generations(emu)
    parts = sent["fields"]["contents"][0]["parts"]
    assert parts[0] == {"text": "make it blue"}
    assert parts[1]["inlineData"]["mimeType"] == "image/png"


def test_jpeg_and_vertex_only_image_config_fields(gw: RunningGateway, emu: VertexEmulator) -> None:
    resp = generate(
        gw,
        model="vertex-ai/gemini-2.5-flash-image",
        output_format="jpeg",
        output_compression=60,
        provider_params={
            "personGeneration": "allow_all",
            "prominentPeople": "allow_prominent_people",
        },
    )
    assert resp.status_code == 200, resp.text
    assert image_of(resp.json()["data"][0]["b64_json"]).format == "JPEG"
    config = generations(emu)[0]["fields"]["generationConfig"]["imageConfig"]
    assert config == {
        "personGeneration": "ALLOW_ALL",
        "prominentPeople": "ALLOW_PROMINENT_PEOPLE",
        "imageOutputOptions": {"mimeType": "image/jpeg", "compressionQuality": 60},
    }


@pytest.mark.parametrize(
    ("marker", "status", "code", "said"),
    [
        ("[model-armor]", 400, "content_policy_violation", "MODEL_ARMOR"),
        ("[jailbreak]", 400, "content_policy_violation", "JAILBREAK"),
        ("[image-safety]", 400, "content_policy_violation", "IMAGE_SAFETY"),
        ("[no-image]", 502, "no_image_generated", "NO_IMAGE"),
    ],
)
def test_a_gemini_answer_without_an_image_is_an_error(
    gw: RunningGateway, emu: VertexEmulator, marker: str, status: int, code: str, said: str
) -> None:
    resp = generate(gw, model="vertex-ai/gemini-2.5-flash-image", prompt=f"{marker} a fox")
    assert resp.status_code == status, resp.text
    error = resp.json()["error"]
    assert error["code"] == code and said in error["message"]
    assert len(generations(emu)) == 1  # an accepted call: never sent again


def test_a_newer_gemini_id_passes_through_and_a_404_names_the_location(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    resp = generate(gw, model="vertex-ai/gemini-4-flash-image")
    assert resp.status_code == 404, resp.text
    assert "location us-central1" in resp.json()["error"]["message"]
    assert generations(emu) == [] and calls(emu, "generate") == 1  # reached Vertex, refused


def test_a_bare_imagen_id_is_vertexs_and_a_bare_gemini_id_stays_geminis(
    gw: RunningGateway, emu: VertexEmulator
) -> None:
    assert generate(gw, model="imagen-4.0-fast-generate-001").json()["provider"] == "vertex-ai"
    resp = generate(gw, model="gemini-2.5-flash-image")  # `gemini` has no key here
    assert resp.status_code == 503 and resp.json()["error"]["provider"] == "gemini"
    assert generations(emu) == []


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        (
            {"provider_params": {"personGeneration": "dont_allow"}},
            "provider_params.personGeneration",
        ),
        ({"provider_params": {"addWatermark": False}}, "provider_params.addWatermark"),
        ({"size": "1408x768"}, "size"),  # an Imagen size, not a Gemini one
        ({"seed": 5}, "seed"),
        ({"output_format": "webp"}, "output_format"),
    ],
)
def test_what_a_gemini_model_on_vertex_cannot_honour_is_a_400(
    gw: RunningGateway, emu: VertexEmulator, fields: dict[str, Any], param: str
) -> None:
    resp = generate(gw, model="vertex-ai/gemini-2.5-flash-image", **fields)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param
    assert calls(emu, "generate") == 0
