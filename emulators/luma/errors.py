"""Luma's error answers, in its own shapes.

- validation: FastAPI's `{"detail": [{"type", "loc", "msg", "input"}]}` with HTTP 422 (the shape
  vercel/ai's `luma-image-model.ts` reads at 63fa085, pydantic v2 `type` names);
- everything else `{"detail": "<text>"}` (FastAPI's `HTTPException`; `{"detail": "Not
  authenticated"}` is quoted from Luma's API by users [3P]).

Statuses: the lumaai-python SDK's exceptions (Stainless: 400, 401, 403, 404, 409, 422, 429,
5xx). Which status and words Luma gives a moderated prompt, an exhausted credit, a wrong key or
its rate limit is [UNVERIFIED]; the emulator's are below.
"""

from __future__ import annotations

from typing import Any

from ..kit.asgi import Send, send_json


class LumaError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}

    async def send(self, send: Send) -> None:
        headers = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in self.headers.items()]
        await send_json(send, self.status, self.body, headers)


def detail(status: int, text: str, headers: dict[str, str] | None = None) -> LumaError:
    return LumaError(status, {"detail": text}, headers)


def invalid(kind: str, loc: list[str], msg: str, value: Any = None) -> LumaError:
    item: dict[str, Any] = {"type": kind, "loc": ["body", *loc], "msg": msg}
    if value is not None:
        item["input"] = value if isinstance(value, str | int | float | bool) else str(value)[:80]
    return LumaError(422, {"detail": [item]})


MODERATED_PROMPT = "400: prompt not allowed because advanced moderation failed"
MODERATED_OUTPUT = "400: output image not allowed because advanced moderation failed"
FAILED = "500: internal error while generating (emulated)"
QUOTA = "Insufficient credits: add credits at https://lumalabs.ai/api/billing"
RATE = "Too many requests: rate limit exceeded"


def fault_body(status: int) -> Any:
    if status == 429:
        return {"detail": RATE}
    if status == 402:
        return {"detail": QUOTA}
    if status >= 500:
        return {"detail": "Internal Server Error"}
    return {"detail": f"HTTP {status}"}
