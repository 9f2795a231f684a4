"""FastAPI dependencies as `Annotated` aliases: settings, dispatcher, authenticated client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..auth import DEVELOPMENT, Authenticator, Client
from ..dispatch import Dispatcher
from ..errors import AuthenticationFailed, PermissionDenied
from ..fetch import ImageFetcher
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
    # Headers are read directly (not as FastAPI `Header()` parameters): same values, without
    # per-request parameter analysis on the hot path.
    authenticator: Authenticator = request.app.state.authenticator
    headers = request.headers
    client = await authenticator.authenticate(
        headers.get("x-api-key"),
        headers.get("authorization"),
        request.client.host if request.client else None,
    )
    request.state.client_name = client.name
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
    configured = request.app.state.settings.public_base_url
    return configured or str(request.base_url).rstrip("/")


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
FetcherDep = Annotated[ImageFetcher, Depends(get_fetcher)]
ClientDep = Annotated[Client, Depends(authenticate)]
AdminDep = Annotated[Client, Depends(require_admin)]
BaseUrlDep = Annotated[str, Depends(public_base_url)]
