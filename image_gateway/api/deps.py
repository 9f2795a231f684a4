"""FastAPI dependencies as `Annotated` aliases: what a route needs, from the request (the
authenticated client) and from the app's wiring (`create_app` keeps it in `app.state`; this
module is the only reader of it). Tests and operators can replace any of them with
`app.dependency_overrides`.

Each is an `async def` without sub-dependencies: FastAPI runs a plain `def` in its thread pool,
and solving one dependency is about as much work as the rest of the route's routing, on every
request (bench/RESULTS.md), so the generation route takes two (`ClientDep`, `AnswerDep`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends, Request

from image_gateway.access.auth import DEVELOPMENT, Authenticator, Client, credentials
from image_gateway.api.answer import Answerer
from image_gateway.blobs import ImageUrls
from image_gateway.errors import AuthenticationFailed, PermissionDenied
from image_gateway.fetch import ImageFetcher
from image_gateway.generation.dispatch import Dispatcher
from image_gateway.jobs.service import JobService
from image_gateway.observability.metrics import Metrics
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient

if TYPE_CHECKING:  # the stores are made on first use, with SQLAlchemy (access/persistence.py)
    from image_gateway.access.key_store import KeyStore
    from image_gateway.billing.usage_store import UsageStore


def _wiring(request: Request) -> Any:
    """The app's wiring (`app.state`, set by `create_app`)."""
    return request.app.state


async def get_settings(request: Request) -> Settings:
    settings: Settings = _wiring(request).settings
    return settings


async def get_dispatcher(request: Request) -> Dispatcher:
    dispatcher: Dispatcher = _wiring(request).dispatcher
    return dispatcher


async def get_answerer(request: Request) -> Answerer:
    answerer: Answerer = _wiring(request).answerer
    return answerer


async def get_job_service(request: Request) -> JobService:
    service: JobService = _wiring(request).jobs.service
    return service


async def get_fetcher(request: Request) -> ImageFetcher:
    fetcher: ImageFetcher = _wiring(request).fetcher
    return fetcher


async def get_image_urls(request: Request) -> ImageUrls:
    image_urls: ImageUrls = _wiring(request).image_urls
    return image_urls


async def get_upstream(request: Request) -> UpstreamClient:
    http: UpstreamClient = _wiring(request).http
    return http


async def get_metrics(request: Request) -> Metrics:
    metrics: Metrics = _wiring(request).metrics
    return metrics


async def get_usage(request: Request) -> UsageStore:
    usage: UsageStore = _wiring(request).persistence.usage
    return usage


async def get_keys(request: Request) -> KeyStore:
    keys: KeyStore = _wiring(request).persistence.keys
    return keys


async def get_authenticator(request: Request) -> Authenticator:
    authenticator: Authenticator = _wiring(request).authenticator
    return authenticator


async def authenticate(request: Request) -> Client:
    """The client the request's key identifies (401 otherwise: `Authenticator.authenticate`),
    named in the access log line."""
    # Headers are read from the scope (not as FastAPI `Header()` parameters, nor through
    # Starlette's `Headers`): same values, without per-request work on the hot path.
    authenticator: Authenticator = _wiring(request).authenticator
    client = await authenticator.authenticate(credentials(request.scope))
    request.scope.setdefault("state", {})["client_name"] = client.name  # = request.state
    return client


async def require_admin(request: Request) -> Client:
    """The admin key: 401 without a valid key, 403 for a client key."""
    client = await authenticate(request)
    if client.admin:
        return client
    authenticator: Authenticator = _wiring(request).authenticator
    disabled = "" if authenticator.admin_configured else " (disabled: set ADMIN_API_KEY)"
    if client is DEVELOPMENT:
        raise AuthenticationFailed(f"the admin API needs the admin key{disabled}")
    raise PermissionDenied(f"this route needs the admin key{disabled}", code="admin_only")


ClientDep = Annotated[Client, Depends(authenticate)]
AdminDep = Annotated[Client, Depends(require_admin)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
DispatcherDep = Annotated[Dispatcher, Depends(get_dispatcher)]
AnswerDep = Annotated[Answerer, Depends(get_answerer)]
JobServiceDep = Annotated[JobService, Depends(get_job_service)]
FetcherDep = Annotated[ImageFetcher, Depends(get_fetcher)]
ImageUrlsDep = Annotated[ImageUrls, Depends(get_image_urls)]
UpstreamDep = Annotated[UpstreamClient, Depends(get_upstream)]
MetricsDep = Annotated[Metrics, Depends(get_metrics)]
if TYPE_CHECKING:
    UsageDep = Annotated[UsageStore, Depends(get_usage)]
    KeysDep = Annotated[KeyStore, Depends(get_keys)]
else:  # FastAPI reads only the `Depends`; the store classes are not imported to name them
    UsageDep = Annotated[Any, Depends(get_usage)]
    KeysDep = Annotated[Any, Depends(get_keys)]
AuthenticatorDep = Annotated[Authenticator, Depends(get_authenticator)]
