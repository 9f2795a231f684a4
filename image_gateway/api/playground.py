"""`GET /playground`: a page for trying the API in a browser (pick models, run a prompt on each
side by side as jobs, edit an uploaded image, see this key's recent generations), and its
script and stylesheet under `/playground/assets/`.

The files are kept in the package (`image_gateway/playground/static/`: `index.html`,
`playground.css` and JavaScript modules, no build step, nothing from a CDN), so the page works
offline: `playground.js` (the entry: running, edit inputs), `form.js` (the model picker and the
fields, from `GET /v1/providers`), `results.js` (a job per model and its result card), `sse.js`
(the job's Server-Sent Events, read from `fetch()`), `gallery.js`, `api.js` (URLs, the key,
error messages) and `dom.js` (elements from text, never from HTML).

The page holds no data of its own: it calls the public API with the key the user types (kept
in the tab's sessionStorage, sent as `X-API-Key`; none needed in development mode from
loopback), and its form is built from `GET /v1/providers`.

The page's Content-Security-Policy lets it run only its own script (no inline script or style),
load images only from this origin (and the `data:`/`blob:` URLs of base64 results and local
previews), call only this origin, and be framed by no one.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles

PLAYGROUND_PATH = "/playground"
ASSETS_PATH = "/playground/assets"
STATIC_DIR = Path(str(files("image_gateway") / "playground" / "static"))

CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Serve the page and its assets."""
    app.mount(ASSETS_PATH, StaticFiles(directory=STATIC_DIR), name="playground-assets")
    app.include_router(router)


@router.get(PLAYGROUND_PATH)
@router.head(PLAYGROUND_PATH)
async def playground() -> Response:
    """The page (`index.html`); it loads `playground.js` and `playground.css` relative to the
    gateway's root, so it works behind a `root_path` too."""
    page = (STATIC_DIR / "index.html").read_bytes()
    return Response(page, media_type="text/html; charset=utf-8", headers=HEADERS)
