"""`replicate`: Replicate's predictions on the submit-and-poll kit (`kit/polling.py`).

An official model is run at `POST /v1/models/{owner}/{name}/predictions`, a pinned version at
`POST /v1/predictions` with `version` (REFERENCE-MORE §4.2), Bearer `REPLICATE_API_TOKEN`, with
`Prefer: wait=N` (Replicate holds the answer until the prediction ends, up to N s) and
`Cancel-After` (`translate.cancel_after`: Replicate stops what the gateway would no longer
collect). The prediction's own `urls.get` is polled (never built here: `poll_url` is None) and,
when the gateway stops for good, its `urls.cancel` is called. Output files are downloaded at
once (Replicate removes them after an hour) from trusted origins only
(`REPLICATE_TRUSTED_HOSTS`), with the key: replicate-python-beta's docstring says file URLs
need the `Authorization` header ([UNVERIFIED] for every account, REFERENCE-MORE §12; sending
it to Replicate's own host is harmless either way).

A prediction already finished in the held answer is still read once more at `urls.get` (the
kit polls every task); Replicate does not charge for reads.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from image_gateway.errors import GatewayError, InvalidRequest, ProviderRateLimited, UpstreamError
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import (
    ErrorDetail,
    error_for_status,
    retry_after_header,
    retry_after_seconds,
)
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal
from image_gateway.providers.kit.polling import PollOutcome, SubmitAndPollProvider, Submitted
from image_gateway.providers.replicate import DEFINITION, translate
from image_gateway.providers.replicate.config import ReplicateConfig
from image_gateway.providers.replicate.models import (
    MODELS,
    PARAM_SCHEMAS,
    as_replicate,
    versioned,
)
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse


class ReplicateProvider(SubmitAndPollProvider[ReplicateConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS
    result_needs_key = True

    def model(self, model_id: str) -> ModelSpec | None:
        """A listed model, or `owner/name:<version>` (`models.versioned`)."""
        return MODELS.get(model_id) or versioned(model_id)

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (a mask among them: none of these models takes one), then the
        model's aspect ratios, and a size it can be sent as."""
        super().validate(task, spec)
        model = as_replicate(spec)
        if model.size_mode not in ("ratio", "custom"):
            return
        listed = ", ".join(model.ratios)
        if task.aspect_ratio is not None and task.aspect_ratio not in model.ratios:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
                f"supported: {listed}",
                param="aspect_ratio",
            )
        if task.size is None:
            return
        ratio = translate.size_ratio(task.size, model.ratios)
        size = f"{task.size[0]}x{task.size[1]}"
        if ratio is None and model.size_mode == "ratio":
            raise InvalidRequest(
                f"size {size} is not one of {spec.id}'s aspect ratios ({listed}); "
                "send one of them as aspect_ratio",
                param="size",
            )
        if task.aspect_ratio is not None and ratio != task.aspect_ratio:
            raise InvalidRequest(
                f"size {size} is {ratio or 'another ratio'}, not aspect_ratio "
                f"{task.aspect_ratio}; send one of them",
                param="aspect_ratio",
            )

    # -- the kit's hooks -----------------------------------------------------------------

    def submit_url(self, spec: ModelSpec) -> str:
        model = as_replicate(spec)
        if model.version is not None:
            return f"{self.config.base_url}/predictions"
        return f"{self.config.base_url}/models/{model.name}/predictions"

    def submit_headers(self, journal: CallJournal = NO_JOURNAL) -> dict[str, str]:
        """`Prefer: wait=N`, N at most a second less than the submission's read timeout
        (`REPLICATE_TIMEOUT_SECONDS`, else the request's deadline), so a held answer is never
        cut off (an unknown outcome); `Cancel-After` from the wait and the polling timeout.
        No `Prefer` when someone watches the call (a stream, a job): a held answer would
        hide the prediction's status words (`starting`, `processing`), which polling reports."""
        wait = max(0, min(self.config.prefer_wait, int(self.submit_read_timeout) - 1))
        if journal.watched:
            wait = 0
        headers = {"Cancel-After": translate.cancel_after(wait, self.config.poll_timeout_seconds)}
        if wait:
            headers["Prefer"] = f"wait={wait}"
        return headers

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_replicate(spec))

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return translate.parse_submit(payload)

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        return translate.parse_poll(payload, submitted.task_id, self.secrets())

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        found = translate.error_detail(self._json(resp), self.secrets())
        return found if found is not None else super().error_detail(resp)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """A 422 for a version that is not there is the table's 404 (`model_not_found`); a 429
        without `Retry-After` takes its wait from the text ("resets in ~30s")."""
        if resp.status == 422 and detail.code == translate.INVALID_VERSION:
            return error_for_status(self.definition, 404, resp.headers, replace(detail, code=None))
        if resp.status == 429 and retry_after_seconds(resp.headers) is None:
            wait = translate.rate_limit_hint(self._json(resp))
            if wait is not None:
                return ProviderRateLimited(
                    f"{self.name} rate limit reached; retry later",
                    provider=self.name,
                    headers=retry_after_header(wait),
                    retryable=True,
                    retry_after=wait,
                )
        return None

    def _json(self, resp: UpstreamResponse) -> Any:
        try:
            return resp.json(self.name)
        except UpstreamError:
            return None
