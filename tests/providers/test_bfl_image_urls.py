"""BFL input images given by URL, end to end: the gateway fetches them itself, behind the SSRF
guard with production defaults, and sends BFL base64 — BFL never receives a client's URL.

Servers: the real gateway, the BFL emulator, a scripted image host and a canary listener, all
on loopback. DNS for `*.test` names comes from `fake_dns` (a patched `getaddrinfo`). Positive
tests allow exactly one loopback port (the image host's) through FETCH_ALLOW_HOSTS.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import pytest

from tests.conftest import BFL_TEST_KEY, Canary, RunningGateway
from tests.image_host import Listener, make_image
from tests.jobs.support import submit, wait_job

KONTEXT = "flux-kontext-pro"


@pytest.fixture
def guarded(start_gateway: Any, bfl: Any) -> RunningGateway:
    """The gateway with production fetch defaults: nothing non-public is allowed."""
    return start_gateway(
        bfl_api_key=BFL_TEST_KEY, bfl_base_url=bfl.base_url, bfl_trusted_hosts=bfl.poll_base_url
    )


@pytest.fixture
def allowing(start_gateway: Any, bfl: Any, image_host: Any) -> RunningGateway:
    """Production defaults except the image host's one loopback port, allowed (tests only)."""
    return start_gateway(
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        fetch_allow_hosts=[f"127.0.0.1:{image_host.port}"],
        # Short, so the dripping host's case ends soon; 3 s, not 1 s: under load (average 20)
        # a plain local download took over 1 s.
        fetch_timeout_seconds=3.0,
    )


def edit(gw: RunningGateway, params: dict[str, Any], model: str = KONTEXT, n: int = 1) -> Any:
    with gw.client() as http:
        return http.post(
            "/v1/images/generations",
            json={"model": model, "prompt": "make it night", "n": n, "provider_params": params},
        )


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def assert_refused(resp: Any, param: str = "provider_params.input_image") -> dict[str, Any]:
    assert resp.status_code == 400, resp.text
    error = resp.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == param
    return dict(error)


# --- fetched and forwarded -------------------------------------------------------------------


def test_url_is_fetched_and_sent_to_bfl_as_base64(
    allowing: RunningGateway, bfl: Any, image_host: Any, fake_dns: Any
) -> None:
    fake_dns.set("images.test", ["127.0.0.1"])
    url = image_host.url("/png", host="images.test")
    resp = edit(allowing, {"input_image": url, "input_image_2": image_host.url("/webp")})
    assert resp.status_code == 200, resp.text
    sent = bfl.stats()["last_submit"]["json"]
    assert sent["input_image"] == b64(image_host.images["png"])
    assert sent["input_image_2"] == b64(image_host.images["webp"])
    assert sorted(image_host.hits) == ["/png", "/webp"]
    assert fake_dns.calls["images.test"] == 1


def test_inline_images_pass_through_after_checks(allowing: RunningGateway, bfl: Any) -> None:
    jpeg = make_image("JPEG")
    resp = edit(
        allowing,
        {"image_prompt": f"data:image/jpeg;base64,{b64(jpeg)}"},
        model="flux-pro-1.1",
    )
    assert resp.status_code == 200, resp.text
    assert bfl.stats()["last_submit"]["json"]["image_prompt"] == b64(jpeg)
    resp = edit(allowing, {"input_image": b64(jpeg)})
    assert resp.status_code == 200, resp.text
    assert bfl.stats()["last_submit"]["json"]["input_image"] == b64(jpeg)


def test_fan_out_fetches_once(allowing: RunningGateway, bfl: Any, image_host: Any) -> None:
    resp = edit(allowing, {"input_image": image_host.url("/jpeg")}, model="flux-2-pro", n=3)
    assert resp.status_code == 200, resp.text
    assert len(resp.json()["data"]) == 3
    assert image_host.hits == ["/jpeg"] and bfl.stats()["submits"] == 3


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (5, "must be an http(s) URL or base64"),
        (["http://example.com/a.png"], "must be an http(s) URL or base64"),
        ("not base64!", "neither a URL nor base64"),
        (b64(b"<!doctype html><p>hello</p>"), "is not a PNG, JPEG or WebP image"),
        ("data:text/html;base64,PGI+", "base64 image data URL"),
    ],
)
def test_bad_inline_values_are_400(
    allowing: RunningGateway, bfl: Any, value: Any, reason: str
) -> None:
    error = assert_refused(edit(allowing, {"input_image": value}))
    assert reason in error["message"]
    assert bfl.stats()["submits"] == 0


