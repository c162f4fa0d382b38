from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI
from pydantic import BaseModel, Field

from sceau_shared.errors import Conflict, NotFound, RateLimited
from sceau_shared.http import PROBLEM_MEDIA_TYPE, create_base_app


class Thing(BaseModel):
    name: str = Field(min_length=1)
    count: int


def build_app(*, ready: bool = True) -> FastAPI:
    async def dependency_check(_: FastAPI) -> None:
        if not ready:
            raise ConnectionError("mongo down")

    app = create_base_app(
        title="t",
        version="0",
        description="d",
        lifespan=None,
        readiness={"mongo": dependency_check},
        max_body_bytes=1000,
    )

    @app.post("/things")
    async def create(thing: Thing) -> Thing:
        return thing

    @app.get("/missing")
    async def missing() -> None:
        raise NotFound("no such thing")

    @app.get("/conflict")
    async def conflict() -> None:
        raise Conflict("already there", errors=[{"pointer": "/name", "message": "taken"}])

    @app.get("/limited")
    async def limited() -> None:
        raise RateLimited("slow down", retry_after=7)

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret internals")

    return app


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=build_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


class TestProblemDetails:
    async def test_validation_errors_are_422_with_pointers(self, client):
        response = await client.post("/things", json={"name": "", "count": "x"})
        assert response.status_code == 422
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE
        body = response.json()
        assert body["status"] == 422
        assert {e["pointer"] for e in body["errors"]} == {"/name", "/count"}

    async def test_malformed_json_is_400(self, client):
        response = await client.post(
            "/things", content=b'{"name": "a", ', headers={"content-type": "application/json"}
        )
        assert response.status_code == 400
        assert response.json()["title"] == "Malformed JSON"

    async def test_domain_errors_carry_status_and_type(self, client):
        response = await client.get("/missing")
        assert response.status_code == 404
        assert response.json()["type"].endswith("/not-found")
        conflict = (await client.get("/conflict")).json()
        assert conflict["errors"] == [{"pointer": "/name", "message": "taken"}]

    async def test_rate_limited_sets_retry_after(self, client):
        response = await client.get("/limited")
        assert response.status_code == 429
        assert response.headers["retry-after"] == "7"

    async def test_unexpected_errors_do_not_leak_internals(self, client):
        response = await client.get("/boom")
        assert response.status_code == 500
        assert "secret internals" not in response.text

    async def test_unknown_route_is_a_problem(self, client):
        response = await client.get("/nope")
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE


class TestBodyLimit:
    async def test_declared_oversized_body_is_413(self, client):
        response = await client.post("/things", content=b"x" * 2000)
        assert response.status_code == 413
        assert response.headers["content-type"] == PROBLEM_MEDIA_TYPE

    async def test_streamed_oversized_body_is_413(self, client):
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(30):
                yield b"x" * 100

        response = await client.post("/things", content=chunks())
        assert response.status_code == 413


class TestProbes:
    async def test_liveness_and_readiness(self, client):
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        ready = await client.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"mongo": "ok"}

    async def test_not_ready_names_the_dependency(self):
        transport = httpx.ASGITransport(app=build_app(ready=False))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
            response = await c.get("/readyz")
        assert response.status_code == 503
        assert response.json()["checks"]["mongo"] == "mongo down"
