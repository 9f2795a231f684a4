"""Synchronous providers: one paid POST whose answer carries the images.

    SyncProvider            the one `generate`: submit once, map an error answer, read a 2xx
    ├── SyncJSONProvider    a JSON body (OpenAI's `/images/generations`)
    └── SyncMultipartProvider  a multipart form, even without a file (Stability, Ideogram)

An adapter supplies pure translations and a few hooks; this module does all the I/O:

- `endpoint(task, spec)`: the path after `base_url` (OpenAI: `/images/edits` for an edit,
  `/images/generations` otherwise);
- `to_vendor(task, spec)`: the request's fields (a dict); `uses_form(task)` says whether they go
  as multipart (`to_form`: the fields as text parts, plus the files) or as JSON, per task;
- `auth_headers(key)` (`Provider`'s): default `Authorization: Bearer <key>`;
- `from_vendor(payload)`: the parsed 2xx JSON to an `Answer` (the result, plus the URLs of images
  answered by URL); pure, raising `UpstreamError` for an answer it cannot use.

A provider whose requests differ more has three more hooks (`providers/vertex/`: a host per
region, OAuth access tokens, two APIs):

- `api_base`: the URL `endpoint` paths follow, `<NAME>_BASE_URL` by default;
- `credential_headers()` (async, before anything is sent): the headers carrying the
  credentials, `auth_headers(api_key())` by default; `renewed_credential_headers(resp)`: after
  a 401, fresh ones to send the same call once more with (a 401 is a refusal: nothing was
  taken), or None (the default) to map the 401;
- `read_answer(payload, task, spec)`: `from_vendor(payload)` by default, for a provider whose
  models answer in different shapes; `read_response(resp, task, spec)`: the whole 2xx answer
  (its headers, and bytes that are no JSON: Stability's `accept: image/*` answers),
  `read_answer` of its parsed JSON by default.

And one that signs the bytes it sends (`providers/bedrock/`: SigV4 by botocore) builds the
whole request in `submission(task, spec)`: URL, signed headers and the encoded body
(`Submission.content`).

`generate` sends through `journal.submit_once` with the submission's read timeout
(`Provider.submit_read_timeout`). An error answer becomes `Provider.error_from(resp)` (the
provider's `classify_error`, then the one status table in `kit/errors.py`): the provider did
not take the call, so a retryable one may be sent again. Anything that fails after a 2xx — JSON
that does not parse, an answer `from_vendor` refuses, a download that fails — may have been
charged: it is marked `after_acceptance()` (`billed_unknown`, never re-sent; the one rule of
`kit/acceptance.py`).

A model that streams (`ModelSpec.streams`: OpenAI's GPT image models) asked for `stream:
true` or for partial images (a job's) by its client is asked to stream too (`stream_fields`:
`stream: true` and the client's `partial_images`), through `UpstreamClient.open_stream`.
Its events are read as they arrive (`kit/image_events.py`): each partial image goes to
`journal.partial_image` at once, the completed events make the JSON body `read_answer`
reads for a non-streamed answer (each image keeping its own `usage`), an `error` event is
the provider's failure. All of it comes
after the provider took the call: any failure there may have been charged. A server that
ignores `stream` and answers JSON is read as before.

Images answered by URL (OpenAI-compatible servers that ignore `response_format`, xAI's result
host) are downloaded at once, never with the key: on `base_url`'s own origin, or one of the
config's `trusted_hosts` where the provider has that setting (`XAI_TRUSTED_HOSTS`), through the
upstream client (the endpoint may be a private one), anywhere else only through the
SSRF-guarded input-image fetcher (`Provider.fetcher`, public addresses only), which refuses
loopback, private and metadata addresses. Every image is then checked by the dispatcher
(`kit/output.check_images`).
"""

from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import orjson
from typing_extensions import TypeVar

