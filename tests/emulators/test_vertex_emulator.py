"""The Vertex AI emulator on its own, over real sockets: its token endpoint checks a service
account's signed assertion as Google's does (the assertion made here with google-auth's own
signer and claims, as `service_account.Credentials` makes it), its API takes only the tokens it
issued, and Imagen's `:predict` validates and answers as documented (emulators/vertex)."""

from __future__ import annotations

import base64
import io
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from google.auth import crypt, jwt
from PIL import Image

from emulators.vertex import VertexEmulator
from emulators.vertex.accounts import AUDIENCE, GRANT_TYPE, SCOPE

MODEL = "imagen-4.0-generate-001"


@pytest.fixture(scope="module")
def emulator() -> Iterator[VertexEmulator]:
    with VertexEmulator(api_key="AIza-test-emulator-key", strict=True) as emu:
        yield emu


@pytest.fixture
def emu(emulator: VertexEmulator) -> VertexEmulator:
    emulator.reset()
    return emulator


def assertion(key_file: Path, **claims: Any) -> str:
    """A signed JWT assertion with the claims google-auth's service account sends."""
    signer = crypt.RSASigner.from_service_account_file(str(key_file))
    info = jwt.json.loads(key_file.read_text())
    now = int(time.time())
    payload = {
        "iss": info["client_email"],
        "aud": AUDIENCE,
        "scope": SCOPE,
        "iat": now,
        "exp": now + 3600,
        **claims,
    }
    return jwt.encode(signer, payload).decode()


def token_request(emu: VertexEmulator, grant: str, grant_type: str = GRANT_TYPE) -> httpx.Response:
    return httpx.post(emu.token_uri, data={"grant_type": grant_type, "assertion": grant})


def token(emu: VertexEmulator) -> str:
    assert emu.credentials_file is not None
    resp = token_request(emu, assertion(emu.credentials_file))
    assert resp.status_code == 200, resp.text
    return str(resp.json()["access_token"])


def predict(
    emu: VertexEmulator,
    body: dict[str, Any],
    bearer: str | None = None,
    project: str | None = None,
    model: str = MODEL,
) -> httpx.Response:
    path = (
        f"/v1/projects/{project or emu.project}/locations/us-central1/publishers/google/"
        f"models/{model}:predict"
    )
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return httpx.post(emu.base_url + path, json=body, headers=headers, timeout=30)


def imagen(prompt: str = "a fox", **parameters: Any) -> dict[str, Any]:
    return {"instances": [{"prompt": prompt}], "parameters": parameters}


# --- the token endpoint --------------------------------------------------------------------------


def test_a_signed_assertion_gets_an_expiring_access_token(emu: VertexEmulator) -> None:
    assert emu.credentials_file is not None
    resp = token_request(emu, assertion(emu.credentials_file))
    assert resp.status_code == 200
    answer = resp.json()
    assert answer["token_type"] == "Bearer" and answer["expires_in"] == 3600
    assert answer["access_token"].startswith("ya29.")
    assert emu.stats()["tokens_issued"] == 1


@pytest.mark.parametrize(
    ("claims", "error"),
    [
        ({"aud": "https://example.com/token"}, "invalid_grant"),
        ({"iss": "someone@elsewhere.iam.gserviceaccount.com"}, "invalid_grant"),
        ({"scope": "https://www.googleapis.com/auth/drive"}, "invalid_scope"),
        ({"iat": int(time.time()) - 7200, "exp": int(time.time()) - 3600}, "invalid_grant"),
    ],
)
def test_an_assertion_with_wrong_claims_is_refused(
    emu: VertexEmulator, claims: dict[str, Any], error: str
) -> None:
    assert emu.credentials_file is not None
    resp = token_request(emu, assertion(emu.credentials_file, **claims))
    assert resp.status_code == 400
    assert resp.json()["error"] == error
    assert emu.stats()["tokens_issued"] == 0


