"""The fault object both emulators accept on `POST /_emulator/faults`, validated in one place.

`{"match": <kind>|"any", "status": 200-599, "headers": {..}, "body": object|string,
"delay": seconds, "times": n >= 1, "image": <fake>, <flags>: bool}`; every key optional. Each
emulator names its own match kinds and boolean flags (`stall`, `reset`, BFL's
`accept_then_reset`, OpenAI's `as_url`).

`image` (one of `FAKE_IMAGES`) keeps the answer otherwise normal — status 200, an image
content type — but puts that content where the image bytes belong (OpenAI: every `b64_json`
and `/_files/` download; BFL: the `sample` download): what a misbehaving provider, or an error
page a proxy slipped in, hands back as "the image".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

BASE_FIELDS = ("match", "status", "headers", "body", "delay", "times", "image")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
FAKE_IMAGES: dict[str, bytes] = {
    "html": b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><script>alert(document.domain)</script></body></html>",
    "svg": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(document.domain)</script></svg>',
    "json": b'{"error": {"message": "upstream proxy error"}}',
    "garbage": bytes(range(256)) * 4,
    "empty": b"",
    "truncated": PNG_SIGNATURE + b"\x00\x00\x00\x0dIHD",  # a PNG cut inside its header
}


@dataclass
class Fault:
    """One queued fault (BFL's emulator adds `accept_then_reset`)."""

    match: str = "any"
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    body: Any = None
    delay: float = 0.0
    stall: bool = False
    reset: bool = False
    times: int = 1
    image: str | None = None  # a FAKE_IMAGES name: the answer's image bytes become that

    @property
    def fake_image(self) -> bytes | None:
        return None if self.image is None else FAKE_IMAGES[self.image]


def fault_fields(
    raw: Any, where: str, *, matches: tuple[str, ...], flags: tuple[str, ...]
) -> dict[str, Any]:
    """The validated keyword arguments of one fault; ValueError names the bad field."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: expected an object")
    unknown = set(raw) - set(BASE_FIELDS) - set(flags)
    if unknown:
        raise ValueError(f"{where}: unknown keys {sorted(unknown)}")
    fields: dict[str, Any] = {"body": raw.get("body")}
    if raw.get("match") is not None:
        if raw["match"] not in matches:
            raise ValueError(f"{where}.match: expected one of {list(matches)}")
        fields["match"] = raw["match"]
    status = raw.get("status")
    if status is not None:
        if not is_int(status) or not 200 <= status <= 599:
            raise ValueError(f"{where}.status: expected an integer 200-599")
        fields["status"] = status
    headers = raw.get("headers") or {}
    if not isinstance(headers, dict) or not all(
        isinstance(v, (str, int, float)) for v in headers.values()
    ):
        raise ValueError(f"{where}.headers: expected an object of strings")
    clean = {str(k).lower(): str(v) for k, v in headers.items()}
    if any(c in text for item in clean.items() for text in item for c in "\r\n\0"):
        raise ValueError(f"{where}.headers: control characters are not allowed")
    for framing in ("content-length", "transfer-encoding"):
        clean.pop(framing, None)  # the server frames the body itself
    fields["headers"] = clean
    delay = raw.get("delay", 0.0) or 0.0
    if isinstance(delay, bool) or not isinstance(delay, (int, float)) or not 0 <= delay <= 3600:
        raise ValueError(f"{where}.delay: expected seconds between 0 and 3600")
    fields["delay"] = float(delay)
    for flag in flags:
        value = raw.get(flag, False)
        if not isinstance(value, bool):
            raise ValueError(f"{where}.{flag}: expected a boolean")
        fields[flag] = value
    image = raw.get("image")
    if image is not None:
        if image not in FAKE_IMAGES:
            raise ValueError(f"{where}.image: expected one of {list(FAKE_IMAGES)}")
        fields["image"] = image
    times = raw.get("times", 1)
    if not is_int(times) or times < 1:
        raise ValueError(f"{where}.times: expected an integer >= 1")
    fields["times"] = times
    return fields


def fault_list(payload: Any) -> list[Any]:
    """The raw fault objects of a `{"faults": [...]}` body."""
    if not isinstance(payload, dict) or not isinstance(payload.get("faults"), list):
        raise ValueError('expected {"faults": [ ... ]}')
    return list(payload["faults"])


def is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
