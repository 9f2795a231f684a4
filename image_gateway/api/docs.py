"""The front door: `GET /` (a redirect to the docs), `GET /docs` (Swagger UI) and `GET /redoc`
(ReDoc), whose JavaScript, CSS and icon are served by this process under `/docs/assets/`, so the
pages work on a machine without internet access.

The asset files are those shipped by the pinned `fastapi-offline` package (`static/`: Swagger
UI's `swagger-ui-bundle.js` and `swagger-ui.css`, Apache-2.0; ReDoc's `redoc.standalone.js`,
MIT; FastAPI's `favicon.png`, MIT). We serve its files with Starlette's `StaticFiles` and build
the pages with FastAPI's own `get_swagger_ui_html` / `get_redoc_html`; its app class is not
used (the app is `create_app`'s FastAPI).
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

DOCS_PATH = "/docs"
REDOC_PATH = "/redoc"
ASSETS_PATH = "/docs/assets"
ASSETS_DIR = Path(str(files("fastapi_offline") / "static"))

# Swagger UI options (https://swagger.io/docs/open-source-tools/swagger-ui/usage/configuration/):
# keep the key entered under "Authorize" across reloads, show request durations, and never ask
# the public validator service about our schema (a request leaving the machine).
SWAGGER_UI_PARAMETERS = {
    "persistAuthorization": True,
    "displayRequestDuration": True,
    "validatorUrl": None,
    "tryItOutEnabled": True,
}

# The pages may load and call only this origin: ReDoc's sidebar would otherwise fetch the
# Redocly logo from its CDN. Inline script and styles: FastAPI's pages start Swagger UI with an
# inline script, and both UIs style elements inline; ReDoc's search runs in a blob: worker.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; object-src 'none'; "
    "base-uri 'self'; frame-ancestors 'self'"
)

router = APIRouter(include_in_schema=False)


def install(app: FastAPI) -> None:
    """Serve the assets and the three pages (the app is created with docs_url=None and
    redoc_url=None, so FastAPI's CDN-based pages are not registered)."""
    app.mount(ASSETS_PATH, StaticFiles(directory=ASSETS_DIR), name="docs-assets")
    app.include_router(router)


def _root(request: Request) -> str:
    return str(request.scope.get("root_path", "")).rstrip("/")


# Each page answers HEAD as GET (uptime monitors and link checkers ask with it; FastAPI adds no
# HEAD to a GET route, and the assets' StaticFiles answers it already).
@router.get("/")
@router.head("/")
async def front_door(request: Request) -> RedirectResponse:
    """Someone opening the gateway's address in a browser lands on the interactive docs."""
    return RedirectResponse(_root(request) + DOCS_PATH, status_code=307)


@router.get(DOCS_PATH)
@router.head(DOCS_PATH)
async def swagger_ui(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_swagger_ui_html(
        openapi_url=root + str(request.app.openapi_url),
        title=f"{request.app.title} - Swagger UI",
        swagger_js_url=f"{root}{ASSETS_PATH}/swagger-ui-bundle.js",
        swagger_css_url=f"{root}{ASSETS_PATH}/swagger-ui.css",
        swagger_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
    )
    return _restricted(page)


@router.get(REDOC_PATH)
@router.head(REDOC_PATH)
async def redoc(request: Request) -> HTMLResponse:
    root = _root(request)
    page = get_redoc_html(
        openapi_url=root + str(request.app.openapi_url),
        title=f"{request.app.title} - ReDoc",
        redoc_js_url=f"{root}{ASSETS_PATH}/redoc.standalone.js",
        redoc_favicon_url=f"{root}{ASSETS_PATH}/favicon.png",
        with_google_fonts=False,
    )
    return _restricted(page)


def _restricted(page: HTMLResponse) -> HTMLResponse:
    page.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY
    page.headers["X-Content-Type-Options"] = "nosniff"
    return page
