"""The playground (`/playground`) in a real browser (headless Chromium, tests/browser.py): a
prompt run on `local` and on an emulated provider (BFL) side by side as jobs, their images
rendered with provider, model, latency, cost and seed; a job's progress shown while it runs;
the form built from the chosen models' cards; the API's message on an error card; an edit of an
uploaded image; the gallery of the key's recent jobs; the key kept in sessionStorage and never
in a URL; development mode needing no key; a phone-sized screen; the event stream reader. Runs
save screenshots under the test's tmp dir, and `tests/artifacts/` (git-ignored) when
PLAYGROUND_SCREENSHOTS is set.
"""

from __future__ import annotations

import io
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from emulators.bfl import BFLEmulator
from tests.browser import Opener, Visit, browser, visit
from tests.conftest import BFL_TEST_KEY, GATEWAY_TEST_KEY, RunningGateway, emulator_settings
from tests.jobs.support import bfl_settings

__all__ = ["browser", "visit"]  # fixtures

PHONE = {"width": 390, "height": 844}
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
RUN_TIMEOUT_MS = 30_000


def _shot(visit: Visit, tmp_path: Path, name: str) -> Path:
    path = tmp_path / name
    visit.page.screenshot(path=str(path), full_page=True)
    if os.environ.get("PLAYGROUND_SCREENSHOTS"):
        ARTIFACTS.mkdir(exist_ok=True)
        shutil.copy(path, ARTIFACTS / name)
    return path


def _open(
    visit: Opener, gateway: RunningGateway, key: str | None = GATEWAY_TEST_KEY, **kw: Any
) -> Visit:
    page = visit(gateway, **kw)
    page.page.goto(gateway.url + "/playground")
    if key:
        page.page.fill("#key", key)
        page.page.press("#key", "Tab")  # `change`: stored, and the catalogue loaded with it
    page.page.wait_for_selector("[data-testid=models] input[name=model]")
    return page


def _choose(page: Any, *models: str) -> None:
    checked = page.locator("[data-testid=models] input[name=model]:checked")
    while checked.count():
        checked.first.uncheck()
    for model in models:
        page.check(f'[data-testid=models] input[value="{model}"]')


def _images_rendered(page: Any, card: Any) -> list[int]:
    """The natural widths of a card's images, once each has loaded."""
    images = card.locator("[data-testid=result-image]")
    widths = []
    for index in range(images.count()):
        handle = images.nth(index)
        page.wait_for_function(
            "img => img.complete && img.naturalWidth > 0", arg=handle.element_handle()
        )
        widths.append(int(handle.evaluate("img => img.naturalWidth")))
    return widths


def _card(page: Any, model: str) -> Any:
    card = page.locator(f'[data-testid=result][data-model="{model}"]').first
    card.locator("[data-testid=result-image], [data-testid=error]").first.wait_for(
        timeout=RUN_TIMEOUT_MS
    )
    return card


def _png(size: tuple[int, int], mode: str = "RGB") -> bytes:
    out = io.BytesIO()
    colour: Any = (200, 120, 40) if mode == "RGB" else (0, 0, 0, 0)
    Image.new(mode, size, colour).save(out, "PNG")
    return out.getvalue()


