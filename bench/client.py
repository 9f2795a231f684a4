"""Async HTTP load client, run as its own process; prints one JSON object on stdout.

    python -m bench.client closed --url U --body-file F --concurrency 16 --duration 5
    python -m bench.client burst  --url U --body-file F --count 5000 --ramp 2 --timeout 90
    python -m bench.client stream --url U --body-file F --count 64 --timeout 60
    python -m bench.client jobs   --url U --body-file F --count 10000 --ramp 4 --timeout 120

`closed`: `concurrency` workers each send the next request as soon as the last one answered,
until `duration` seconds have passed (a closed loop, like wrk). `burst`: `count` requests, all
in flight at once (started evenly over `ramp` seconds), each awaited to the end. Latencies are
measured per request with perf_counter; a response counts as OK when its status is 2xx.
`stream`: `count` `stream: true` requests at once, each read event by event: the time to its
first whole partial image event and to its end (a stream is OK with a completed event and no
error event).
`jobs`: `count` requests with `Prefer: respond-async` started evenly over `ramp` seconds (each a
202 with a job), then every job polled (`GET /v1/jobs/{id}`) once per `poll` seconds, at most
`concurrency` polls in flight (or after the `Retry-After` of the job's last answer, when it
has one), until it ended or `timeout` passed: submit latencies, time from
submit to the poll that saw it end, and how many succeeded with an image. With `--wait W`,
each poll says `Prefer: wait=W`; once a gateway answered one with `Preference-Applied`, its
polls are long polls, sent again at once and not counted against `concurrency` (one per job).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import resource
import sys
import time
from collections import Counter
from collections.abc import Coroutine, Mapping
from typing import Any

import aiohttp
import orjson

from .stats import percentile, summarize


def raise_open_files_limit() -> int:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        target = hard if hard != resource.RLIM_INFINITY else 65536
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def failure(exc: BaseException) -> str:
    """A request that got no answer, as its status key: the exception's type, with its message
    when it has one (`ClientOSError: [Errno 104] Connection reset by peer` and a refused
    connection differ), cut to 100 characters."""
    text = str(exc)
    return f"{type(exc).__name__}: {text}"[:100] if text else type(exc).__name__


class Recorder:
    def __init__(self) -> None:
        self.latencies: list[float] = []
        self.statuses: Counter[str] = Counter()
        self.bytes = 0

    async def send(
        self, session: aiohttp.ClientSession, url: str, body: bytes, headers: dict[str, str]
    ) -> None:
        started = time.perf_counter()
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                data = await resp.read()
                status = str(resp.status)
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, data = failure(exc), b""
        self.latencies.append(time.perf_counter() - started)
        self.statuses[status] += 1
        self.bytes += len(data)

    def result(self, elapsed: float, **extra: Any) -> dict[str, Any]:
        ok = sum(n for status, n in self.statuses.items() if status.startswith("2"))
        out = summarize(self.latencies, elapsed)
        out.update(ok=ok, errors=len(self.latencies) - ok, statuses=dict(self.statuses))
        out.update(bytes=self.bytes, **extra)
        return out


async def closed_loop(
    url: str, body: bytes, headers: dict[str, str], concurrency: int, duration: float
) -> dict[str, Any]:
    rec = Recorder()
    connector = aiohttp.TCPConnector(limit=concurrency, force_close=False)
    timeout = aiohttp.ClientTimeout(total=max(30.0, duration * 2))
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.perf_counter()
        deadline = started + duration

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await rec.send(session, url, body, headers)

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return rec.result(elapsed, concurrency=concurrency)


async def burst(
    url: str, body: bytes, headers: dict[str, str], count: int, ramp: float, timeout: float
) -> dict[str, Any]:
    rec = Recorder()
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        started = time.perf_counter()
        tasks = []
        for i in range(count):
            if ramp > 0:
                delay = started + ramp * i / count - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(rec.send(session, url, body, headers)))
        _, pending = await asyncio.wait(tasks, timeout=timeout + ramp + 5)
        for task in pending:
            task.cancel()
        elapsed = time.perf_counter() - started
    return rec.result(elapsed, count=count, unfinished=len(pending))


async def streams(
    url: str, body: bytes, headers: dict[str, str], count: int, timeout: float
) -> dict[str, Any]:
    """`count` Server-Sent-Event streams at once (a `stream: true` image request each), every
    event read as it arrives: per stream, the time to its first whole partial image event, to
    its end, and what it carried."""
    first: list[float] = []
    total: list[float] = []
    partials: Counter[int] = Counter()
    outcomes: Counter[str] = Counter()
    received = 0

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal received
        started = time.perf_counter()
        seen, done, failed, buffer = 0, 0, "", bytearray()
        try:
            async with session.post(url, data=body, headers=headers) as resp:
                if resp.status != 200:
                    outcomes[str(resp.status)] += 1
                    await resp.read()
                    return
                async for chunk in resp.content.iter_any():
                    received += len(chunk)
                    start = max(0, len(buffer) - 1)  # only the new bytes can end an event
                    buffer += chunk
                    while (end := buffer.find(b"\n\n", start)) != -1:
                        event = bytes(buffer[:end])
                        del buffer[: end + 2]
                        start = 0
                        kind = _event_type(event)
                        if kind.endswith(".partial_image"):
                            if seen == 0:
                                first.append(time.perf_counter() - started)
                            seen += 1
                        elif kind.endswith(".completed"):
                            done += 1
                        elif kind == "error":
                            failed = "error_event"
        except (aiohttp.ClientError, TimeoutError) as exc:
            failed = f"{type(exc).__name__}: {exc}"[:160]
        total.append(time.perf_counter() - started)
        partials[seen] += 1
        outcomes[failed or ("ok" if done else "no_completed_event")] += 1

    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    client_timeout = aiohttp.ClientTimeout(total=timeout)
    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        started = time.perf_counter()
        await asyncio.gather(*(one(session) for _ in range(count)))
        elapsed = time.perf_counter() - started
    ttfp, whole = summarize(first, elapsed), summarize(total, elapsed)
    some = bool(first)  # no partial at all (a refused request): no figure, rather than 0
    return {
        "count": count,
        "ok": outcomes["ok"],
        "outcomes": dict(outcomes),
        "partials_per_stream": {str(k): v for k, v in sorted(partials.items())},
        "first_partial_p50_ms": ttfp["p50_ms"] if some else None,
        "first_partial_p95_ms": percentile(sorted(first), 95) * 1000 if some else None,
        "first_partial_max_ms": ttfp["max_ms"] if some else None,
        "stream_p50_ms": whole["p50_ms"],
        "stream_p95_ms": percentile(sorted(total), 95) * 1000,
        "bytes": received,
        "duration_s": round(elapsed, 3),
    }


async def jobs(
    url: str,
    body: bytes,
    headers: dict[str, str],
    count: int,
    ramp: float,
    timeout: float,
    poll: float,
    concurrency: int,
    wait_seconds: int = 0,
) -> dict[str, Any]:
    """See the module's docstring (`jobs`)."""
    submit: list[float] = []
    done: list[float] = []
    statuses: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    polls = 0
    gate = asyncio.Semaphore(concurrency)
    jobs_url = url.split("/v1/", 1)[0] + "/v1/jobs/"
    async_headers = headers | {"Prefer": "respond-async"}
    get_headers = {k: v for k, v in headers.items() if k != "Content-Type"}
    if wait_seconds > 0:
        get_headers["Prefer"] = f"wait={wait_seconds}"
    long_polls = False  # the gateway applied a `wait` preference (then no gate, no pause)
    connector = aiohttp.TCPConnector(limit=0, limit_per_host=0)
    client_timeout = aiohttp.ClientTimeout(total=60)
    started = time.perf_counter()
    deadline = started + ramp + timeout

    async def one(session: aiohttp.ClientSession) -> None:
        nonlocal polls, long_polls
        t0 = time.perf_counter()
        headers_seen: Mapping[str, str] = {}
        try:
            async with session.post(url, data=body, headers=async_headers) as resp:
                payload = await resp.read()
                status = str(resp.status)
                headers_seen = resp.headers
        except (aiohttp.ClientError, TimeoutError) as exc:
            status, payload = failure(exc), b""
        submit.append(time.perf_counter() - t0)
        statuses[status] += 1
        if status != "202":
            return
        job_id = orjson.loads(payload)["id"]
        wait = retry_after(headers_seen, poll)
        while time.perf_counter() < deadline:
            await asyncio.sleep(wait)
            wait = poll
            async with contextlib.AsyncExitStack() as slot:
                if not long_polls:
                    await slot.enter_async_context(gate)
                polls += 1
                try:
                    async with session.get(jobs_url + job_id, headers=get_headers) as resp:
                        if resp.status != 200:
                            continue
                        if "Preference-Applied" in resp.headers:
                            long_polls, wait = True, 0.0
                        else:
                            wait = retry_after(resp.headers, poll)
                        job = orjson.loads(await resp.read())
                except (aiohttp.ClientError, TimeoutError):
                    continue
            if job["status"] in ("queued", "running"):
                continue
            done.append(time.perf_counter() - t0)
            data = (job.get("result") or {}).get("data") or [{}]
            image = data[0].get("b64_json") or data[0].get("url")
            ends["succeeded" if job["status"] == "succeeded" and image else job["status"]] += 1
            return
        ends["unfinished"] += 1

    async with aiohttp.ClientSession(connector=connector, timeout=client_timeout) as session:
        tasks = []
        for i in range(count):
            if ramp > 0:
                delay = started + ramp * i / count - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(session)))
        await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    submit.sort()
    done.sort()
    ok = ends["succeeded"]
    return {
        "count": count,
        "duration_s": round(elapsed, 3),
        "ok": ok,
        "errors": count - ok,
        "statuses": dict(statuses),
        "ends": dict(ends),
        "polls": polls,
        "submit_p50_ms": percentile(submit, 50) * 1000 if submit else None,
        "submit_p99_ms": percentile(submit, 99) * 1000 if submit else None,
        "done_p50_s": percentile(done, 50) if done else None,
        "done_p99_s": percentile(done, 99) if done else None,
        "done_max_s": done[-1] if done else None,
    }


