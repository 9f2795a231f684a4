"""The docs in a real browser (headless Chromium, driven by Playwright): `/` leads to Swagger
UI, which renders, offers "Authorize", and whose first "Try it out" of a generation and of an
edit answers 200; ReDoc renders. No request leaves the gateway's origin (ReDoc's logo from its
CDN is blocked by the page's Content-Security-Policy before it is sent).

Chromium is Debian's (`apt-get install chromium`, which `.ci/run` does): see tests/browser.py.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from tests.browser import Visit, browser, visit
from tests.conftest import GATEWAY_TEST_KEY, RunningGateway

__all__ = ["browser", "visit"]  # fixtures

GENERATE = "#operations-images-create_image_v1_images_generations_post"
EDIT = "#operations-images-edit_image_v1_images_edits_post"


def execute(docs: Visit, operation: str) -> str:
    """Open an operation, run its first example ("Try it out" is on), return the status."""
    docs.page.click(f"{operation} .opblock-summary")
    docs.page.click(f"{operation} .execute")
    status = f"{operation} .live-responses-table .response .response-col_status"
    docs.page.wait_for_selector(status, timeout=30_000)
    return str(docs.page.inner_text(status)).split()[0]


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
    assert execute(docs, GENERATE) == "200"
    body = page.inner_text(f"{GENERATE} .live-responses-table .response .response-col_description")
    assert '"provider": "local"' in body
    assert execute(docs, EDIT) == "200"
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
    assert execute(docs, GENERATE) == "401"


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