def test_local_and_bfl_side_by_side_with_their_facts_and_the_gallery(
    start_gateway: Any, openai_emu: Any, bfl: Any, visit: Opener, tmp_path: Path
) -> None:
    gateway = start_gateway(**emulator_settings(openai_emu, bfl))
    playground = _open(visit, gateway)
    page = playground.page
    assert (
        page.evaluate("sessionStorage.getItem('image-gateway.playground.key')") == GATEWAY_TEST_KEY
    )
    _choose(page, "local/local-art", "bfl-flux/flux-pro-1.1")
    # The form shows what the two models accept: seed (both), FLUX's provider_params, typed.
    assert page.locator("#field-seed").count() == 1
    assert page.locator("#field-provider_params_safety_tolerance").get_attribute("type") == "number"
    assert (
        page.locator("#field-provider_params_prompt_upsampling").evaluate("e => e.tagName")
        == "SELECT"
    )
    assert page.locator("#field-quality").count() == 0  # neither model has a quality
    labels = page.locator("#field-list label").all_inner_texts()
    assert "Safety tolerance (provider option)" in labels, labels
    assert all(label[0].isupper() for label in labels), labels
    page.fill("#field-seed", "7")
    page.fill("#field-provider_params_safety_tolerance", "2")
    page.fill("[data-testid=prompt]", "a lighthouse at dusk")
    page.press("[data-testid=prompt]", "Enter")  # Enter runs

    local = _card(page, "local-art")
    flux = _card(page, "flux-pro-1.1")
    assert page.locator("[data-testid=result]").count() == 2
    assert all(width > 0 for width in _images_rendered(page, local))
    assert all(width > 0 for width in _images_rendered(page, flux))
    for card, provider in ((local, "local"), (flux, "bfl-flux")):
        facts = card.locator(".facts").inner_text()
        assert provider in facts and "latency" in facts and "cost" in facts
        assert "seed\n7" in facts or "seed\t7" in facts, facts
        assert card.locator("a[download]").count() >= 1
        # Downloads numbered from 1 like the CLI's files; the card shows the prompt it ran.
        assert (
            card.locator("a[download]")
            .first.get_attribute("download")
            .rsplit(".", 1)[0]
            .endswith("-1")
        )
        assert card.locator("[data-testid=card-prompt]").inner_text() == "a lighthouse at dusk"
    # BFL's credits, in USD, the basis in words rather than the API's term.
    assert "$0.0400 (charged by the provider)" in flux.locator(".facts").inner_text()

    # The gallery lists both jobs' images once the runs ended.
    page.locator("[data-testid=gallery-item] img").nth(1).wait_for()
    assert page.locator("[data-testid=gallery-item] a[download]").count() >= 2
    shot = _shot(playground, tmp_path, "playground-side-by-side.png")
    with Image.open(shot) as screenshot:
        assert screenshot.width == 1280
    # No key and no prompt in any URL the page asked for; nothing left the origin.
    assert not [u for u in playground.requests if GATEWAY_TEST_KEY in u or "lighthouse" in u]
    assert playground.left_the_origin() == []
    assert playground.errors == []


def test_an_api_error_is_shown_with_its_message(
    start_gateway: Any, openai_emu: Any, bfl: Any, visit: Opener
) -> None:
    gateway = start_gateway(**emulator_settings(openai_emu, bfl))
    playground = _open(visit, gateway)
    page = playground.page
    _choose(page, "local/local-art")
    page.fill("#field-size", "10x10")  # local takes 64-2048 a side: a 400 before any job
    page.fill("[data-testid=prompt]", "<img src=x onerror=alert(1)> too small")
    page.click("[data-testid=run]")
    card = _card(page, "local-art")
    message = card.locator("[data-testid=error]").inner_text()
    with gateway.client() as client:
        expected = client.post(
            "/v1/images/generations",
            json={"model": "local/local-art", "prompt": "x", "size": "10x10"},
        ).json()["error"]["message"]
    assert message == expected
    # A job that fails after its 202 (BFL moderates the request at the first poll): the job's
    # error message, the same a synchronous request would get.
    _choose(page, "bfl-flux/flux-pro-1.1")
    page.fill("#field-size", "")
    page.fill("[data-testid=prompt]", "[moderate-request] a cat")
    page.click("[data-testid=run]")
    moderated = _card(page, "flux-pro-1.1").locator("[data-testid=error]").inner_text()
    with gateway.client() as client:
        jobs = client.get("/v1/jobs", params={"status": "failed"}).json()["data"]
    assert [job["error"]["error"]["message"] for job in jobs] == [moderated]
    assert jobs[0]["error"]["error"]["code"] == "content_policy_violation"
    # Without the key, the catalogue's 401 is said in words for a person (where the key goes),
    # the key field marked and its placeholder no longer promising development mode.
    keyless = visit(gateway)
    keyless.page.goto(gateway.url + "/playground")
    status = keyless.page.locator("#catalogue-status")
    status.filter(has_text="Could not load the models").wait_for()
    assert status.inner_text() == (
        "Could not load the models: This gateway needs a key: enter a gateway key above."
    )
    key_field = keyless.page.locator("#key")
    assert key_field.get_attribute("aria-invalid") == "true"
    assert key_field.get_attribute("placeholder") == "this gateway needs a key"
    keyless.page.fill("[data-testid=prompt]", "a cat")
    keyless.page.click("[data-testid=run]")
    notice = keyless.page.locator("#results .card.error").first.inner_text()
    assert notice.startswith("No models to choose from: Could not load the models: This gateway")
    # A wrong key: refused in plain words; the right one clears the mark.
    keyless.page.fill("#key", "not-the-key-0123456789")
    keyless.page.press("#key", "Tab")
    status.filter(has_text="refused this key").wait_for()
    assert "X-API-Key" not in status.inner_text()
    # The right key is used once typed, without leaving the field (a pause in typing).
    keyless.page.fill("#key", GATEWAY_TEST_KEY)
    keyless.page.wait_for_selector("[data-testid=models] input[name=model]")
    assert key_field.get_attribute("aria-invalid") is None
    assert key_field.evaluate("el => el === document.activeElement")
    # A provider without a key is listed but cannot be picked.
    assert page.locator('[data-testid=models] input[value^="gemini/"]').first.is_disabled()
    assert page.locator("img[src=x]").count() == 0
    assert playground.errors == []


