"""One renderer (`image_gateway/generation/rendering.py`): the same generation answered
synchronously, as a job read back (`GET /v1/jobs/{id}`) and as an idempotent request (which runs as
a job and answers when it finishes) has the same body, for every provider and both response formats:
the same fields in the same order, the same values but the response id and time, and images
of the same kind and size (b64_json decoded, url fetched)."""

from __future__ import annotations

import base64
import io
from typing import Any

import httpx
import pytest
from PIL import Image

from tests.conftest import RunningGateway, emulator_settings
from tests.jobs.support import FAST, submit, wait_job

BODIES: dict[str, dict[str, Any]] = {
    "local": {"model": "local-art", "prompt": "a lighthouse", "size": "64x64", "seed": 7},
    "openai": {"model": "gpt-image-1", "prompt": "a red fox", "size": "1024x1024"},
    "openai-dall-e-3": {"model": "dall-e-3", "prompt": "a red fox", "size": "1024x1024"},
    "bfl": {"model": "flux-pro-1.1", "prompt": "a fox", "size": "512x512", "seed": 42},
}


def image_of(item: dict[str, Any], http: httpx.Client) -> tuple[str | None, tuple[int, int]]:
    """The kind and size of the image a `data[i]` carries."""
    if "b64_json" in item:
        data = base64.b64decode(item["b64_json"])
    else:
        got = http.get(item["url"])
        assert got.status_code == 200, got.text
        data = got.content
    image = Image.open(io.BytesIO(data))
    return image.format, image.size


def comparable(body: dict[str, Any], http: httpx.Client) -> dict[str, Any]:
    """The body with what must differ (id, time, the image's own bytes or link) taken out, and
    the order of its fields kept."""
    assert body["id"].startswith("img_") and isinstance(body["created"], int)
    shown = {k: v for k, v in body.items() if k not in ("id", "created", "data")}
    shown["fields"] = list(body)
    shown["data"] = [
        ([k for k in item], {k: v for k, v in item.items() if k not in ("b64_json", "url")})
        for item in body["data"]
    ]
    shown["images"] = [image_of(item, http) for item in body["data"]]
    return shown


@pytest.mark.parametrize("response_format", ["b64_json", "url"])
@pytest.mark.parametrize("case", list(BODIES))
def test_sync_job_and_idempotent_answers_have_one_shape(
    start_gateway: Any, openai_emu: Any, bfl: Any, case: str, response_format: str
) -> None:
    gw: RunningGateway = start_gateway(**emulator_settings(openai_emu, bfl), **FAST)
    body = {**BODIES[case], "response_format": response_format}
    with gw.client() as http:
        sync = http.post("/v1/images/generations", json=body)
        assert sync.status_code == 200, sync.text
        job = wait_job(http, submit(http, body)["id"])
        assert job["status"] == "succeeded", job
        replayed = http.post(
            "/v1/images/generations", json=body, headers={"Idempotency-Key": f"shape-{case}"}
        )
        assert replayed.status_code == 200, replayed.text
        again = http.get(f"/v1/jobs/{job['id']}").json()["result"]
        shapes = [comparable(b, http) for b in (sync.json(), job["result"], replayed.json())]
    assert shapes[0] == shapes[1] == shapes[2]
    assert again["id"] == job["result"]["id"]  # a job keeps its result's id
    item_fields = shapes[0]["data"][0][0]
    assert item_fields[0] == response_format
    if case == "openai":
        assert "usage" in shapes[0]
    if case.startswith("bfl") or case == "local":
        assert "seed" in item_fields