# --- SSRF: refused before any connection ------------------------------------------------------

SSRF_URLS = [
    "http://127.0.0.1:{port}/a.png",
    "http://localhost:{port}/a.png",
    "http://localhost.:{port}/a.png",
    "http://LOCALHOST:{port}/a.png",
    "http://app.localhost:{port}/a.png",
    "http://0.0.0.0:{port}/a.png",
    "http://0:{port}/a.png",
    "http://127.1:{port}/a.png",
    "http://127.0.1:{port}/a.png",
    "http://2130706433:{port}/a.png",
    "http://0x7f000001:{port}/a.png",
    "http://0x7f.1:{port}/a.png",
    "http://0177.0.0.1:{port}/a.png",
    "http://[::1]:{port}/a.png",
    "http://[::]:{port}/a.png",
    "http://[::ffff:127.0.0.1]:{port}/a.png",
    "http://[::ffff:7f00:1]:{port}/a.png",
    "http://[::127.0.0.1]:{port}/a.png",
    "http://[64:ff9b::127.0.0.1]:{port}/a.png",
    "http://[2002:7f00:1::1]:{port}/a.png",
    "http://169.254.169.254/latest/meta-data/",
    "http://2852039166/latest/meta-data/",
    "http://[::ffff:169.254.169.254]/latest/meta-data/",
    "http://100.64.0.1:{port}/a.png",
    "http://10.0.0.1:{port}/a.png",
    "http://10.255.255.254:{port}/a.png",
    "http://172.16.0.1/a.png",
    "http://192.168.0.1/a.png",
    "http://[fd00::1]:{port}/a.png",
    "http://[fd12:3456::1]:{port}/a.png",
    "http://[fe80::1]:{port}/a.png",
    "http://224.0.0.1:{port}/a.png",
    "http://intranet:{port}/a.png",
    "http://internal.test:{port}/a.png",  # DNS: 127.0.0.1
    "http://mixed.test:{port}/a.png",  # DNS: a public address AND 127.0.0.1
    "http://metadata.test/computeMetadata/v1/",  # DNS: 169.254.169.254
    "http://v6.test:{port}/a.png",  # DNS: ::1
    "http://cgnat.test:{port}/a.png",  # DNS: 100.64.0.1
    "http://ula.test:{port}/a.png",  # DNS: fd00::1
    "http://nowhere.test:{port}/a.png",  # DNS: no such name
    "file:///etc/passwd",
    "file://localhost/etc/passwd",
    "gopher://127.0.0.1:{port}/_GET%20/",
    "ftp://127.0.0.1:{port}/a.png",
    "dict://127.0.0.1:{port}/info",
    "http://user:pw@127.0.0.1:{port}/a.png",
    "http://user:pw@example.com/a.png",
    "http://example.com@127.0.0.1:{port}/a.png",
    "http://example.com#@127.0.0.1:{port}/a.png",
    "http://127.0.0.1:{port}#@example.com/a.png",
    "http://127.0.0.1:{port}\\@example.com/a.png",
    "http://example.com\t@127.0.0.1:{port}/",
    "http://127.0.0.1:{port}%2f@example.com/",
]


def _hostile_dns(fake_dns: Any) -> None:
    fake_dns.set("internal.test", ["127.0.0.1"])
    fake_dns.set("mixed.test", ["93.184.216.34", "127.0.0.1"])
    fake_dns.set("metadata.test", ["169.254.169.254"])
    fake_dns.set("v6.test", ["::1"])
    fake_dns.set("cgnat.test", ["100.64.0.1"])
    fake_dns.set("ula.test", ["fd00::1"])


def test_ssrf_matrix_is_refused_with_no_connection(
    guarded: RunningGateway, bfl: Any, canary: Canary, fake_dns: Any
) -> None:
    _hostile_dns(fake_dns)
    with guarded.client() as http:
        for template in SSRF_URLS:
            url = template.format(port=canary.port)
            resp = http.post(
                "/v1/images/generations",
                json={"model": KONTEXT, "prompt": "p", "provider_params": {"input_image": url}},
            )
            assert resp.status_code == 400, (url, resp.text)
            error = resp.json()["error"]
            assert error["param"] == "provider_params.input_image", url
            for internal in ("127.0.0.1", "169.254.169.254", "::1", "100.64", "fd00"):
                if internal not in url:  # never says what a name resolved to
                    assert internal not in error["message"], (url, error)
    time.sleep(0.2)  # let the canary thread count anything that did arrive
    assert canary.accepted == 0
    assert bfl.stats()["submits"] == 0


