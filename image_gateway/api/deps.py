"""FastAPI dependencies as `Annotated` aliases: settings, dispatcher, authenticated client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..auth import DEVELOPMENT, Authenticator, Client, credentials
from ..dispatch import Dispatcher
from ..errors import AuthenticationFailed, PermissionDenied
from ..fetch import ImageFetcher
from ..middleware import header
from ..settings import Settings


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_dispatcher(request: Request) -> Dispatcher:
    dispatcher: Dispatcher = request.app.state.dispatcher
    return dispatcher


async def get_fetcher(request: Request) -> ImageFetcher:
    fetcher: ImageFetcher = request.app.state.fetcher
    return fetcher


async def authenticate(request: Request) -> Client:
    # Headers are read from the scope (not as FastAPI `Header()` parameters, nor through
    # Starlette's `Headers`): same values, without per-request work on the hot path.
    authenticator: Authenticator = request.app.state.authenticator
    client = await authenticator.authenticate(credentials(request.scope))
    request.scope.setdefault("state", {})["client_name"] = client.name  # = request.state
    return client


async def require_admin(request: Request) -> Client:
    """The admin key: 401 without a valid key, 403 for a client key."""
    client = await authenticate(request)
    if client.admin:
        return client
    authenticator: Authenticator = request.app.state.authenticator
    disabled = "" if authenticator.admin_configured else " (disabled: set ADMIN_API_KEY)"
    if client is DEVELOPMENT:
        raise AuthenticationFailed(f"the admin API needs the admin key{disabled}")
    raise PermissionDenied(f"this route needs the admin key{disabled}", code="admin_only")


async def public_base_url(request: Request) -> str:
    """Where clients reach this gateway: `PUBLIC_BASE_URL`, else the request's own base URL."""
    configured: str | None = request.app.state.settings.public_base_url
    if configured:
        return configured
    scope = request.scope
    # Building a URL costs more than the rest of the route's own work; a gateway is reached
    # under few names, so the answers are remembered (a bounded number of them).
    key = (
        scope["scheme"],
        scope.get("server"),
        scope.get("root_path"),
        scope.get("app_root_path"),
        header(scope, b"host"),
    )
    found = _BASE_URLS.get(key)
    if found is None:
        found = str(request.base_url).rstrip("/")
        if len(_BASE_URLS) < _BASE_URLS_MAX:
            _BASE_URLS[key] = found
    return found


_BASE_URLS: dict[tuple[object, ...], str] = {}
_BASE_URLS_MAX = 256


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
FetcherDep = Annotated[ImageFetcher, Depends(get_fetcher)]
ClientDep = Annotated[Client, Depends(authenticate)]
AdminDep = Annotated[Client, Depends(require_admin)]
BaseUrlDep = Annotated[str, Depends(public_base_url)]
