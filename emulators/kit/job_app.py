"""An async (submit, then poll) emulator's app on a `JobBook`: the hooks such emulators share,
as `ResultHostApp` (`results.py`) is for the synchronous ones.

    class LumaApp(JobApp):
        COUNTERS = ("auth_failures", "deletes", "files_served", "file_requests_with_key")

        def __init__(self, api_key, scenarios, strict=False, ..., rate_limit=None):
            super().__init__(api_key, RULES, ("submit",), scenarios, strict,
                             book=Book(...), rate_limit=rate_limit)

    headers = self.rate_limited()          # None, or a 429's {"retry-after": whole seconds}
    await self.serve_file(scope, send, fault, PREFIX, MIME)   # a request of kind `file`

`stats()` shows `COUNTERS` (0 until counted; `count` is thread-safe); `reset()` clears them,
the submission `RateLimit` (`rate_limit` per minute, None: unlimited) and the book.
`serve_file` answers a download on the second listener: its name after `prefix` and its signed
query (`w`, `h`, `f`, checked by the book's `urls`; a subclass's `FILE_SIGNED` may sign more)
give the file; an expired or altered URL, or a format outside `mime`, is the kit's 403
(`signed_urls.forbidden`). A download carrying `Authorization` counts as
`file_requests_with_key` (the gateway must never send one), a served one as `files_served`; a
fault's `image` is served in place of the placeholder (`file_image`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any, ClassVar
from urllib.parse import parse_qs

from . import auth
from .asgi import Scope, Send, send_bytes
from .counting import CountingApp
from .faults import Fault, FaultRules
from .jobs import JobBook
from .scenarios import ScenarioTable
from .signed_urls import forbidden


class JobApp(CountingApp):
    """An async emulator's app: its `book`, counters, rate limit and result files."""

    # The counters `stats()` shows, in order.
    COUNTERS: ClassVar[tuple[str, ...]] = (
        "auth_failures",
        "files_served",
        "file_requests_with_key",
    )
    # The signed query parameters of a result file's URL.
    FILE_SIGNED: ClassVar[tuple[str, ...]] = ("w", "h", "f")

    def __init__(
        self,
        api_key: str,
        rules: FaultRules,
        paid: Collection[str],
        scenarios: ScenarioTable,
        strict: bool,
        *,
        book: JobBook[Any],
        rate_limit: int | None = None,
    ) -> None:
        super().__init__(api_key, rules, paid, scenarios, strict, rate_limit)
        self.book = book

    def provider_reset(self) -> None:
        super().provider_reset()
        self.book.clear()

    def rate_limited(self) -> dict[str, str] | None:
        """Takes a submission from the rate limit: None when allowed, else the 429's
        `retry-after` header (whole seconds, at least 1)."""
        wait = self.rate.take()
        return None if wait is None else {"retry-after": str(max(1, round(wait)))}

    async def file_image(self, width: int, height: int, fmt: str, query: dict[str, str]) -> bytes:
        """A result file's bytes (the book's placeholder); `query`: its signed parameters."""
        return await self.book.image(width, height, fmt)

    async def serve_file(
        self, scope: Scope, send: Send, fault: Fault | None, prefix: str, mime: Mapping[str, str]
    ) -> None:
        """Answer a download of a result file named after `prefix` (formats: `mime`)."""
        if auth.header(scope, "authorization"):
            self.count("file_requests_with_key")
        name = scope["path"][len(prefix) :]
        query = {k: v[0] for k, v in parse_qs(scope["query_string"].decode("latin-1")).items()}
        refusal = self.book.urls.check(name, query, self.FILE_SIGNED)
        if refusal is None and query.get("f") not in mime:
            refusal = forbidden("Signed format unknown.")
        if refusal is not None:
            await refusal.send(send)
            return
        fmt = query["f"]
        data = fault.fake_image if fault is not None else None
        if data is None:
            data = await self.file_image(int(query["w"]), int(query["h"]), fmt, query)
        self.count("files_served")
        await send_bytes(send, 200, data, [(b"content-type", mime[fmt].encode())])
