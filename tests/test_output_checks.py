"""What a provider returns is checked before the gateway vouches for it: every provider's output
(OpenAI `b64_json` and URL outputs, BFL downloads, `local`) must be a PNG, JPEG or WebP with a
readable header, or the answer is a 502 `invalid_image_output` that says the call was probably
charged — nothing is returned, stored or re-sent. Stored images are served as what their bytes
are, with `nosniff` and a CSP. Driven over sockets against the emulators' `image` fault
switch, which puts HTML (or SVG, JSON, garbage, nothing, a truncated PNG) where the image
bytes belong in an otherwise normal answer."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
from PIL import Image

from emulators.kit.faults import FAKE_IMAGES
from image_gateway.schemas import GeneratedImage
from tests.conftest import (
    BFL_TEST_KEY,
    GATEWAY_TEST_KEY,
    OPENAI_TEST_KEY,
    OpenAIEmulatorHandle,
    RunningGateway,
)
from tests.jobs.support import ASYNC, wait_job

FAKES = sorted(FAKE_IMAGES)
CSP = "default-src 'none'; sandbox"


def stored_files(gw: RunningGateway) -> list[Path]:
    root = Path(gw.settings.image_store_dir)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def assert_refused(resp: httpx.Response, provider: str) -> None:
    assert resp.status_code == 502, resp.text
    error = resp.json()["error"]
    assert error["code"] == "invalid_image_output" and error["provider"] == provider
    assert "not an image" in error["message"] and "charged" in error["message"]
    assert "<script>" not in resp.text  # the provider's bytes never reach the client


@pytest.fixture
def openai_gw(start_gateway: Any, openai_emu: OpenAIEmulatorHandle) -> RunningGateway:
    # Retries on: a billed answer must still never be sent again.
    return start_gateway(
        openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url, retry_max_attempts=3
    )


@pytest.mark.parametrize("response_format", ["b64_json", "url"])
@pytest.mark.parametrize("fake", FAKES)
def test_openai_b64_json_that_is_not_an_image(
    openai_gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, fake: str, response_format: str
) -> None:
    openai_emu.add_faults([{"match": "generate", "image": fake}])
    with openai_gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"model": "gpt-image-1", "prompt": "p", "response_format": response_format},
        )
    assert_refused(resp, "openai")
    assert openai_emu.stats()["requests"]["generate"] == 1
    assert stored_files(openai_gw) == []


def test_openai_sdk_sees_a_502_for_html(
    openai_gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "image": "html"}])
    sdk = openai.OpenAI(base_url=openai_gw.url + "/v1", api_key=GATEWAY_TEST_KEY, max_retries=0)
    with pytest.raises(openai.InternalServerError) as err:
        sdk.images.generate(model="gpt-image-1", prompt="p")
    assert err.value.status_code == 502
    assert err.value.body["code"] == "invalid_image_output"  # type: ignore[index]


def test_openai_edit_output_is_checked(
    openai_gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (64, 64)).save(buf, "PNG")
    openai_emu.add_faults([{"match": "edit", "image": "svg"}])
    with openai_gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"model": "gpt-image-1", "prompt": "p"},
            files={"image": ("in.png", buf.getvalue(), "image/png")},
        )
    assert_refused(resp, "openai")


@pytest.mark.parametrize("fake", ["html", "svg", "truncated"])
def test_openai_url_output_that_is_not_an_image(
    openai_gw: RunningGateway, openai_emu: OpenAIEmulatorHandle, fake: str
) -> None:
    """An image answered by URL (a compatible server ignoring `response_format`) whose download
    is an error page, still claimed as image/png."""
    openai_emu.add_faults([{"match": "generate", "as_url": True}, {"match": "file", "image": fake}])
    with openai_gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"model": "dall-e-2", "prompt": "p", "response_format": "url"},
        )
    assert_refused(resp, "openai")
    assert openai_emu.stats()["requests"]["file"] == 1 and stored_files(openai_gw) == []


@pytest.mark.parametrize("fake", ["html", "json", "empty", "garbage"])
def test_bfl_sample_that_is_not_an_image(start_gateway: Any, bfl: Any, fake: str) -> None:
    gw = start_gateway(
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        retry_max_attempts=3,
    )
    bfl.add_faults([{"match": "sample", "image": fake}])
    with gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"model": "flux-dev", "prompt": "p", "response_format": "url"},
        )
    assert_refused(resp, "bfl-flux")
    stats = bfl.stats()
    assert stats["submits"] == 1 and stats["samples"] == 1
    assert stored_files(gw) == []


def test_local_output_is_checked_too(gateway: RunningGateway, monkeypatch: Any) -> None:
    """`local` draws its images itself; they pass the same check as any provider's."""
    from image_gateway.providers.local import drawing as local_drawing

    def broken(task: Any, fmt: str, size: Any) -> list[GeneratedImage]:
        return [GeneratedImage(FAKE_IMAGES["html"], "image/png")]

    monkeypatch.setattr(local_drawing, "render_all", broken)
    with gateway.client() as http:
        resp = http.post("/v1/images/generations", json={"prompt": "p", "size": "64x64"})
    assert_refused(resp, "local")


