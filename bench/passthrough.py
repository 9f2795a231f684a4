"""Reference point: the smallest useful FastAPI pass-through (aiohttp client, no validation,
no auth, no logging), as in the issue's table. It shows what the framework and the client
library cost by themselves, so the gateway's own work can be read off the difference.

    BENCH_UPSTREAM=http://127.0.0.1:9101/v1 uvicorn bench.passthrough:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from fastapi import FastAPI, Request
from fastapi.responses import Response

UPSTREAM = os.environ.get("BENCH_UPSTREAM", "http://127.0.0.1:9101/v1")
HEADERS = {"Authorization": "Bearer sk-emulator", "Content-Type": "application/json"}
session: list[aiohttp.ClientSession] = []


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    session.append(aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=512)))
    yield
    await session.pop().close()


app = FastAPI(lifespan=lifespan)


@app.post("/v1/images/generations")
async def generations(request: Request) -> Response:
    url = f"{UPSTREAM}/images/generations"
    async with session[0].post(url, data=await request.body(), headers=HEADERS) as resp:
        return Response(await resp.read(), resp.status, media_type="application/json")