def test_image_prompt_and_every_reference_field_is_guarded(
    guarded: RunningGateway, bfl: Any, canary: Canary
) -> None:
    url = f"http://127.0.0.1:{canary.port}/a.png"
    assert_refused(
        edit(guarded, {"image_prompt": url}, model="flux-pro-1.1"), "provider_params.image_prompt"
    )
    assert_refused(
        edit(guarded, {"input_image_8": url}, model="flux-2-pro"), "provider_params.input_image_8"
    )
    time.sleep(0.2)
    assert canary.accepted == 0 and bfl.stats()["submits"] == 0


def test_oversized_data_url_is_refused(guarded: RunningGateway, bfl: Any) -> None:
    huge = "data:image/png;base64," + "A" * (28 * 1024 * 1024)  # > 20 MiB once decoded
    error = assert_refused(edit(guarded, {"input_image": huge}))
    assert "larger than" in error["message"] and bfl.stats()["submits"] == 0


def test_allow_list_admits_exactly_one_port(
    allowing: RunningGateway, bfl: Any, canary: Canary, image_host: Any
) -> None:
    assert edit(allowing, {"input_image": image_host.url("/png")}).status_code == 200
    assert_refused(edit(allowing, {"input_image": f"http://127.0.0.1:{canary.port}/a.png"}))
    assert_refused(edit(allowing, {"input_image": f"http://localhost:{image_host.port}/png"}))
    time.sleep(0.2)
    assert canary.accepted == 0 and bfl.stats()["submits"] == 1


# --- redirects: every hop re-checked ----------------------------------------------------------


@pytest.mark.parametrize("status", [301, 302, 303, 307, 308])
def test_redirect_to_loopback_is_blocked(
    allowing: RunningGateway, bfl: Any, canary: Canary, image_host: Any, fake_dns: Any, status: int
) -> None:
    _hostile_dns(fake_dns)
    targets = [
        f"http://127.0.0.1:{canary.port}/a.png",
        f"http://2130706433:{canary.port}/a.png",
        f"http://internal.test:{canary.port}/a.png",
        f"http://[::ffff:127.0.0.1]:{canary.port}/a.png",
        "http://169.254.169.254/latest/meta-data/",
        "file:///etc/passwd",
        f"gopher://127.0.0.1:{canary.port}/_x",
        f"http://user:pw@127.0.0.1:{canary.port}/",
    ]
    for target in targets:
        url = image_host.url(f"/redirect/{status}?to={target}")
        error = assert_refused(edit(allowing, {"input_image": url}))
        assert "127.0.0.1" not in error["message"].replace(f"127.0.0.1:{canary.port}", "")
    time.sleep(0.2)
    assert canary.accepted == 0 and bfl.stats()["submits"] == 0
    assert len(image_host.hits) == len(targets)  # each redirect answered, never followed


def test_relative_redirects_are_followed(
    allowing: RunningGateway, bfl: Any, image_host: Any
) -> None:
    resp = edit(allowing, {"input_image": image_host.url("/redirect/302?to=/png")})
    assert resp.status_code == 200, resp.text
    assert image_host.hits == ["/redirect/302?to=/png", "/png"]
    assert bfl.stats()["last_submit"]["json"]["input_image"] == b64(image_host.images["png"])


def test_redirect_chains_are_capped(
    start_gateway: Any, allowing: RunningGateway, bfl: Any, image_host: Any
) -> None:
    assert edit(allowing, {"input_image": image_host.url("/chain/0?stop=5")}).status_code == 200
    image_host.hits.clear()
    error = assert_refused(edit(allowing, {"input_image": image_host.url("/chain/0?stop=11")}))
    assert "redirected more than 5 times" in error["message"]
    assert len(image_host.hits) == 6  # the first request and 5 redirects, no more
    ten = start_gateway(
        bfl_api_key=BFL_TEST_KEY,
        bfl_base_url=bfl.base_url,
        bfl_trusted_hosts=bfl.poll_base_url,
        fetch_allow_hosts=[f"127.0.0.1:{image_host.port}"],
        fetch_max_redirects=10,
    )
    image_host.hits.clear()
    assert_refused(edit(ten, {"input_image": image_host.url("/chain/0?stop=11")}))  # 11 hops
    assert len(image_host.hits) == 11
    assert edit(ten, {"input_image": image_host.url("/chain/0?stop=10")}).status_code == 200


