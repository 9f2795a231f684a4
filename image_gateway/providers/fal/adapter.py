"""`fal`: fal.ai's queue API on the submit-and-poll kit (`kit/polling.py`).

A task is submitted to `POST {FAL_BASE_URL}/{endpoint id}` (`https://queue.fal.run/fal-ai/flux/
dev`) with `Authorization: Key $FAL_KEY` (fal-js `request.ts`). fal answers the request's own
`status_url`, `response_url` and `cancel_url`, which drop the endpoint's sub-path
(`.../fal-ai/flux/requests/{id}`): they are used as given, never built (REFERENCE-MORE §3.2;
`poll_url` is None). The status is polled (HTTP 202 while IN_QUEUE/IN_PROGRESS, its
`queue_position` reported to the job), then, once COMPLETED, the result is read at once from
`response_url` — fal keeps it an hour, only 6 minutes when 10 KB or more — and its images
downloaded at once from `FAL_TRUSTED_HOSTS` (fal's CDN, `fal.media`), without the key. A task
the gateway stops waiting for is cancelled by `PUT cancel_url`.

Errors (REFERENCE-MORE §3.5): a 422 `detail: [{loc, msg, type}]` is a 400 naming the field
(`translate.error_detail`), its `content_policy_violation` type a 400 `content_policy_violation`;
a COMPLETED status carrying `error`/`error_type` is that refusal or a 502 `generation_failed`;
`has_nsfw_concepts` (see `translate.py`); 401/403/404/429/5xx by the kit's table, except a 403
about an exhausted balance, which is the 402 `quota_exhausted` it means.
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import (
    ContentPolicyViolation,
    GatewayError,
    InvalidRequest,
    ProviderQuotaExhausted,
    UpstreamError,
)
from image_gateway.providers.fal import DEFINITION, translate
from image_gateway.providers.fal.config import FalConfig
from image_gateway.providers.fal.models import MODELS, PARAM_SCHEMAS, RATIO_PRESETS, as_fal
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.polling import Call, PollOutcome, SubmitAndPollProvider, Submitted
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse

# How fal words a locked account ("User is locked. Reason: Exhausted balance.") [UNVERIFIED]:
# no stored source quotes its body; any of these words on a 401/403 is read as one.
BALANCE_TEXT = ("exhausted balance", "insufficient balance", "top up your balance")


class FalProvider(SubmitAndPollProvider[FalConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (a mask among them: none of these endpoints takes one), then the
        endpoint's aspect ratios and a size it can be sent as."""
        super().validate(task, spec)
        model = as_fal(spec)
        listed = ", ".join(model.ratios or tuple(RATIO_PRESETS))
        if task.aspect_ratio is not None and task.size is not None:
            raise InvalidRequest(
                f"{spec.id} takes a size or an aspect_ratio; send one of them",
                param="aspect_ratio",
            )
        if model.size_mode == "image_size":
            if task.aspect_ratio is not None and task.aspect_ratio not in RATIO_PRESETS:
                raise InvalidRequest(
                    f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
                    f"supported: {listed} (or a size)",
                    param="aspect_ratio",
                )
            return
        if task.aspect_ratio is not None and task.aspect_ratio not in model.ratios:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not supported by {spec.id}; "
                f"supported: {listed}",
                param="aspect_ratio",
            )
        if task.size is not None and translate.size_ratio(task.size, model.ratios) is None:
            raise InvalidRequest(
                f"size {task.size[0]}x{task.size[1]} is not one of {spec.id}'s aspect ratios "
                f"({listed}); send one of them as aspect_ratio",
                param="size",
            )

    # -- the kit's hooks -----------------------------------------------------------------

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Key {key}"}

    def submit_url(self, spec: ModelSpec) -> str:
        return f"{self.config.base_url}/{spec.id}"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_fal(spec))

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return translate.parse_submit(payload)

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        return translate.parse_status(payload, submitted, self.secrets())

    def parse_result(
        self, resp: UpstreamResponse, payload: Any, submitted: Submitted
    ) -> PollOutcome:
        return translate.parse_result(payload, submitted.task_id)

    def cancel_call(self, submitted: Submitted) -> Call | None:
        """`PUT cancel_url` (REFERENCE-MORE §3.2)."""
        return Call("PUT", submitted.cancel_url) if submitted.cancel_url else None

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        try:
            payload = resp.json(self.name)
        except UpstreamError:
            payload = None
        found = translate.error_detail(payload, self.secrets())
        return found if found is not None else super().error_detail(resp)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        """A 422 of type `content_policy_violation` is a refusal; a 401/403 about an exhausted
        balance is the account's credit, not its key."""
        if resp.status in (400, 422) and detail.code == translate.CONTENT_POLICY:
            text = f" ({detail.message})" if detail.message else ""
            return ContentPolicyViolation(
                f"the provider's safety system rejected this request{text}", provider=self.name
            )
        if resp.status in (401, 403) and any(
            words in detail.message.lower() for words in BALANCE_TEXT
        ):
            return ProviderQuotaExhausted(
                f"the {self.name} account is out of credits", provider=self.name
            )
        return None
