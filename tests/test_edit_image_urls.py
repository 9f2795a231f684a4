"""Edits with input images by URL (multipart `image_url`, JSON `images: [{"image_url"}]`),
fetched by the gateway behind the SSRF guard; and the edit route's per-part limits."""

from __future__ import annotations

import base64
import io
import time
from typing import Any

import pytest
from PIL import Image

from tests.conftest import Canary, RunningGateway
from tests.image_host import IMAGE_SIZE, make_image, pixel_bomb_png


@pytest.fixture
def gw(start_gateway: Any, image_host: Any) -> RunningGateway:
    return start_gateway(fetch_allow_hosts=[f"127.0.0.1:{image_host.port}"])


def size_of(resp: Any) -> tuple[int, int]:
    data = base64.b64decode(resp.json()["data"][0]["b64_json"])
    with Image.open(io.BytesIO(data)) as image:
        return image.size


def test_multipart_image_url_is_fetched(gw: RunningGateway, image_host: Any) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art", "image_url": image_host.url("/webp")},
        )
    assert resp.status_code == 200, resp.text
    assert size_of(resp) == IMAGE_SIZE  # the local model keeps the (fetched) input's size
    assert image_host.hits == ["/webp"]


def test_uploads_and_urls_mix(gw: RunningGateway, image_host: Any) -> None:
    upload = make_image("PNG", (128, 80))
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={
                "prompt": "p",
                "model": "local-art",
                "image_url": [image_host.url("/png"), image_host.url("/jpeg")],
            },
            files={"image": ("a.png", upload, "image/png")},
        )
    assert resp.status_code == 200, resp.text
    assert size_of(resp) == (128, 80)  # uploaded files come first, then URLs
    assert sorted(image_host.hits) == ["/jpeg", "/png"]


def test_json_edit_with_image_urls(gw: RunningGateway, image_host: Any) -> None:
    mask = make_image("PNG")
    body = {
        "prompt": "p",
        "model": "local-art",
        "images": [{"image_url": image_host.url("/png")}],
        "mask": {"image_url": "data:image/png;base64," + base64.b64encode(mask).decode()},
    }
    with gw.client() as http:
        resp = http.post("/v1/images/edits", json=body)
    assert resp.status_code == 200, resp.text
    assert size_of(resp) == IMAGE_SIZE and image_host.hits == ["/png"]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"prompt": "p"}, "images"),
        ({"prompt": "p", "images": []}, "images"),
        ({"prompt": "p", "images": "http://example.com/a.png"}, "images"),
        ({"prompt": "p", "images": [{"file_id": "file-123"}]}, "images[0]"),
        ({"prompt": "p", "images": [{"image_url": 5}]}, "images[0]"),
        ({"prompt": "p", "images": [{"image_url": "http://x.example/a", "x": 1}]}, "images[0]"),
        ({"prompt": "p", "images": [{"image_url": "http://x.example/a.png"}] * 17}, "images"),
        ({"prompt": "p", "images": [{"image_url": "ftp://x.example/a"}]}, "images[0].image_url"),
        ({"prompt": "p", "images": [{"image_url": "aGVsbG8="}]}, "images[0].image_url"),
        ({"images": [{"image_url": "http://x.example/a.png"}]}, "prompt"),
        (
            {"prompt": "p", "images": [{"image_url": "http://x.example/a"}], "api_base": "x"},
            "api_base",
        ),
        ({"prompt": "p", "images": [{"image_url": "http://x.example/a"}], "mask": 1}, "mask"),
    ],
)
def test_bad_json_edits_are_400(gw: RunningGateway, body: dict[str, Any], param: str) -> None:
    with gw.client() as http:
        resp = http.post("/v1/images/edits", json=body)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["param"] == param


def test_edit_urls_are_guarded(start_gateway: Any, canary: Canary, fake_dns: Any) -> None:
    gw = start_gateway()  # production defaults
    fake_dns.set("internal.test", ["127.0.0.1"])
    urls = [
        f"http://127.0.0.1:{canary.port}/a.png",
        f"http://0x7f000001:{canary.port}/a.png",
        f"http://internal.test:{canary.port}/a.png",
        f"http://[::1]:{canary.port}/a.png",
        "file:///etc/passwd",
    ]
    with gw.client() as http:
        for url in urls:
            resp = http.post(
                "/v1/images/edits", data={"prompt": "p", "model": "local-art", "image_url": url}
            )
            assert resp.status_code == 400 and resp.json()["error"]["param"] == "image_url", url
            resp = http.post(
                "/v1/images/edits",
                json={"prompt": "p", "model": "local-art", "images": [{"image_url": url}]},
            )
            assert resp.status_code == 400, url
            assert resp.json()["error"]["param"] == "images[0].image_url", url
    time.sleep(0.2)
    assert canary.accepted == 0


def test_uploads_are_checked_like_fetched_images(gw: RunningGateway) -> None:
    with gw.client() as http:
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "model": "local-art"},
            files={"image": ("bomb.png", pixel_bomb_png(), "image/png")},
        )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "image"
    assert "pixels" in resp.json()["error"]["message"]


def test_edit_part_limits(gw: RunningGateway) -> None:
    png = make_image("PNG")
    with gw.client() as http:
        # A huge text field (no filename) is refused, not buffered without bound.
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p" * (2 * 1024 * 1024)},
            files={"image": ("a.png", png, "image/png")},
        )
        assert resp.status_code == 400 and "error" in resp.json()
        # Thousands of parts.
        fields = [(f"f{i}", "x") for i in range(5000)]
        resp = http.post(
            "/v1/images/edits", data=dict(fields), files={"image": ("a.png", png, "image/png")}
        )
        assert resp.status_code == 400 and "error" in resp.json()
        files = [("image[]", (f"{i}.png", png, "image/png")) for i in range(40)]
        resp = http.post("/v1/images/edits", data={"prompt": "p"}, files=files)
        assert resp.status_code == 400 and "error" in resp.json()
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p", "image_url": ["http://x.example/a.png"] * 17},
            files={"image": ("a.png", png, "image/png")},
        )
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "image"
        # The prompt limit applies to edits too.
        resp = http.post(
            "/v1/images/edits",
            data={"prompt": "p" * 40_000, "model": "local-art"},
            files={"image": ("a.png", png, "image/png")},
        )
        assert resp.status_code == 400 and resp.json()["error"]["param"] == "prompt"
        resp = http.post(
            "/v1/images/edits", content=b"prompt=p", headers={"content-type": "text/plain"}
        )
        assert resp.status_code == 400