def test_an_edit_of_a_dropped_image_with_a_mask(
    gateway: RunningGateway, visit: Opener, tmp_path: Path
) -> None:
    playground = _open(visit, gateway)
    page = playground.page
    image, mask = tmp_path / "in.png", tmp_path / "mask.png"
    image.write_bytes(_png((96, 64)))
    mask.write_bytes(_png((96, 64), "RGBA"))
    page.set_input_files("#image-file", str(image))
    page.set_input_files("#mask-file", str(mask))
    _choose(page, "local/local-art")
    page.fill("[data-testid=prompt]", "paint it blue")
    page.click("[data-testid=run]")
    card = _card(page, "local-art")
    assert _images_rendered(page, card) == [96]  # the edit keeps the input's size
    posted = [u for u in playground.requests if u.endswith("/v1/images/edits")]
    assert len(posted) == 1
    assert playground.errors == []


def test_phone_sized_screen_in_development_mode_needs_no_key(
    start_gateway: Any, visit: Opener, tmp_path: Path
) -> None:
    gateway = start_gateway(gateway_api_keys=[])
    playground = _open(visit, gateway, key=None, viewport=PHONE)
    page = playground.page
    # The catalogue answered without a key: the key field says none is needed here.
    assert page.get_attribute("#key", "placeholder") == "none needed here (development mode)"
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    # Keyboard: the key, then the prompt, are reached with Tab; Enter runs.
    page.focus("#key")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.dataset.testid") == "prompt"
    page.keyboard.type("a red bicycle")
    page.keyboard.press("Enter")
    card = _card(page, "local-art")
    assert all(width > 0 for width in _images_rendered(page, card))
    box = card.locator("[data-testid=result-image]").first.bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    _shot(playground, tmp_path, "playground-phone.png")
    assert playground.errors == []


def test_the_event_stream_reader_follows_the_format(gateway: RunningGateway, visit: Opener) -> None:
    """sse.js, fed awkwardly cut chunks: a CRLF split between chunks, a comment (the gateway's
    keep-alive), data on two lines, an event without a name, an event cut off at the end."""
    playground = visit(gateway)
    playground.page.goto(gateway.url + "/playground")
    chunks = [
        "event: status\r",
        '\ndata: {"status"',
        ': "running"}\r\n\r\n',
        ": keep-alive\n\n",
        "event: partial_image\ndata: line one\ndata: line two\n\n",
        'data: {"x": 2}\r\rid: 7\n',
        'event: result\ndata: {"done": true}\n\n',
        "event: cut\ndata: never dispatched\n",
    ]
    events = playground.page.evaluate(
        """async (chunks) => {
            const { sse } = await import("./playground/assets/sse.js");
            const bytes = new TextEncoder();
            const body = new ReadableStream({
                start(c) { for (const chunk of chunks) c.enqueue(bytes.encode(chunk)); c.close(); },
            });
            const out = [];
            for await (const event of sse(body)) out.push(event);
            return out;
        }""",
        chunks,
    )
    assert events == [
        {"name": "status", "data": {"status": "running"}},
        {"name": "partial_image", "data": "line one\nline two"},
        {"name": "message", "data": {"x": 2}},
        {"name": "result", "data": {"done": True}},
    ]


@pytest.fixture(scope="module")
def drawing_bfl() -> Iterator[BFLEmulator]:
    """BFL tasks that take 2 s, reporting `progress` on every poll meanwhile."""
    with BFLEmulator(api_key=BFL_TEST_KEY, generation_seconds=2.0) as emulator:
        yield emulator