# --- DNS rebinding: the connection goes to the address that was checked -----------------------


def test_dns_rebinding_cannot_swap_the_address(
    allowing: RunningGateway, bfl: Any, image_host: Any, fake_dns: Any
) -> None:
    # The allowed 127.0.0.1:<port> stands in for a public address (no real network here).
    # The rebinding answer, 127.0.0.2 on the same port, is a trap that counts connections.
    trap = Listener("127.0.0.2", image_host.port)
    try:
        fake_dns.set("rebind.test", ["127.0.0.1"], ["127.0.0.2"])
        url = image_host.url("/png", host="rebind.test")
        assert edit(allowing, {"input_image": url}).status_code == 200
        assert fake_dns.calls["rebind.test"] == 1  # one lookup: checked and connected to
        # A redirect back to the same name is a new hop: looked up and checked again.
        fake_dns.set("rebind.test", ["127.0.0.1"], ["127.0.0.2"])
        url = image_host.url("/redirect/302?to=/png", host="rebind.test")
        assert_refused(edit(allowing, {"input_image": url}))
        assert fake_dns.calls["rebind.test"] == 2
        time.sleep(0.2)
        assert trap.accepted == 0
        assert image_host.hits == ["/png", "/redirect/302?to=/png"]
        assert bfl.stats()["submits"] == 1
    finally:
        trap.close()


# --- hostile image hosts ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "reason"),
    [
        ("/huge-declared", "larger than 20971520 bytes"),
        ("/huge-chunked", "larger than 20971520 bytes"),
        ("/html", "not a PNG, JPEG or WebP image"),
        ("/bomb", "more than 50000000 pixels (20000x20000)"),
        ("/truncated", "not a readable PNG image"),
        ("/gzip", "content encoding"),
        ("/status/404", "answered HTTP 404"),
        ("/status/500", "answered HTTP 500"),
        ("/redirect/302?to=", "redirect without a Location"),
        ("/drip", "could not be downloaded within 3 s"),
    ],
)
def test_hostile_image_hosts_are_400_quickly(
    allowing: RunningGateway, bfl: Any, image_host: Any, path: str, reason: str
) -> None:
    started = time.monotonic()
    error = assert_refused(edit(allowing, {"input_image": image_host.url(path)}))
    elapsed = time.monotonic() - started
    assert reason in error["message"], error
    assert elapsed < 8.0  # the fetch timeout (3 s) and some, not the default 15 s
    assert bfl.stats()["submits"] == 0


# --- jobs: fetched by the pre-flight, before the 202, and kept ----------------------------------


def test_a_job_fetches_its_input_images_once_before_its_202(
    allowing: RunningGateway, bfl: Any, image_host: Any
) -> None:
    """A job's images named by URL (provider_params, an edit's image_url) are fetched by the
    pre-flight before its 202 and kept with the job: the job runs on those bytes, and nothing
    is fetched again when it runs."""
    body = {
        "model": KONTEXT,
        "prompt": "make it night",
        "provider_params": {"input_image": image_host.url("/png")},
    }
    with allowing.client() as http:
        job = submit(http, body)
        assert image_host.hits == ["/png"]  # already fetched when the 202 came
        assert wait_job(http, job["id"])["status"] == "succeeded"
        assert bfl.stats()["last_submit"]["json"]["input_image"] == b64(image_host.images["png"])
        edit_job = submit(
            http,
            {"model": KONTEXT, "prompt": "p", "images": [{"image_url": image_host.url("/webp")}]},
            path="/v1/images/edits",
        )
        assert sorted(image_host.hits) == ["/png", "/webp"]
        assert wait_job(http, edit_job["id"])["status"] == "succeeded"
        assert bfl.stats()["last_submit"]["json"]["input_image"] == b64(image_host.images["webp"])
    assert sorted(image_host.hits) == ["/png", "/webp"]  # once each