from image_gateway.errors import UpstreamError
from image_gateway.fetch.urls import Refused
from image_gateway.providers.kit import b64_answer, image_events
from image_gateway.providers.kit.acceptance import after_acceptance
from image_gateway.providers.kit.base import Provider
from image_gateway.providers.kit.capabilities import ModelSpec
from image_gateway.providers.kit.config import ProviderConfig
from image_gateway.providers.kit.journal import NO_JOURNAL, CallJournal, submit_once
from image_gateway.providers.kit.redaction import provider_message
from image_gateway.schemas import ImageTask, ProviderResult, token_usage
from image_gateway.upstream.client import FormPart, UpstreamResponse, UpstreamStream
from image_gateway.upstream.origins import TrustedOrigins, origin_text

C = TypeVar("C", bound=ProviderConfig, default=ProviderConfig)


@dataclass(slots=True)
class Answer:
    """What `from_vendor` read from a 2xx: the result, whose images at the indexes of `urls`
    are still empty (`data == b""`) and are downloaded from those URLs by `generate`."""

    result: ProviderResult
    urls: dict[int, str] = field(default_factory=dict)


@dataclass(slots=True)
class Submission:
    """What `generate` posts: where, the headers that authenticate it, and its body as JSON
    fields, as a form, or as bytes already encoded (`content`, typed by `headers`)."""

    url: str
    headers: dict[str, str]
    json: Any = None
    form: list[FormPart] | None = None
    content: bytes | None = None