def test_progress_streams_into_the_card_while_the_job_runs(
    start_gateway: Any, drawing_bfl: BFLEmulator, visit: Opener
) -> None:
    drawing_bfl.reset()
    gateway = start_gateway(**bfl_settings(drawing_bfl, job_progress_seconds=0.2))
    playground = _open(visit, gateway)
    page = playground.page
    _choose(page, "bfl-flux/flux-pro-1.1")
    page.fill("[data-testid=prompt]", "a fox in the snow")
    page.click("[data-testid=run]")
    # Mid-run, from the job's progress events: the bar between 0 and 1, the card still running.
    page.wait_for_function(
        """() => {
            const card = document.querySelector('[data-testid=result][data-model="flux-pro-1.1"]');
            const bar = card && card.querySelector("progress");
            return bar && card.classList.contains("running") && bar.value > 0 && bar.value < 1;
        }""",
        timeout=RUN_TIMEOUT_MS,
    )
    card = _card(page, "flux-pro-1.1")
    assert all(width > 0 for width in _images_rendered(page, card))
    assert playground.errors == []


def test_partial_images_are_asked_of_streaming_models_only(
    start_gateway: Any, openai_emu: Any, bfl: Any, visit: Opener
) -> None:
    """`partial_images` is offered when a chosen model streams (`"streams": true`: GPT image
    models) and sent to that model only; the job runs, and its card shows its images (and any
    partial image its events carry, as they come)."""
    gateway = start_gateway(**emulator_settings(openai_emu, bfl))
    playground = _open(visit, gateway)
    page = playground.page
    _choose(page, "local/local-art")
    assert page.locator("#field-partial_images").count() == 0
    _choose(page, "local/local-art", "openai/gpt-image-1")
    page.fill("#field-partial_images", "2")
    page.fill("[data-testid=prompt]", "a paper boat")
    page.click("[data-testid=run]")
    for model in ("local-art", "gpt-image-1"):
        card = _card(page, model)
        assert card.locator("[data-testid=error]").count() == 0, card.inner_text()
        assert all(width > 0 for width in _images_rendered(page, card))
    with gateway.client() as client:
        jobs = client.get("/v1/jobs").json()["data"]
    assert len(jobs) == 2 and {job["status"] for job in jobs} == {"succeeded"}
    assert playground.errors == []


def test_a_streaming_models_previews_show_before_its_final_image(
    start_gateway: Any, openai_emu: Any, bfl: Any, visit: Opener, tmp_path: Path
) -> None:
    """With `partial_images` set, gpt-image-1's card shows each partial image as its job's
    `partial_image` event arrives (the emulator paced at 1.2 s an event), before the final
    image, which then replaces the preview."""
    openai_emu.add_faults([{"match": "generate", "stream_interval": 1.2}])
    gateway = start_gateway(**emulator_settings(openai_emu, bfl))
    playground = _open(visit, gateway)
    page = playground.page
    _choose(page, "openai/gpt-image-1")
    page.fill("#field-partial_images", "2")
    page.fill("[data-testid=prompt]", "a paper boat")
    page.click("[data-testid=run]")
    card = page.locator('[data-testid=result][data-model="gpt-image-1"]').first
    preview = card.locator("[data-testid=partial-image]")
    preview.wait_for(timeout=RUN_TIMEOUT_MS)
    page.wait_for_function(
        "img => img.complete && img.naturalWidth > 0", arg=preview.element_handle()
    )
    assert card.locator("[data-testid=result-image]").count() == 0
    assert "preview" in card.locator(".state").inner_text()
    _shot(playground, tmp_path, "playground-partial-preview.png")
    card = _card(page, "gpt-image-1")
    assert all(width > 0 for width in _images_rendered(page, card))
    assert card.locator("[data-testid=partial-image]").count() == 0
    assert playground.errors == []


def test_cancel_says_it_was_requested_then_that_the_job_was_canceled(
    start_gateway: Any, drawing_bfl: BFLEmulator, visit: Opener
) -> None:
    """The card's Cancel: "cancel requested…" at once, then "canceled" when the job's worker
    notices (a running job stops at its next heartbeat), not a silent grey button."""
    drawing_bfl.reset()
    gateway = start_gateway(**bfl_settings(drawing_bfl, job_progress_seconds=0.2))
    playground = _open(visit, gateway)
    page = playground.page
    _choose(page, "bfl-flux/flux-pro-1.1")
    page.fill("[data-testid=prompt]", "a fox in the snow")
    page.click("[data-testid=run]")
    card = page.locator('[data-testid=result][data-model="flux-pro-1.1"]').first
    cancel = card.get_by_role("button", name="Cancel")
    cancel.wait_for(timeout=RUN_TIMEOUT_MS)
    assert page.locator("[data-testid=run]").is_disabled()  # one run at a time
    cancel.click()
    assert card.locator(".state").inner_text().startswith("cancel requested")
    card.locator(".state", has_text="canceled").wait_for(timeout=RUN_TIMEOUT_MS)
    assert card.locator(".state").inner_text() == "canceled"
    assert "Canceled" in card.locator("[data-testid=error]").inner_text()
    with gateway.client() as client:
        jobs = client.get("/v1/jobs").json()["data"]
    assert [job["status"] for job in jobs] == ["canceled"]
    assert page.locator("[data-testid=run]").is_enabled()
    assert playground.errors == []


