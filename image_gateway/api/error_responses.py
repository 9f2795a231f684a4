"""Errors as HTTP responses: the one place a `GatewayError` (or an unexpected exception)
becomes a status, headers and an OpenAI-style JSON body. The app's exception handlers, the
request-context middleware and the server's own early answers (`server.py`) answer through
here; a job's stored error (`api/answer.py`) uses the same `error_body()` and `x-should-retry`
(see `errors.py`)."""

from __future__ import annotations

import logging

import orjson
from fastapi.responses import Response

from image_gateway.errors import GatewayError, error_body
from image_gateway.observability.metrics import Metrics

log = logging.getLogger("image_gateway")

INTERNAL_ERROR = "internal error; the request id identifies it in the gateway's logs"


def error_response(err: GatewayError, request_id: str | None, metrics: Metrics | None) -> Response:
    """`err` as its response; counted in `metrics` (none: answered outside the app, by the
    server's header timeout in `server.py`)."""
    if metrics is not None:
        metrics.error(err)
    return Response(
        orjson.dumps(error_body(err, request_id)),
        status_code=err.status_code,
        media_type="application/json",
        headers=err.response_headers(),
    )


def gateway_error_response(err: GatewayError, request_id: str | None, metrics: Metrics) -> Response:
    """A raised `GatewayError`: 5xx ones (the provider or the gateway failed) are logged."""
    log_failure(err, request_id)
    return error_response(err, request_id, metrics)


def log_failure(err: GatewayError, request_id: str | None) -> None:
    """The warning line of a failed request whose error is a 5xx (the provider or the gateway
    failed), answered as JSON or as a stream's `error` event (api/streaming.py)."""
    if err.status_code >= 500:
        provider, model = err.attribution or (err.provider, None)
        log.warning(
            "upstream failure",
            extra={
                "fields": {
                    "request_id": request_id,
                    "error_code": err.code,
                    "provider": provider,
                    "model": model,
                    "error": err.message,
                }
            },
        )


def unexpected_error_response(
    exc: BaseException, request_id: str | None, metrics: Metrics
) -> Response:
    """A bug: logged with its traceback, answered with a 500 that shows none of it."""
    log.error("unhandled error", exc_info=exc, extra={"fields": {"request_id": request_id}})
    return error_response(GatewayError(INTERNAL_ERROR), request_id, metrics)
