"""`generateContent` for Gemini image models, callable from any app: the host, the path and
the auth are the app's (`app.py`: the Gemini API's `/v1beta/models/{model}:generateContent`
with an API key; Vertex's emulator: its own paths and OAuth), the rest is here.

`GenerateContent.answer(model, raw_body, path, fault)` returns the `GenerateContentResponse`
(a dict) or raises `errors.GoogleError`. In order: the model (404), the JSON (400), the
per-day quota (429, sticky until `reset`), the per-minute rate (429 with
`RetryInfo.retryDelay`), the body's checks (`request.read_job`, 400/403); then the call is
accepted (`RequestLog.submitted`: Google bills its tokens, whatever the answer says) and
answered as the prompt's marker (or the fault's) asks:

    [block-prompt]   promptFeedback.blockReason PROHIBITED_CONTENT, no candidates
    [model-armor]    (Vertex only) blockReason MODEL_ARMOR; [jailbreak]: JAILBREAK (GENAI-PY
                     `BlockedReason`: "not supported in Gemini API")
    [image-safety]   finishReason IMAGE_SAFETY, no parts
    [image-other]    finishReason IMAGE_OTHER, no parts
    [no-image]       finishReason NO_IMAGE, a text part only
    (none)           the image: thought parts first on thinking models (a thought text and a
                     grey draft image, `thought: true`), then the text (when `TEXT` is among
                     `responseModalities`) and the image (`inlineData`, PNG of the exact
                     §1.9 size, with a `thoughtSignature` on thinking models); with
                     `responseModalities: ["TEXT"]`, the text alone (finishReason STOP)

Every answer carries `usageMetadata` (text ~4 characters a token, 258 tokens an input image,
the model's image tokens per tier, `thoughtsTokenCount` on thinking models), `modelVersion`
and `responseId`. A fault's `image` puts that fake where the image's bytes belong.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping
from typing import Any

import orjson

from ..kit.faults import Fault
from ..kit.limits import RateLimit
from ..kit.markers import marker_of
from ..kit.records import RequestLog, json_fields
from . import errors as E
from .catalog import MODELS, ImageModel
from .images import ImageCache
from .request import Job, read_job

BLOCK_PROMPT, IMAGE_SAFETY = "[block-prompt]", "[image-safety]"
IMAGE_OTHER, NO_IMAGE = "[image-other]", "[no-image]"
MARKERS = (BLOCK_PROMPT, IMAGE_SAFETY, IMAGE_OTHER, NO_IMAGE)
# Prompt blocks: marker -> `promptFeedback.blockReason`; Vertex has two more.
BLOCKS = {BLOCK_PROMPT: "PROHIBITED_CONTENT"}
VERTEX_BLOCKS = {**BLOCKS, "[model-armor]": "MODEL_ARMOR", "[jailbreak]": "JAILBREAK"}
VERTEX_MARKERS = (*MARKERS, "[model-armor]", "[jailbreak]")
DAILY_QUOTA_SWITCH = "daily_quota"  # a fault switch: the day's quota is used up from now on
INPUT_IMAGE_TOKENS = 258
THOUGHT_TOKENS = 180


class GenerateContent:
    """The state of one emulated project: its rate and daily quota, rendered images."""

    def __init__(
        self,
        log: RequestLog,
        models: Mapping[str, ImageModel] = MODELS,
        *,
        vertex: bool = False,
        rate_limit: int | None = None,
        daily_quota: int | None = None,
    ) -> None:
        self.log = log
        self.models = models
        self.vertex = vertex
        self.markers = VERTEX_MARKERS if vertex else MARKERS
        self.blocks = VERTEX_BLOCKS if vertex else BLOCKS
        self.rate = RateLimit(rate_limit)
        self.rate_limit = rate_limit
        self.daily_quota = daily_quota
        self.images = ImageCache()
        self.reset()

    def reset(self) -> None:
        self.rate.clear()
        self.used_today = 0
        self.day_over = False  # sticky: "only resets midnight" [3P]

    def stats(self) -> dict[str, Any]:
        return {"used_today": self.used_today, "daily_quota_exhausted": self.day_over}

    async def answer(self, model_id: str, raw: bytes, path: str, fault: Fault | None) -> Any:
        model = self.models.get(model_id)
        if model is None:
            raise E.model_not_found(model_id)
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise E.invalid("Invalid JSON payload received. Unexpected token.") from None
        self.log.record("POST", path, json_fields(body))
        if fault is not None and fault.switch(DAILY_QUOTA_SWITCH):
            self.day_over = True
        if self.day_over:
            raise E.daily_quota(model_id, self.daily_quota or 0)
        wait = self.rate.take()
        if wait is not None:
            raise E.rate_limited(wait, model_id, self.rate_limit or 0)
        job = read_job(model, body, self.vertex)
        self.log.submitted()  # accepted: its tokens are billed, whatever comes of it
        self.used_today += 1
        if self.daily_quota is not None and self.used_today >= self.daily_quota:
            self.day_over = True
        return await self.response(job, marker_of(job.prompt, self.markers, fault), fault)

    async def response(self, job: Job, marker: str | None, fault: Fault | None) -> Any:
        prompt_tokens = max(1, len(job.prompt) // 4)
        usage = _Usage(prompt_tokens, INPUT_IMAGE_TOKENS * len(job.images))
        answer: dict[str, Any] = {}
        if marker in self.blocks:
            answer["promptFeedback"] = {
                "blockReason": self.blocks[marker],
                "safetyRatings": _ratings("HIGH"),
            }
        elif marker in (IMAGE_SAFETY, IMAGE_OTHER):
            reason = "IMAGE_SAFETY" if marker == IMAGE_SAFETY else "IMAGE_OTHER"
            answer["candidates"] = [_candidate([], reason, "The generated image was withheld.")]
        elif marker == NO_IMAGE:
            text = "I can describe that, but I did not make an image this time."
            usage.text_out = max(1, len(text) // 4)
            answer["candidates"] = [_candidate([{"text": text}], "NO_IMAGE")]
        else:
            answer["candidates"] = [_candidate(await self._parts(job, usage, fault), "STOP")]
        answer["usageMetadata"] = usage.metadata()
        answer["modelVersion"] = job.model.id
        answer["responseId"] = base64.urlsafe_b64encode(os.urandom(12)).decode().rstrip("=")
        return answer

    async def _parts(self, job: Job, usage: _Usage, fault: Fault | None) -> list[dict[str, Any]]:
        parts: list[dict[str, Any]] = []
        width, height = job.size
        drawing = "IMAGE" in job.modalities
        if job.model.thinking and drawing:
            draft = await self.images.get(max(16, width // 4), max(16, height // 4), draft=True)
            parts.append(
                {"text": "**Composing the scene**\n\nPlanning the layout.", "thought": True}
            )
            parts.append({"inlineData": {"mimeType": "image/png", "data": draft}, "thought": True})
            usage.thoughts = THOUGHT_TOKENS
        if "TEXT" in job.modalities:
            text = f"Here is the image you asked for: {job.prompt[:80]}"
            parts.append({"text": text})
            usage.text_out = max(1, len(text) // 4)
        if drawing:
            data = await self.images.get(width, height, job.output_mime)
            if fault is not None and fault.fake_image is not None:
                data = base64.b64encode(fault.fake_image).decode("ascii")
            image: dict[str, Any] = {"inlineData": {"mimeType": job.output_mime, "data": data}}
            if job.model.thinking:
                image["thoughtSignature"] = base64.b64encode(os.urandom(24)).decode("ascii")
            parts.append(image)
            usage.image_out = job.model.image_tokens[job.tier]
        return parts


class _Usage:
    def __init__(self, text_in: int, image_in: int) -> None:
        self.text_in, self.image_in = text_in, image_in
        self.text_out = self.image_out = self.thoughts = 0

    def metadata(self) -> dict[str, Any]:
        prompt = self.text_in + self.image_in
        candidates = self.text_out + self.image_out
        meta: dict[str, Any] = {
            "promptTokenCount": prompt,
            "totalTokenCount": prompt + candidates + self.thoughts,
            "promptTokensDetails": _details(TEXT=self.text_in, IMAGE=self.image_in),
        }
        if candidates:
            meta["candidatesTokenCount"] = candidates
            meta["candidatesTokensDetails"] = _details(IMAGE=self.image_out, TEXT=self.text_out)
        if self.thoughts:
            meta["thoughtsTokenCount"] = self.thoughts
        return meta


def _details(**counts: int) -> list[dict[str, Any]]:
    return [{"modality": m, "tokenCount": n} for m, n in counts.items() if n]


def _candidate(parts: list[dict[str, Any]], reason: str, message: str | None = None) -> Any:
    candidate: dict[str, Any] = {"content": {"role": "model"}, "finishReason": reason, "index": 0}
    if parts:
        candidate["content"]["parts"] = parts
    if message:
        candidate["finishMessage"] = message
    return candidate


def _ratings(level: str) -> list[dict[str, str]]:
    return [{"category": "HARM_CATEGORY_SEXUALLY_EXPLICIT", "probability": level}]