def retry_after(headers: Mapping[str, str], default: float) -> float:
    """A job answer's `Retry-After` (seconds), as a client polling a 202's job honours it;
    `default` without one (a gateway that does not send it)."""
    try:
        return float(headers["Retry-After"])
    except (KeyError, ValueError):
        return default


def _event_type(event: bytes) -> str:
    """An SSE event's name (`event:`), else its JSON data's `type`; "" for comments."""
    data = b""
    for line in event.split(b"\n"):
        if line.startswith(b"event:"):
            return line[6:].strip().decode("utf-8", "replace")
        if line.startswith(b"data:"):
            data += line[5:].strip()
    if not data or data == b"[DONE]":
        return ""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return ""
    kind = payload.get("type") if isinstance(payload, dict) else None
    if kind is None and isinstance(payload, dict) and "error" in payload:
        return "error"
    return kind if isinstance(kind, str) else ""


def run(coro: Coroutine[Any, Any, dict[str, Any]]) -> dict[str, Any]:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)


def parse_headers(items: list[str]) -> dict[str, str]:
    headers = {"Content-Type": "application/json"}
    for item in items:
        name, _, value = item.partition(":")
        headers[name.strip()] = value.strip()
    return headers


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.client", description=__doc__)
    parser.add_argument("mode", choices=("closed", "burst", "stream", "jobs"))
    parser.add_argument("--url", required=True)
    parser.add_argument("--body-file", required=True)
    parser.add_argument("--header", action="append", default=[])
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--count", type=int, default=1)
    parser.add_argument("--ramp", type=float, default=0.0)
    parser.add_argument("--timeout", type=float, default=120.0)
    parser.add_argument("--poll", type=float, default=2.0, help="jobs: seconds between polls")
    parser.add_argument("--wait", type=int, default=0, help="jobs: each poll's Prefer: wait=N")
    args = parser.parse_args(argv)
    with open(args.body_file, "rb") as fh:
        body = fh.read()
    headers = parse_headers(args.header)
    limit = raise_open_files_limit()
    if args.mode == "closed":
        coro = closed_loop(args.url, body, headers, args.concurrency, args.duration)
    elif args.mode == "stream":
        coro = streams(args.url, body, headers, args.count, args.timeout)
    elif args.mode == "jobs":
        coro = jobs(
            args.url,
            body,
            headers,
            args.count,
            args.ramp,
            args.timeout,
            args.poll,
            args.concurrency,
            args.wait,
        )
    else:
        coro = burst(args.url, body, headers, args.count, args.ramp, args.timeout)
    result = run(coro)
    result["open_files_limit"] = limit
    sys.stdout.write(orjson.dumps(result).decode() + "\n")


if __name__ == "__main__":
    main()