class SyncProvider(Provider[C]):
    """The shared `generate` of synchronous providers (see the module docstring)."""

    # Whether `from_vendor` only decodes each `b64_json` of an images-API answer
    # (`kit/output.decode_b64_image`), which may then be read as the answer arrives, decoded
    # piece by piece (`kit/b64_answer.StreamedAnswer`: the body is never held whole), or be a
    # view of a body read whole (`kit/b64_answer.loads(views=True)`); one that reads it as a
    # str leaves this off.
    b64_views = False

    @property
    def api_base(self) -> str:
        """The URL `endpoint` paths are appended to: `<NAME>_BASE_URL`."""
        return str(self.config.base_url)

    @cached_property
    def origins(self) -> TrustedOrigins:
        """Only the endpoint's origin, and the origins the operator trusted for this provider's
        results, are fetched like an API call (read on first use: Bedrock learns its endpoint
        from its region)."""
        return TrustedOrigins(self.api_base, getattr(self.config, "trusted_hosts", ()))

    @abstractmethod
    def endpoint(self, task: ImageTask, spec: ModelSpec) -> str:
        """The path after `base_url` this task is posted to (`/images/generations`)."""

    @abstractmethod
    def to_vendor(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        """The request's fields, in the provider's own names (pure)."""

    @abstractmethod
    def from_vendor(self, payload: Any) -> Answer:
        """The parsed JSON of a 2xx answer to images (pure); `UpstreamError` when unusable."""

    @abstractmethod
    def uses_form(self, task: ImageTask) -> bool:
        """Whether this task's fields go as a multipart form (`to_form`), else as JSON."""

    def to_form(self, fields: dict[str, Any], task: ImageTask) -> list[FormPart]:
        """The multipart form: `fields` as text parts, then the task's files (`form_files`)."""
        return [*text_parts(fields), *self.form_files(task)]

    def form_files(self, task: ImageTask) -> list[FormPart]:
        """The file parts of a form: none by default. Adapters name theirs (`image`, `mask`)."""
        return []

    async def credential_headers(self) -> dict[str, str]:
        """The headers that carry the credentials on a submission, got before anything is
        sent: `auth_headers(api_key())` (503 `provider_not_configured` without a key)."""
        return self.auth_headers(self.api_key())

    async def renewed_credential_headers(self, resp: UpstreamResponse) -> dict[str, str] | None:
        """After a 401 answer (`resp`) to a submission: fresh credential headers (a new access
        token) to send it once more with, or None (default) to map the 401 as an error answer."""
        return None

    def read_answer(self, payload: Any, task: ImageTask, spec: ModelSpec) -> Answer:
        """The parsed JSON of a 2xx answer to this task: `from_vendor(payload)`."""
        return self.from_vendor(payload)

    def read_response(self, resp: UpstreamResponse, task: ImageTask, spec: ModelSpec) -> Answer:
        """A 2xx answer to this task: `read_answer` of its parsed JSON. A provider that may
        answer with raw image bytes and headers (Stability) reads the response itself. The body
        is let go once parsed: its megabytes are not held while the images are decoded (issue 16,
        bench/RESULTS.md), unless its base64 is kept as views of it (`b64_views`). The images
        API's shape is read without scanning its base64 (`kit/b64_answer.py`), or was read as it
        arrived (`resp.reader`, `b64_views`)."""
        try:
            if isinstance(resp.reader, b64_answer.StreamedAnswer):
                payload = resp.reader.payload()
            else:
                payload = b64_answer.loads(resp.body, views=self.b64_views)
        except orjson.JSONDecodeError:
            raise resp.not_json(self.name) from None
        resp.body, resp.reader = b"", None
        return self.read_answer(payload, task, spec)

    async def submission(self, task: ImageTask, spec: ModelSpec) -> Submission:
        """What `generate` posts, before anything is sent: `credential_headers()` first (a
        project named only by Vertex's credentials is then known to `endpoint`), the URL, and
        the fields as JSON or as the form of `to_form`. A provider that signs the bytes it
        sends (SigV4: Bedrock) encodes the body itself (`Submission.content`)."""
        headers = await self.credential_headers()
        url = f"{self.api_base}{self.endpoint(task, spec)}"
        fields = self.to_vendor(task, spec)
        if self.streaming(task, spec):
            fields.update(self.stream_fields(task, spec))
        if self.uses_form(task):
            return Submission(url, headers, form=self.to_form(fields, task))
        return Submission(url, headers, json=fields)

    def streaming(self, task: ImageTask, spec: ModelSpec) -> bool:
        """Whether this call streams: the model streams, and its client reads events
        (`stream: true`) or asked for partial images (a job's events carry them)."""
        return spec.streams and (task.stream or task.partial_images > 0)

    def stream_fields(self, task: ImageTask, spec: ModelSpec) -> dict[str, Any]:
        """The fields that ask the provider to stream (OpenAI's names)."""
        return {"stream": True, "partial_images": task.partial_images}

    async def generate(
        self, task: ImageTask, spec: ModelSpec, journal: CallJournal = NO_JOURNAL
    ) -> ProviderResult:
        request = await self.submission(task, spec)
        streaming = self.streaming(task, spec)

        async def send(headers: dict[str, str]) -> UpstreamResponse | UpstreamStream:
            # A 2xx's base64 decoded as it arrives (issue 16); an error answer read whole.
            reader = b64_answer.StreamedAnswer if self.b64_views else None
            call = (
                self.http.open_stream
                if streaming
                else partial(self.http.request, answer_reader=reader)
            )
            return await call(
                "POST",
                request.url,
                provider=self.name,
                headers=headers,
                json=request.json,
                form=request.form,
                content=request.content,
                read_timeout=self.submit_read_timeout,
            )

        async def submit() -> UpstreamResponse | UpstreamStream:
            resp = await send(request.headers)
            if isinstance(resp, UpstreamStream):
                return resp  # a 2xx: the provider took the call
            if resp.status == 401:  # refused, nothing taken: once more with fresh credentials
                renewed = await self.renewed_credential_headers(resp)
                if renewed is not None:
                    resp = await send(renewed)
            if isinstance(resp, UpstreamResponse) and not 200 <= resp.status < 300:
                raise self.error_from(resp)
            return resp

        resp = await submit_once(journal, self.name, submit)
        # A 2xx is a call the provider bills, whether or not its answer can be used.
        with after_acceptance(self):
            usages: list[dict[str, Any] | None] = []
            if isinstance(resp, UpstreamStream):
                async with resp:
                    payload, usages = await self.read_stream(resp, journal)
                answer = self.read_answer(payload, task, spec)
            else:
                answer = self.read_response(resp, task, spec)
            for image, usage in zip(answer.result.images, usages, strict=False):
                image.usage = usage
            for index, image_url in answer.urls.items():
                answer.result.images[index].data = await self.download(image_url)
        return answer.result

    async def read_stream(
        self, stream: UpstreamStream, journal: CallJournal
    ) -> tuple[dict[str, Any], list[dict[str, Any] | None]]:
        """A streamed answer (module docstring): the JSON body its completed events stand for,
        and each image's own `usage`. Partial images go to `journal` as they arrive."""
        completed: list[dict[str, Any]] = []
        async for event in stream.events():
            if event.data.startswith("[DONE]"):
                break
            try:
                payload = orjson.loads(event.data)
                name = event.name
            except orjson.JSONDecodeError:
                raise UpstreamError(
                    f"{self.name} sent a malformed stream event (not JSON)", provider=self.name
                ) from None
            if not isinstance(payload, dict):
                continue  # not an event of the image API: nothing to read in it
            del event
            what = image_events.kind(name, payload)
            if what == "error":
                raise self.stream_error(image_events.error_of(payload))
            if what == "completed":
                completed.append(payload)
            elif what == "partial":
                partial = image_events.partial_image(payload, journal.first_image + len(completed))
                # The event's JSON is let go now (its text is, above), not when the next event
                # arrives: the journal holds the base64 alone (1.4 MB for a 1 MB partial).
                del payload
                if partial is not None:
                    await journal.partial_image(partial)
                    del partial
        if not completed:
            raise UpstreamError(
                f"{self.name} ended its stream without an image", provider=self.name
            )
        usages = [token_usage(event.get("usage")) for event in completed]
        return image_events.images_body(completed), usages

    def stream_error(self, error: dict[str, Any]) -> UpstreamError:
        """The provider's `error` event, after it took the call: its message, redacted; never
        retried (`after_acceptance` marks it)."""
        message = provider_message(error.get("message"), self.secrets())
        return UpstreamError(
            f"{self.name} failed while streaming" + (f": {message}" if message else ""),
            provider=self.name,
        )

    async def download(self, url: str) -> bytes:
        """An image the provider answered by URL, never with the key (module docstring)."""
        if not self.origins.allows(url):
            return await self._fetch_foreign(url)
        resp = await self.http.request("GET", url, provider=self.name)
        if resp.status != 200:
            raise UpstreamError(
                f"{self.name} image download failed (HTTP {resp.status})", provider=self.name
            )
        return resp.body

    async def _fetch_foreign(self, url: str) -> bytes:
        if self.fetcher is None:
            raise UpstreamError(
                f"{self.name} returned an image URL on another origin ({origin_text(url)})"
                f"{self._trust_hint(url)}",
                provider=self.name,
            )
        try:
            return await self.fetcher.download(url)
        except Refused as exc:
            raise UpstreamError(
                f"{self.name} image download refused: its URL {exc}{self._trust_hint(url)}",
                provider=self.name,
            ) from None

    def _trust_hint(self, url: str) -> str:
        """How an operator lets this result origin through, for a refused download's message,
        where the provider has that setting (`XAI_TRUSTED_HOSTS`); else nothing."""
        if "trusted_hosts" not in type(self.config).model_fields:
            return ""
        variable = self.definition.variable_text("trusted_hosts")
        return f" (to trust {origin_text(url)} for {self.name}'s results, add it to {variable})"


class SyncJSONProvider(SyncProvider[C]):
    """A provider whose requests are JSON bodies; a subclass may send some tasks as forms."""

    def uses_form(self, task: ImageTask) -> bool:
        return False


class SyncMultipartProvider(SyncProvider[C]):
    """A provider whose requests are multipart forms, with or without a file."""

    def uses_form(self, task: ImageTask) -> bool:
        return True


def text_parts(fields: dict[str, Any]) -> list[FormPart]:
    """Fields as multipart text parts: strings and numbers as they are, booleans as `true` /
    `false`, lists and objects as JSON; None is left out."""
    parts = []
    for name, value in fields.items():
        if value is None:
            continue
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dict | list):
            text = orjson.dumps(value).decode()
        else:
            text = str(value)
        parts.append(FormPart(name, text))
    return parts
