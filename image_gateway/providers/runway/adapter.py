"""`runway`: Runway's image API on the submit-and-poll kit (`kit/polling.py`).

A task is submitted to `POST {RUNWAY_BASE_URL}/v1/text_to_image` with `Authorization: Bearer
$RUNWAYML_API_SECRET` and `X-Runway-Version: 2024-11-06` (`RUNWAY_API_VERSION`; Runway refuses a
call without it: REFERENCE-MORE §8, sdk-python `_client.py`), on every call: submission, polls,
cancel. Runway answers only `{"id"}`: the task is polled at its own URL, `GET /v1/tasks/{id}`
(PENDING, THROTTLED, RUNNING with `progress`, then SUCCEEDED, FAILED or CANCELLED), its
`output` URLs downloaded at once from `RUNWAY_TRUSTED_HOSTS` without the key (they expire within
24-48 h). A task the gateway stops waiting for is cancelled with `DELETE /v1/tasks/{id}` (the
SDK's `tasks.delete`).

Checked before anything is sent (models.py): the ratio (a size of the model's list, or an
aspect ratio within 3% of one of its ratios), the prompt's length (gen4: 1000 UTF-16 code units;
gpt_image_2 32000 and Seedream 4000 characters), the reference images (gen4_image_turbo needs
1-3; each at most 5 MB as a data URI), `reference_tags` (3-16 characters, a letter first, then
letters, digits, `_`) and `reference_subjects` (one per input image at most), the seed's range;
masks are refused (Runway has none).

Errors (docs.dev.runwayml.com errors/errors: 400 `{"error": <explanation>}` not retried, 401 a
bad key, 429 and 502-504 retried): the kit's status table, except a 4xx saying the credits ran
out, which is `provider_quota_exhausted` [UNVERIFIED wording]. A FAILED task whose `failureCode`
has a `SAFETY` part (`SAFETY.*`, `INPUT_PREPROCESSING.SAFETY.TEXT`) is `content_policy_violation`;
any other, and a CANCELLED task, `generation_failed` (`translate.py`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from image_gateway.errors import GatewayError, InvalidRequest, ProviderQuotaExhausted
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.polling import Call, PollOutcome, SubmitAndPollProvider, Submitted
from image_gateway.providers.runway import DEFINITION, translate
from image_gateway.providers.runway.config import RunwayConfig
from image_gateway.providers.runway.models import (
    MAX_REFERENCE_BYTES,
    MAX_SEED,
    MODELS,
    PARAM_SCHEMAS,
    TAG_PATTERN,
    RunwayModel,
    as_runway,
)
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse

QUOTA_TEXT = ("not have enough credits", "insufficient credits", "out of credits")


class RunwayProvider(SubmitAndPollProvider[RunwayConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        """The common checks (`models.py` declarations), then Runway's (module docstring)."""
        super().validate(task, spec)
        model = as_runway(spec)
        self._check_prompt(task, model)
        self._check_ratio(task, model)
        if task.seed is not None and not 0 <= task.seed <= MAX_SEED:
            raise InvalidRequest(f"seed must be from 0 to {MAX_SEED}", param="seed")
        for image in task.images:
            if len(translate.data_uri(image)) > MAX_REFERENCE_BYTES:
                raise InvalidRequest(
                    "an input image is over Runway's 5 MB (as a base64 data URI)",
                    param="image",
                )
        check_params(task, model)

    def _check_prompt(self, task: ImageTask, model: RunwayModel) -> None:
        if model.max_prompt is None:
            return
        length = len(task.prompt.encode("utf-16-le")) // 2 if model.utf16 else len(task.prompt)
        if length > model.max_prompt:
            unit = "UTF-16 code units" if model.utf16 else "characters"
            raise InvalidRequest(
                f"the prompt is {length} {unit}; {model.id} takes at most {model.max_prompt}",
                param="prompt",
            )

    def _check_ratio(self, task: ImageTask, model: RunwayModel) -> None:
        if task.aspect_ratio is None:
            return
        ratio = model.ratio_for(task.aspect_ratio)
        if ratio is None:
            raise InvalidRequest(
                f"aspect_ratio {task.aspect_ratio} is not within 3% of any of {model.id}'s "
                "ratios; send one of its sizes instead (GET /v1/providers lists them)",
                param="aspect_ratio",
            )
        if task.size is not None and f"{task.size[0]}:{task.size[1]}" != ratio:
            if model.ratio_for(f"{task.size[0]}:{task.size[1]}") != ratio:
                raise InvalidRequest(
                    f"size {task.size[0]}x{task.size[1]} is not aspect_ratio "
                    f"{task.aspect_ratio}; send one of them",
                    param="aspect_ratio",
                )

    # -- the kit's hooks -----------------------------------------------------------------

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {key}", "X-Runway-Version": self.config.api_version}

    def submit_url(self, spec: ModelSpec) -> str:
        return f"{self.config.base_url}/v1/text_to_image"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_runway(spec))

    def parse_submit(self, resp: UpstreamResponse, payload: Any) -> Submitted:
        return translate.parse_submit(payload, self.name)

    def poll_url(self, task_id: str) -> str | None:
        return f"{self.config.base_url}/v1/tasks/{task_id}"

    def parse_poll(self, resp: UpstreamResponse, payload: Any, submitted: Submitted) -> PollOutcome:
        return translate.parse_task(payload, self.name, self.secrets())

    def cancel_call(self, submitted: Submitted) -> Call | None:
        """`DELETE /v1/tasks/{id}` (sdk-python `resources/tasks.py`: cancels a running task,
        deletes a finished one)."""
        return Call("DELETE", f"{self.config.base_url}/v1/tasks/{submitted.task_id}")

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        text = detail.message.lower()
        if 400 <= resp.status < 500 and any(words in text for words in QUOTA_TEXT):
            return ProviderQuotaExhausted(
                f"the {self.name} organization is out of credits", provider=self.name
            )
        return None


def check_params(task: ImageTask, model: RunwayModel) -> None:
    """The provider_params' types (`models.PARAM_SCHEMAS`) and Runway's rules for them."""
    params = task.params
    threshold = params.get("publicFigureThreshold")
    if "publicFigureThreshold" in params and threshold not in ("auto", "low"):
        raise InvalidRequest(
            "provider_params.publicFigureThreshold must be auto or low",
            param="provider_params.publicFigureThreshold",
        )
    if "grounding" in params and not isinstance(params["grounding"], bool):
        raise InvalidRequest(
            "provider_params.grounding must be a boolean", param="provider_params.grounding"
        )
    checks: dict[str, Callable[[Any], bool]] = {
        "reference_tags": lambda v: isinstance(v, str) and bool(re.fullmatch(TAG_PATTERN, v)),
        "reference_subjects": lambda v: v in ("object", "human"),
    }
    for name, ok in checks.items():
        if name not in params:
            continue
        values = params[name]
        param = f"provider_params.{name}"
        if not isinstance(values, list) or not all(ok(v) for v in values):
            rule = (
                "3-16 characters: a letter, then letters, digits or _"
                if name == "reference_tags"
                else "object or human"
            )
            raise InvalidRequest(f"{param} must be a list, each {rule}", param=param)
        if len(values) > len(task.images):
            raise InvalidRequest(
                f"{param} has {len(values)} entries for {len(task.images)} input images "
                "(one per input image, in order)",
                param=param,
            )
