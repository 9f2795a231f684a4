"""The docs in a real browser (headless Chromium, driven by Playwright): `/` leads to Swagger
UI, which renders, offers "Authorize", and whose first "Try it out" of a generation and of an
edit answers 200; ReDoc renders. No request leaves the gateway's origin (ReDoc's logo from its
CDN is blocked by the page's Content-Security-Policy before it is sent).

Chromium is Debian's (`apt-get install chromium`, which `.ci/run` does); the test skips when it
is missing, and fails instead under IMAGE_GATEWAY_REQUIRE_SERVICES (as in CI).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import GATEWAY_TEST_KEY, RunningGateway

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
GENERATE = "#operations-images-create_image_v1_images_generations_post"
EDIT = "#operations-images-edit_image_v1_images_edits_post"


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if found:
        return found
    message = "Chromium is not installed (apt-get install chromium)"
    if os.environ.get("IMAGE_GATEWAY_REQUIRE_SERVICES"):
        pytest.fail(message + " and IMAGE_GATEWAY_REQUIRE_SERVICES is set")
    pytest.skip(message)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = _chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Visit:
    """One browser page on the gateway, recording every request it makes."""

    def __init__(self, browser: Any, gateway: RunningGateway) -> None:
        self.origin = urlsplit(gateway.url).netloc
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.requests: list[str] = []
        self.blocked: list[str] = []
        self.errors: list[str] = []
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.on("requestfailed", self._failed)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def _failed(self, request: Any) -> None:
        if request.failure == "csp":
            self.blocked.append(request.url)

    def left_the_origin(self) -> list[str]:
        """Requests to another origin that the page's policy did not stop before sending."""
        return [
            url
            for url in self.requests
            if urlsplit(url).scheme in ("http", "https")
            and urlsplit(url).netloc != self.origin
            and url not in self.blocked
        ]

    def execute(self, operation: str) -> str:
        """Open an operation, run its first example ("Try it out" is on), return the status."""
        self.page.click(f"{operation} .opblock-summary")
        self.page.click(f"{operation} .execute")
        status = f"{operation} .live-responses-table .response .response-col_status"
        self.page.wait_for_selector(status, timeout=30_000)
        return str(self.page.inner_text(status)).split()[0]


@pytest.fixture
def visit(browser: Any) -> Iterator[Callable[[RunningGateway], Visit]]:
    visits: list[Visit] = []

    def open_page(gateway: RunningGateway) -> Visit:
        visits.append(Visit(browser, gateway))
        return visits[-1]

    yield open_page
    for one in visits:
        one.page.close()


def test_swagger_ui_works_offline_on_the_first_try(
    start_gateway: Callable[..., RunningGateway],
    visit: Callable[[RunningGateway], Visit],
    tmp_path: Path,
) -> None:
    gateway = start_gateway()
    docs = visit(gateway)
    page = docs.page
    page.goto(gateway.url + "/", wait_until="networkidle")
    assert urlsplit(page.url).path == "/docs"
    page.wait_for_selector(".opblock")
    assert page.locator(".opblock").count() >= 16
    # Authorize with the gateway key (the X-API-Key scheme), then try the examples.
    page.click("button.authorize")
    page.fill(".modal-ux input[type=text]", GATEWAY_TEST_KEY)
    page.click(".modal-ux .auth-btn-wrapper button.authorize")
    page.click(".modal-ux button.btn-done")
    assert docs.execute(GENERATE) == "200"
    body = page.inner_text(f"{GENERATE} .live-responses-table .response .response-col_description")
    assert '"provider": "local"' in body
    assert docs.execute(EDIT) == "200"
    page.screenshot(path=str(tmp_path / "swagger.png"))
    assert docs.left_the_origin() == []
    assert docs.errors == []


def test_swagger_ui_without_a_key_is_answered_401_not_a_blank_page(
    start_gateway: Callable[..., RunningGateway], visit: Callable[[RunningGateway], Visit]
) -> None:
    gateway = start_gateway()
    docs = visit(gateway)
    docs.page.goto(gateway.url + "/docs", wait_until="networkidle")
    docs.page.wait_for_selector(".opblock")
    assert docs.execute(GENERATE) == "401"


def test_redoc_renders_offline(
    gateway: RunningGateway, visit: Callable[[RunningGateway], Visit], tmp_path: Path
) -> None:
    docs = visit(gateway)
    docs.page.goto(gateway.url + "/redoc", wait_until="networkidle")
    docs.page.wait_for_selector("h2:has-text('Create Image')", timeout=30_000)
    # What /openapi.json documents is on the page: the key schemes and the async headers.
    assert docs.page.get_by_text("APIKeyHeader").count() > 0
    assert docs.page.get_by_text("Idempotency-Key", exact=True).count() > 0
    docs.page.screenshot(path=str(tmp_path / "redoc.png"))
    assert docs.left_the_origin() == []
    assert set(docs.blocked) <= {"https://cdn.redoc.ly/redoc/logo-mini.svg"}
    assert docs.errors == []
