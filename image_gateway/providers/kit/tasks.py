"""What a submit-and-poll provider's answers become (`kit/polling.py`): plain data that the
adapters' pure translations return and the kit acts on.

    Submitted   an accepted task's handle, kept in the call's journal (`state()`)
    Pending     still running: its progress (0..1, status word, queue position) and the
                server's retry hint, if any
    NotFound    the provider does not know the task (yet)
    Finished    done: its images, each a URL to download now or bytes given inline
    ResultAt    done: its result is the JSON document at a URL of its own (fal `response_url`)
    Call        a request other than a plain GET (Fireworks polls by POST; fal cancels by PUT)
"""

from __future__ import annotations

import binascii
from dataclasses import dataclass
from types import UnionType
from typing import Any

import pybase64

from image_gateway.errors import UpstreamError
from image_gateway.providers.kit.progress import Progress


@dataclass(frozen=True, slots=True)
class Submitted:
    """An accepted task. URLs are the provider's own, as given (checked against its trusted
    origins before use); `credits` its charge in its own unit (BFL's `cost`).

    Built by an adapter's `parse_submit` straight from the provider's JSON, so the types are
    checked here: `TypeError` (`ValueError` for an empty task id), which the kit turns into
    an `UpstreamError` after acceptance (`kit/acceptance.py`)."""

    task_id: str
    polling_url: str | None = None  # BFL `polling_url`, fal `status_url`, Replicate `urls.get`
    cancel_url: str | None = None  # fal `cancel_url`, Replicate `urls.cancel`
    result_url: str | None = None  # fal `response_url` (its status answer says only COMPLETED)
    credits: float | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.task_id, str):
            raise TypeError(f"task id must be a string, not {type(self.task_id).__name__}")
        if not self.task_id:
            raise ValueError("task id is empty")
        for name in ("polling_url", "cancel_url", "result_url"):
            _check(name, getattr(self, name), str)
        _check("credits", self.credits, int | float)

    def state(self) -> dict[str, Any]:
        """What the journal keeps: a resumed run polls this task, never submits again."""
        state: dict[str, Any] = {"phase": "submitted", "task_id": self.task_id}
        for name in ("polling_url", "cancel_url", "result_url", "credits"):
            if getattr(self, name) is not None:
                state[name] = getattr(self, name)
        return state

    @classmethod
    def from_state(cls, state: dict[str, Any] | None) -> Submitted | None:
        """A task accepted before a restart, from its journal; None when there is none."""
        if not state or not isinstance(state.get("task_id"), str) or not state["task_id"]:
            return None
        credits = state.get("credits", state.get("cost_credits"))  # the name until 2026-11
        return cls(
            state["task_id"],
            _text(state.get("polling_url")),
            _text(state.get("cancel_url")),
            _text(state.get("result_url")),
            float(credits) if isinstance(credits, int | float) else None,
        )


@dataclass(frozen=True, slots=True)
class Pending:
    progress: float | None = None  # 0..1, when the provider says
    retry_after: float | None = None  # seconds the provider asks to wait before the next poll
    status: str | None = None  # the provider's own status word (BFL `Pending`, fal `IN_QUEUE`)
    queue_position: int | None = None  # its place in the provider's queue, where it says

    @property
    def report(self) -> Progress:
        """What this poll says about the task, for its journal (`kit/progress.py`)."""
        return Progress(self.progress, self.status, self.queue_position)


@dataclass(frozen=True, slots=True)
class NotFound:
    pass


NOT_FOUND = NotFound()


@dataclass(frozen=True, slots=True)
class Output:
    """One result image: a URL (downloaded at once, from a trusted origin only) or its bytes."""

    url: str | None = None
    data: bytes | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        _check("url", self.url, str)
        _check("data", self.data, bytes)
        _check("seed", self.seed, int)

    @classmethod
    def of(cls, value: object, provider: str, seed: int | None = None) -> Output:
        """A result value as providers give it: an http(s) URL, or a `data:` URL of base64."""
        if isinstance(value, str) and value.startswith("data:"):
            _, _, encoded = value.partition(",")
            try:
                return cls(data=pybase64.b64decode(encoded, validate=True), seed=seed)
            except (binascii.Error, ValueError):
                pass
        elif isinstance(value, str) and value.startswith(("https://", "http://")):
            return cls(url=value, seed=seed)
        raise UpstreamError(f"{provider} returned no usable result image", provider=provider)


@dataclass(frozen=True, slots=True)
class Finished:
    outputs: tuple[Output, ...]


@dataclass(frozen=True, slots=True)
class ResultAt:
    url: str


PollOutcome = Pending | NotFound | Finished | ResultAt


@dataclass(frozen=True, slots=True)
class Call:
    method: str
    url: str
    json: Any = None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _check(name: str, value: object, kind: type | UnionType) -> None:
    """`TypeError` unless `value` is None or of `kind`."""
    if value is not None and not isinstance(value, kind):
        expected = getattr(kind, "__name__", str(kind))
        raise TypeError(f"{name} must be {expected} or None, not {type(value).__name__}")
