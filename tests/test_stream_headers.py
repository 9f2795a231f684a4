"""Every streaming answer carries its own headers: found by the benchmark's streaming scenario,
where after about a hundred streams every answer had one more `x-request-id` than the last
(the middleware appended to a list all answers shared) until clients refused them."""

from __future__ import annotations

from collections.abc import Callable

from tests.conftest import OPENAI_TEST_KEY, OpenAIEmulatorHandle, RunningGateway


def test_each_stream_has_one_request_id(
    start_gateway: Callable[..., RunningGateway], openai_emu: OpenAIEmulatorHandle
) -> None:
    gw = start_gateway(openai_api_key=OPENAI_TEST_KEY, openai_base_url=openai_emu.base_url)
    body = {"model": "gpt-image-1", "prompt": "x", "stream": True, "partial_images": 1}
    ids = []
    with gw.client() as http:
        for _ in range(3):
            with http.stream("POST", "/v1/images/generations", json=body) as resp:
                assert resp.status_code == 200
                assert len(resp.headers.get_list("x-request-id")) == 1
                assert len(resp.headers.get_list("content-type")) == 1
                ids.append(resp.headers["x-request-id"])
                resp.read()
    assert len(set(ids)) == 3