def test_an_async_job_fails_the_same_way(
    openai_gw: RunningGateway, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "image": "html"}])
    with openai_gw.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={"model": "gpt-image-1", "prompt": "p", "response_format": "url"},
            headers=ASYNC,
        )
        assert resp.status_code == 202, resp.text
        job = wait_job(http, resp.json()["id"])
    assert job["status"] == "failed" and job["result"] is None
    assert job["error"]["error"]["code"] == "invalid_image_output"
    assert stored_files(openai_gw) == []


# Serving stored images.


def test_stored_images_are_served_as_sniffed_with_nosniff_and_csp(gateway: RunningGateway) -> None:
    with gateway.client() as http:
        resp = http.post(
            "/v1/images/generations",
            json={
                "prompt": "p",
                "size": "96x64",
                "output_format": "webp",
                "response_format": "url",
            },
        )
        assert resp.status_code == 200, resp.text
        item = resp.json()["data"][0]
        image = http.get(item["url"])
    assert image.status_code == 200
    assert image.headers["content-type"] == "image/webp"
    assert image.headers["x-content-type-options"] == "nosniff"
    assert image.headers["content-security-policy"] == CSP
    assert Image.open(io.BytesIO(image.content)).size == (96, 64) and item["size"] == "96x64"


def put_by_hand(gw: RunningGateway, image_id: str, data: bytes) -> None:
    """A file in the store that no check saw (stored before the check existed, or by hand)."""
    path = Path(gw.settings.image_store_dir) / image_id[:2] / image_id
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def test_what_the_bytes_are_wins_over_the_extension(gateway: RunningGateway) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG")
    put_by_hand(gateway, "A" * 32 + ".png", buf.getvalue())
    with gateway.client(key=None) as http:
        resp = http.get("/v1/images/files/" + "A" * 32 + ".png")
    assert resp.status_code == 200 and resp.headers["content-type"] == "image/jpeg"


@pytest.mark.parametrize("fake", ["html", "svg"])
def test_stored_bytes_that_are_no_image_are_an_inert_attachment(
    gateway: RunningGateway, fake: str
) -> None:
    put_by_hand(gateway, "B" * 32 + ".png", FAKE_IMAGES[fake])
    with gateway.client(key=None) as http:
        resp = http.get("/v1/images/files/" + "B" * 32 + ".png")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == "application/octet-stream"
    assert resp.headers["content-disposition"] == "attachment"
    assert resp.headers["x-content-type-options"] == "nosniff"
    assert resp.headers["content-security-policy"] == CSP


SERVED_HEADERS = (
    "content-type",
    "content-length",
    "x-content-type-options",
    "content-security-policy",
    "cache-control",
    "content-disposition",
)


def served_url(gw: RunningGateway) -> str:
    with gw.client() as http:
        made = http.post(
            "/v1/images/generations",
            json={"prompt": "p", "size": "96x64", "response_format": "url"},
        )
    assert made.status_code == 200, made.text
    return str(made.json()["data"][0]["url"])


def assert_head_is_get_without_body(gw: RunningGateway, expected: dict[str, int]) -> None:
    with httpx.Client(base_url=gw.url, timeout=30) as anonymous:  # the link is the credential
        for url, status in expected.items():
            got, head = anonymous.get(url), anonymous.head(url)
            assert (got.status_code, head.status_code) == (status, status), url
            assert head.content == b"" and len(got.content) > 0, url
            assert head.headers["content-length"] == str(len(got.content)), url
            for name in SERVED_HEADERS:
                assert head.headers.get(name) == got.headers.get(name), (url, name)


def test_head_answers_as_get_does_without_the_body(start_gateway: Any) -> None:
    """`HEAD` (`curl -I`, link checkers, CDNs) gets GET's status and headers (type, length,
    nosniff, CSP, caching) and no body: for a stored image, bytes that are no image, an unknown
    id; with signed links, for a signed, an unsigned and an expired link."""
    gw = start_gateway()
    put_by_hand(gw, "C" * 32 + ".png", FAKE_IMAGES["html"])
    url = served_url(gw)
    assert_head_is_get_without_body(
        gw,
        {
            url: 200,
            "/v1/images/files/" + "C" * 32 + ".png": 200,  # an inert attachment
            "/v1/images/files/img_not_there": 404,
        },
    )
    with httpx.Client() as http:
        head = http.head(url)
    assert head.headers["content-type"] == "image/png"
    assert head.headers["content-security-policy"] == CSP
    assert head.headers["cache-control"] == "private, max-age=31536000, immutable"

    signing = start_gateway(image_url_ttl_seconds=60, image_url_secret="h" * 32)
    signed = served_url(signing)
    path = httpx.URL(signed).path
    assert_head_is_get_without_body(
        signing, {signed: 200, path: 404, f"{path}?expires=1&sig=00": 404}
    )
