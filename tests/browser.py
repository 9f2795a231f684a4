"""Headless Chromium for the browser tests (Debian's `chromium`, driven by Playwright): the
`browser` fixture (one per test module), and `Visit`, one page recording what it requested.

The browser is skipped when Chromium is missing, and fails instead under
IMAGE_GATEWAY_REQUIRE_SERVICES (as in CI, whose `.ci/run` installs it).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest

from tests.conftest import RunningGateway

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
DESKTOP = {"width": 1280, "height": 900}


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

    def __init__(
        self, browser: Any, gateway: RunningGateway, viewport: dict[str, int] | None = None
    ) -> None:
        self.origin = urlsplit(gateway.url).netloc
        self.page = browser.new_page(viewport=viewport or DESKTOP)
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


Opener = Callable[..., Visit]


@pytest.fixture
def visit(browser: Any) -> Iterator[Opener]:
    """Opens pages (`visit(gateway)`, `visit(gateway, viewport={...})`), closed after the test."""
    visits: list[Visit] = []

    def open_page(gateway: RunningGateway, viewport: dict[str, int] | None = None) -> Visit:
        visits.append(Visit(browser, gateway, viewport))
        return visits[-1]

    yield open_page
    for one in visits:
        one.page.close()
