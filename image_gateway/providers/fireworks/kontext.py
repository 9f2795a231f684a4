"""The task part of `fireworks`: FLUX.1 Kontext [pro]/[max], BFL's protocol re-hosted
(REFERENCE-MORE §8; FW-DOCS; vercel/ai `fireworks-image-api.ts`).

BFL's adapter as it is (`bfl.adapter.BFLProvider`: its checks, input images and masks, its
`to_vendor`), on Fireworks' URLs and answers:

- submit: `POST {FIREWORKS_BASE_URL}/workflows/accounts/fireworks/models/{model}` (BFL's JSON
  body), `Authorization: Bearer`; the answer names the task as `request_id` (vercel/ai,
  callers) or `id` (REFERENCE-MORE): both are read (`kit/flux_tasks.parse_submit`);
- poll: `POST .../models/{model}/get_result` with `{"id": <task>}`: BFL's statuses
  (`kit/flux_tasks.parse_poll`: `Ready` with `result.sample`, `Request Moderated` / `Content
  Moderated` as `content_policy_violation`, `Error` / `Failed`, `Task not found`);
- `result.sample` (a URL, or a `data:` URL) is downloaded at once, never with the key, from
  the base URL's origin or `FIREWORKS_TRUSTED_HOSTS`;
- error answers: Fireworks' 412 and 413 (`errors.py`), else the kit's status table.

Its status URL is per model, so one part serves one model (`model_id`). Fireworks' answers
carry no charge in BFL's credits (the models are priced from the table, if at all), and it
has no cancel call [UNVERIFIED].
"""

from __future__ import annotations

from typing import Any

from image_gateway.errors import GatewayError
from image_gateway.fetch import ImageFetcher
from image_gateway.providers.bfl.adapter import BFLProvider
from image_gateway.providers.fireworks import DEFINITION, errors
from image_gateway.providers.fireworks.models import ACCOUNT_MODELS, KONTEXT
from image_gateway.providers.kit import flux_tasks
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.polling import Call, PollOutcome, Submitted
from image_gateway.settings import Settings
from image_gateway.upstream.client import UpstreamClient, UpstreamResponse

ID_FIELDS = ("request_id", "id")


class KontextPart(BFLProvider):
    definition = DEFINITION
    models = KONTEXT
    credit_price = None  # type: ignore[assignment]  # no BFL credits in Fireworks' answers

    def __init__(
        self,
        settings: Settings,
        http: UpstreamClient,
        fetcher: ImageFetcher | None,
        model_id: str,
    ) -> None:
        super().__init__(settings, http, fetcher)
        self.model_id = model_id

    def submit_url(self, spec: ModelSpec) -> str:
        return f"{self.config.base_url}/workflows/{ACCOUNT_MODELS}{spec.id}"

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return flux_tasks.parse_submit(payload, self.name, ID_FIELDS)

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        return flux_tasks.parse_poll(payload, submitted.task_id, self.name, self.secrets())

    def poll_url(self, task_id: str) -> str:
        return f"{self.config.base_url}/workflows/{ACCOUNT_MODELS}{self.model_id}/get_result"

    def poll_call(self, url: str, submitted: Submitted) -> Call:
        return Call("POST", url, json={"id": submitted.task_id})

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}"}

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        return errors.refusal(resp, detail, self.name) or super().classify_error(resp, detail)
