"""An HTTP request that meets a database outage answers 503 with Retry-After, quickly (item 2).

The "database" is a listening socket that accepts connections and never answers: what a client
sees of a MongoDB server stopped with SIGSTOP. (The fault suite pauses a real server.)
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

import httpx
import pytest
from aiokafka.errors import KafkaTimeoutError
from fastapi import FastAPI
from pymongo import AsyncMongoClient
from pymongo.errors import AutoReconnect

from sceau_shared.errors import ServiceError
from sceau_shared.http import PROBLEM_MEDIA_TYPE, create_base_app
from sceau_shared.http.deadline import MongoDeadlineMiddleware


@pytest.fixture
def silent_server() -> Iterator[int]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


def build_app(client: AsyncMongoClient[dict[str, Any]] | None) -> FastAPI:
    app = create_base_app(
        title="t",
        version="0",
        description="d",
        lifespan=None,
        readiness={},
        max_body_bytes=1000,
    )

    @app.get("/thing")
    async def thing() -> dict[str, str]:
        assert client is not None
        await client["db"]["things"].find_one({"_id": "x"})
        return {"ok": "yes"}

    @app.get("/wrapped")
    async def wrapped() -> None:
        try:
            raise AutoReconnect("connection reset")
        except AutoReconnect as exc:
            raise ServiceError("could not store") from exc

    @app.get("/kafka")
    async def kafka() -> None:
        raise KafkaTimeoutError

    app.add_middleware(MongoDeadlineMiddleware, seconds=1.0)
    return app


@pytest.fixture
async def silent_client(silent_server: int) -> AsyncIterator[AsyncMongoClient[dict[str, Any]]]:
    # The service's defaults: a 5-s server selection, no socket timeout.
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        f"mongodb://127.0.0.1:{silent_server}/", serverSelectionTimeoutMS=5000, connect=False
    )
    try:
        yield client
    finally:
        await client.close()


async def call(app: FastAPI, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.get(path)


async def test_a_stalled_database_answers_503_with_retry_after_within_seconds(
    silent_client: AsyncMongoClient[dict[str, Any]],
) -> None:
    started = time.monotonic()
    async with asyncio.timeout(4.0):
        response = await call(build_app(silent_client), "/thing")
    assert time.monotonic() - started < 3.0
    assert response.status_code == 503
    assert response.headers["content-type"].startswith(PROBLEM_MEDIA_TYPE)
    assert int(response.headers["retry-after"]) > 0
    assert response.json()["type"].endswith("/unavailable")


@pytest.mark.parametrize("path", ["/wrapped", "/kafka"])
async def test_outage_errors_raised_by_the_code_answer_503(path: str) -> None:
    response = await call(build_app(None), path)
    assert response.status_code == 503
    assert "retry-after" in response.headers