def test_the_size_hint_edit_note_and_a_mask_alone(
    start_gateway: Any, openai_emu: Any, bfl: Any, visit: Opener, tmp_path: Path
) -> None:
    """The Size hint names every chosen model's sizes; choosing an image names the models it
    unticked and why; a mask without an image is refused with a message, nothing submitted."""
    gateway = start_gateway(**emulator_settings(openai_emu, bfl))
    playground = _open(visit, gateway)
    page = playground.page
    _choose(
        page, "openai/gpt-image-1", "openai/dall-e-3", "local/local-art", "bfl-flux/flux-pro-1.1"
    )
    hint = page.locator("#field-size + small").inner_text()
    with gateway.client() as client:
        listing = client.get("/v1/providers").json()["data"]
    cards = {m["id"]: m for p in listing for m in p["models"]}
    for model in ("gpt-image-1", "dall-e-3", "local-art", "flux-pro-1.1"):
        sizes = cards[model]["sizes"]
        shown = ", ".join(sizes) if isinstance(sizes, list) else sizes
        assert f"{model}: {shown}" in hint, hint
    image, mask = tmp_path / "in.png", tmp_path / "mask.png"
    image.write_bytes(_png((96, 64)))
    mask.write_bytes(_png((96, 64), "RGBA"))
    page.set_input_files("#image-file", str(image))
    note = page.locator("[data-testid=model-note]").inner_text()
    assert note.startswith("Unticked ") and "flux-pro-1.1" in note and "dall-e-3" in note, note
    assert "no input image" in note
    assert "gpt-image-1" not in note and "local-art" not in note
    # A mask too: the models whose card has no `mask` are unticked, named with that reason.
    _choose(page, "bfl-flux/flux-kontext-pro", "bfl-flux/flux-pro-1.0-fill", "openai/gpt-image-1")
    page.set_input_files("#mask-file", str(mask))
    note = page.locator("[data-testid=model-note]").inner_text()
    assert note == (
        "Unticked flux-kontext-pro: it takes no mask (describe the change in the prompt instead)."
    ), note
    assert page.is_disabled("input[value='bfl-flux/flux-kontext-pro']")
    for kept in ("bfl-flux/flux-pro-1.0-fill", "openai/gpt-image-1"):
        assert page.is_checked(f"input[value='{kept}']"), kept
    page.click("#clear-edit")
    # A dropped image: the file input names it too (not "No file chosen").
    page.evaluate(
        """() => {
            const data = new DataTransfer();
            const bytes = new Uint8Array([137, 80, 78, 71]);
            data.items.add(new File([bytes], "dropped.png", {type: "image/png"}));
            const zone = document.getElementById("image-drop");
            const drop = {dataTransfer: data, bubbles: true, cancelable: true};
            zone.dispatchEvent(new DragEvent("drop", drop));
        }"""
    )
    assert page.evaluate("document.getElementById('image-file').files[0].name") == "dropped.png"
    page.click("#clear-edit")
    # A result first: the notice below shares its row with that taller card.
    _choose(page, "local/local-art")
    page.fill("[data-testid=prompt]", "paint it blue")
    page.click("[data-testid=run]")
    result = _card(page, "local-art")
    assert _images_rendered(page, result)
    posted = len([u for u in playground.requests if "/v1/images/" in u])
    page.set_input_files("#mask-file", str(mask))
    note = page.locator("[data-testid=model-note]").inner_text()
    assert note.startswith("A mask is chosen without an image: add the image it masks"), note
    page.click("[data-testid=run]")
    notice = page.locator("#results .card.error").first
    assert notice.inner_text().startswith("A mask needs an image to edit")
    # The notice is as tall as its text, not stretched to the result card's height.
    box, beside = notice.bounding_box(), result.bounding_box()
    assert box is not None and beside is not None
    assert box["y"] == beside["y"] and box["height"] < beside["height"] / 2, (box, beside)
    page.screenshot(path=str(tmp_path / "mask-alone.png"))
    page.click("[data-testid=run]")  # the notice is said once, not piled up
    assert page.locator("#results .notice").count() == 1
    assert len([u for u in playground.requests if "/v1/images/" in u]) == posted
    assert playground.errors == []
