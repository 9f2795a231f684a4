"""`kit/sync.py`'s one `generate`, driven through the OpenAI adapter against the OpenAI emulator
over real sockets: the JSON submission, a multipart edit, images answered by URL, error
answers, and 2xx answers that cannot be used (billed_unknown, never sent again)."""

from __future__ import annotations

import io
from collections.abc import AsyncIterator
from typing import Any

import pytest
from PIL import Image

from image_gateway.errors import ProviderError, UpstreamError
from image_gateway.providers.kit.journal import CallJournal
from image_gateway.providers.kit.sync import text_parts
from image_gateway.providers.openai.adapter import OpenAIProvider
from image_gateway.providers.openai.models import MODELS
from image_gateway.schemas import ImageTask, InputImage
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient
from tests.conftest import GATEWAY_TEST_KEY, OPENAI_TEST_KEY, OpenAIEmulatorHandle, RunningGateway


def png(size: tuple[int, int]) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (9, 8, 7)).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
async def http() -> AsyncIterator[UpstreamClient]:
    client = UpstreamClient(
        connect_timeout=2, read_timeout=10, max_connections=4, max_response_bytes=32 << 20
    )
    await client.start()
    yield client
    await client.close()


@pytest.fixture
def provider(http: UpstreamClient, openai_emu: OpenAIEmulatorHandle) -> OpenAIProvider:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url
    )
    return OpenAIProvider(settings, http)


def task(**kwargs: Any) -> ImageTask:
    return ImageTask(provider="openai", model="x", prompt="a fox", **kwargs)


class Journal(CallJournal):
    """A job's journal, kept in memory: what `submit_once` recorded survives to a second try."""


async def test_a_generation_is_one_json_post_with_the_key(
    provider: OpenAIProvider, openai_emu: OpenAIEmulatorHandle
) -> None:
    result = await provider.generate(task(size=(1024, 1024), n=2), MODELS["gpt-image-1"])
    assert len(result.images) == 2 and result.images[0].data.startswith(b"\x89PNG")
    stats = openai_emu.stats()
    last = stats["last_request"]
    assert stats["requests"]["generate"] == 1 and last["path"] == "/v1/images/generations"
    assert last["json"]["n"] == 2 and last["headers"]["authorization"] == "<redacted; matched>"


async def test_an_edit_is_a_multipart_form_with_its_files(
    provider: OpenAIProvider, openai_emu: OpenAIEmulatorHandle
) -> None:
    image = InputImage(png((256, 256)), "image/png")
    mask = InputImage(png((256, 256)), "image/png")
    result = await provider.generate(
        task(images=[image], mask=mask, size=(256, 256)), MODELS["dall-e-2"]
    )
    assert Image.open(io.BytesIO(result.images[0].data)).size == (256, 256)
    last = openai_emu.stats()["last_request"]
    assert last["path"] == "/v1/images/edits"
    assert last["form"] == ["model", "prompt", "n", "size", "response_format", "image", "mask"]
    assert last["form_values"]["n"] == "1" and last["form_values"]["prompt"] == "a fox"


async def test_images_answered_by_url_are_downloaded_without_the_key(
    provider: OpenAIProvider, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "as_url": True}])
    result = await provider.generate(task(n=2), MODELS["dall-e-2"])
    assert [Image.open(io.BytesIO(i.data)).size for i in result.images] == [(1024, 1024)] * 2
    stats = openai_emu.stats()
    assert stats["requests"]["file"] == 2
    assert "authorization" not in stats["last_request"]["headers"]


async def test_a_url_on_another_origin_without_a_fetcher_is_refused_after_acceptance(
    provider: OpenAIProvider, openai_emu: OpenAIEmulatorHandle
) -> None:
    body = {"created": 1, "data": [{"url": "https://elsewhere.test/x.png"}]}
    openai_emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    with pytest.raises(UpstreamError) as caught:
        await provider.generate(task(), MODELS["dall-e-2"])
    assert "another origin (https://elsewhere.test:443)" in caught.value.message
    assert caught.value.billed_unknown and not caught.value.retryable


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        {"created": 1, "data": []},
        {"created": 1, "data": [{"b64_json": "!!"}]},
        {"created": 1, "data": "x"},
    ],
    ids=["garbage", "no images", "bad base64", "data not a list"],
)
async def test_an_unusable_2xx_is_billed_unknown_and_never_sent_again(
    provider: OpenAIProvider, openai_emu: OpenAIEmulatorHandle, body: object
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 200, "body": body}])
    journal = Journal()
    with pytest.raises(UpstreamError) as caught:
        await provider.generate(task(), MODELS["gpt-image-1"], journal)
    assert caught.value.billed_unknown and not caught.value.retryable
    assert journal.state == {"phase": "submitting"}  # kept: the provider took the call
    with pytest.raises(UpstreamError) as again:
        await provider.generate(task(), MODELS["gpt-image-1"], journal)
    assert again.value.code == "interrupted"
    assert openai_emu.stats()["requests"]["generate"] == 1


async def test_an_error_answer_leaves_the_call_free_to_be_sent_again(
    provider: OpenAIProvider, openai_emu: OpenAIEmulatorHandle
) -> None:
    openai_emu.add_faults([{"match": "generate", "status": 503}])
    journal = Journal()
    with pytest.raises(ProviderError) as caught:
        await provider.generate(task(), MODELS["gpt-image-1"], journal)
    assert caught.value.retryable and not caught.value.billed_unknown
    assert journal.state is None
    result = await provider.generate(task(), MODELS["gpt-image-1"], journal)
    assert len(result.images) == 1 and openai_emu.stats()["requests"]["generate"] == 2


def test_garbage_2xx_through_the_gateway_is_sent_once_despite_retries(
    start_gateway: Any, openai_emu: OpenAIEmulatorHandle
) -> None:
    gw: RunningGateway = start_gateway(
        openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url, retry_max_attempts=3
    )
    openai_emu.add_faults([{"match": "generate", "status": 200, "body": "<html>", "times": 3}])
    with gw.client(GATEWAY_TEST_KEY) as client:
        resp = client.post("/v1/images/generations", json={"model": "gpt-image-1", "prompt": "p"})
    assert resp.status_code == 502 and resp.headers["x-should-retry"] == "false"
    assert "not JSON" in resp.json()["error"]["message"]
    assert openai_emu.stats()["requests"]["generate"] == 1


def test_text_parts_spell_values_as_forms_do() -> None:
    parts = text_parts({"n": 2, "a": "x", "b": True, "c": False, "d": {"k": [1]}, "e": None})
    assert [(p.name, p.value) for p in parts] == [
        ("n", "2"),
        ("a", "x"),
        ("b", "true"),
        ("c", "false"),
        ("d", '{"k":[1]}'),
    ]
    assert all(p.filename is None for p in parts)
