"""`gemini`: Gemini API image models on `kit/sync.py`: one JSON `POST
{GEMINI_BASE_URL}/models/{model}:generateContent` per image (the kit fans `n` out), the key in
`x-goog-api-key` (never `?key=`: a key in a URL ends up in logs), the image inline in the
answer. The translations are `translate.py`'s and the error envelope `errors.py`'s; this class
holds the hooks: which models it serves (newer Gemini image ids pass through), Gemini's checks
of a task, and which error answers the status table would get wrong.

The text the model writes beside its image is each image's `revised_prompt` (the SDK's
`response.data[0].revised_prompt`); the token counts of `usageMetadata` are the answer's
`usage`. Refusals that come as HTTP 200 are errors (`translate.read_answer`): a blocked prompt
or a withheld image is 400 `content_policy_violation`, an answer without an image for any
other reason 502 `no_image_generated`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from image_gateway.errors import GatewayError, UpstreamError
from image_gateway.providers.gemini import DEFINITION, errors, translate
from image_gateway.providers.gemini.config import GeminiConfig
from image_gateway.providers.gemini.models import MODELS, PARAM_SCHEMAS, as_gemini, passthrough_spec
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.errors import ErrorDetail
from image_gateway.providers.kit.sync import Answer, SyncJSONProvider
from image_gateway.schemas import ImageTask
from image_gateway.upstream.client import UpstreamResponse


class GeminiProvider(SyncJSONProvider[GeminiConfig]):
    definition = DEFINITION
    models = MODELS
    param_schemas = PARAM_SCHEMAS

    def model(self, model_id: str) -> ModelSpec | None:
        return MODELS.get(model_id) or passthrough_spec(model_id)

    def normalize(self, task: ImageTask, spec: ModelSpec) -> None:
        translate.fill_size(task, as_gemini(spec))

    def validate(self, task: ImageTask, spec: ModelSpec) -> None:
        super().validate(task, spec)
        translate.check_task(task, as_gemini(spec))

    # -- the kit's hooks -----------------------------------------------------------------

    def auth_headers(self, key: str) -> dict[str, str]:
        return {"x-goog-api-key": key}

    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        return f"/models/{quote(spec.id, safe='')}:generateContent"

    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        return translate.to_vendor(task, as_gemini(spec))

    def from_vendor(self, payload: Any) -> Answer:
        return Answer(translate.read_answer(payload, self.name, self.secrets()))

    def error_detail(self, resp: UpstreamResponse) -> ErrorDetail:
        google = self._status(resp)
        return google.detail() if google is not None else super().error_detail(resp)

    def classify_error(self, resp: UpstreamResponse, detail: ErrorDetail) -> GatewayError | None:
        return errors.classify(self.definition, resp.status, resp.headers, self._status(resp))

    def _status(self, resp: UpstreamResponse) -> errors.GoogleStatus | None:
        try:
            payload = resp.json(self.name)
        except UpstreamError:
            return None
        return errors.read_status(payload, self.secrets())