def test_an_assertion_signed_with_another_key_is_refused(
    emu: VertexEmulator, tmp_path: Path
) -> None:
    forged = emu.write_credentials(tmp_path / "forged.json", forged=True)
    resp = token_request(emu, assertion(forged))
    assert resp.status_code == 400
    assert resp.json() == {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
    assert token_request(emu, "x", grant_type="password").json()["error"] == (
        "unsupported_grant_type"
    )


# --- the API's authentication ---------------------------------------------------------------------


def test_the_api_takes_only_tokens_it_issued_and_still_valid(emu: VertexEmulator) -> None:
    missing = predict(emu, imagen(sampleCount=1))
    assert missing.status_code == 401
    assert missing.json()["error"]["status"] == "UNAUTHENTICATED"
    assert predict(emu, imagen(sampleCount=1), bearer="ya29.made-up").status_code == 401
    bearer = token(emu)
    assert predict(emu, imagen(sampleCount=1), bearer=bearer).status_code == 200
    emu.add_faults([{"match": "predict", "expire_tokens": True}])
    assert predict(emu, imagen(sampleCount=1), bearer=bearer).status_code == 401
    assert emu.stats()["auth_failures"] == 3


def test_tokens_expire_after_their_lifetime() -> None:
    with VertexEmulator(token_ttl=0) as emu:
        bearer = token(emu)
        assert predict(emu, imagen(sampleCount=1), bearer=bearer).status_code == 401


def test_another_project_or_an_unknown_model(emu: VertexEmulator) -> None:
    bearer = token(emu)
    denied = predict(emu, imagen(), bearer=bearer, project="someone-elses")
    assert denied.status_code == 403
    assert denied.json()["error"]["status"] == "PERMISSION_DENIED"
    unknown = predict(emu, imagen(), bearer=bearer, model="imagen-9")
    assert unknown.status_code == 404 and "not found" in unknown.json()["error"]["message"]


def test_express_mode_takes_the_key_in_a_header_or_the_query(emu: VertexEmulator) -> None:
    url = f"{emu.base_url}/v1/publishers/google/models/{MODEL}:predict"
    body = imagen(sampleCount=1)
    assert httpx.post(url, json=body, headers={"x-goog-api-key": emu.api_key}).status_code == 200
    assert httpx.post(url, json=body, params={"key": emu.api_key}).status_code == 200
    wrong = httpx.post(url, json=body, headers={"x-goog-api-key": "AIza-wrong"})
    assert wrong.status_code == 400
    assert wrong.json()["error"]["details"][0]["reason"] == "API_KEY_INVALID"


# --- Imagen's :predict ----------------------------------------------------------------------------


def test_images_of_the_asked_ratio_size_and_format(emu: VertexEmulator) -> None:
    body = imagen(
        sampleCount=2,
        aspectRatio="9:16",
        sampleImageSize="2k",  # the cookbook's lowercase is taken too
        outputOptions={"mimeType": "image/jpeg", "compressionQuality": 70},
    )
    resp = predict(emu, body, bearer=token(emu))
    assert resp.status_code == 200, resp.text
    predictions = resp.json()["predictions"]
    assert len(predictions) == 2 and predictions[0]["mimeType"] == "image/jpeg"
    image = Image.open(io.BytesIO(base64.b64decode(predictions[0]["bytesBase64Encoded"])))
    assert (image.format, image.size) == ("JPEG", (1536, 2816))
    assert emu.stats()["submissions"] == 1


@pytest.mark.parametrize(
    ("parameters", "model", "fragment"),
    [
        ({"sampleCount": 5}, MODEL, "sampleCount"),
        ({"sampleCount": 2}, "imagen-4.0-ultra-generate-001", "sampleCount"),
        ({"aspectRatio": "3:2"}, MODEL, "aspect ratio"),
        ({"sampleImageSize": "2K"}, "imagen-4.0-fast-generate-001", "sampleImageSize"),
        ({"sampleImageSize": "4K"}, MODEL, "sampleImageSize"),
        ({"seed": 3}, MODEL, "addWatermark"),
        ({"negativePrompt": "fog"}, MODEL, "Negative prompts"),
        ({"personGeneration": "everyone"}, MODEL, "personGeneration"),
        ({"outputOptions": {"mimeType": "image/webp"}}, MODEL, "mimeType"),
        ({"madeUpParameter": 1}, MODEL, "Unknown name"),  # strict; Vertex ignores it
    ],
)
def test_what_imagen_refuses(
    emu: VertexEmulator, parameters: dict[str, Any], model: str, fragment: str
) -> None:
    resp = predict(emu, imagen(**parameters), bearer=token(emu), model=model)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert fragment in resp.json()["error"]["message"]
    assert emu.stats()["submissions"] == 0


def test_lenient_without_strict() -> None:
    with VertexEmulator() as emu:
        body = imagen(sampleCount=1, madeUpParameter=1)
        assert predict(emu, body, bearer=token(emu)).status_code == 200


def test_filtered_images_and_blocked_prompts(emu: VertexEmulator) -> None:
    bearer = token(emu)
    one = predict(emu, imagen("[filter-one] x", sampleCount=3, includeRaiReason=True), bearer)
    kinds = [sorted(p) for p in one.json()["predictions"]]
    assert kinds == [["raiFilteredReason"], *[["bytesBase64Encoded", "mimeType"]] * 2]
    silent = predict(emu, imagen("[filter-all] x", sampleCount=2), bearer)
    assert (silent.status_code, silent.json()) == (200, {})  # no reason asked: nothing at all
    blocked = predict(emu, imagen("[moderate] x"), bearer)
    assert blocked.status_code == 400 and "58061214" in blocked.json()["error"]["message"]
    assert emu.stats()["submissions"] == 2


# --- the Gemini image models' generateContent ----------------------------------------------------


def generate_content(emu: VertexEmulator, prompt: str, bearer: str | None) -> httpx.Response:
    path = (
        f"/v1/projects/{emu.project}/locations/us-central1/publishers/google/models/"
        "gemini-2.5-flash-image:generateContent"
    )
    body = {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}
    headers = {"Authorization": f"Bearer {bearer}"} if bearer else {}
    return httpx.post(emu.base_url + path, json=body, headers=headers, timeout=30)


def test_generate_content_behind_vertex_auth(emu: VertexEmulator) -> None:
    assert generate_content(emu, "a fox", None).status_code == 401
    bearer = token(emu)
    answer = generate_content(emu, "a fox", bearer).json()
    assert answer["candidates"][0]["content"]["parts"][-1]["inlineData"]["mimeType"] == "image/png"
    armor = generate_content(emu, "[model-armor] a fox", bearer).json()
    assert armor["promptFeedback"]["blockReason"] == "MODEL_ARMOR"
    assert emu.stats()["requests"]["generate"] == 3 and emu.stats()["submissions"] == 2


def test_the_moderation_scenarios_on_a_gemini_call_are_geminis_forms(emu: VertexEmulator) -> None:
    bearer = token(emu)
    emu.scenario("moderated")
    blocked = generate_content(emu, "a fox", bearer)
    assert (blocked.status_code, blocked.json()["promptFeedback"]["blockReason"]) == (
        200,
        "PROHIBITED_CONTENT",
    )
    emu.scenario("moderated_200")
    withheld = generate_content(emu, "a fox", bearer)
    assert withheld.json()["candidates"][0]["finishReason"] == "IMAGE_SAFETY"
