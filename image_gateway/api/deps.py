"""FastAPI dependencies as `Annotated` aliases: settings, dispatcher, authenticated client."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from ..auth import Client, KeyChecker
from ..dispatch import Dispatcher
from ..settings import Settings


async def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_dispatcher(request: Request) -> Dispatcher:
    dispatcher: Dispatcher = request.app.state.dispatcher
    return dispatcher


async def authenticate(request: Request) -> Client:
    # Headers are read directly (not as FastAPI `Header()` parameters): same values, without
    # per-request parameter analysis on the hot path.
    checker: KeyChecker = request.app.state.key_checker
    headers = request.headers
    client = checker.authenticate(
        headers.get("x-api-key"),
        headers.get("authorization"),
        request.client.host if request.client else None,
    )
    request.state.client_name = client.name
    return client


async def public_base_url(request: Request) -> str:
    """Where clients reach this gateway: `PUBLIC_BASE_URL`, else the request's own base URL."""
    configured = request.app.state.settings.public_base_url
    return configured or str(request.base_url).rstrip("/")


SettingsDep = Annotated[Settings, Depends(get_app_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
ClientDep = Annotated[Client, Depends(authenticate)]
BaseUrlDep = Annotated[str, Depends(public_base_url)]
