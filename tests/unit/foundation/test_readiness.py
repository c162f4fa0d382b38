"""Readiness says what each service can still do (issue 18, item 13).

Before, ``/readyz`` answered 503 as soon as Kafka *or* MongoDB was unreachable, for every
service: a broker outage took the public verifier and every API offline at the orchestrator,
although none of them needs the broker to answer (events leave through outboxes or a bounded
queue). Each service now declares the dependencies it answers without; their outage reports
``degraded`` (200), and the body lists every component.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from sceau_shared.http import create_base_app


def _checks(down: set[str]) -> dict[str, Callable[[FastAPI], Awaitable[None]]]:
    def check(name: str) -> Callable[[FastAPI], Awaitable[None]]:
        async def run(_: FastAPI) -> None:
            if name in down:
                raise ConnectionError(f"{name} unreachable")

        return run

    return {name: check(name) for name in ("kafka", "mongo")}


async def _ready(app: FastAPI) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get("/readyz")


def _app(down: set[str]) -> FastAPI:
    return create_base_app(
        title="t",
        version="0",
        description="d",
        lifespan=None,
        readiness=_checks(down),
        max_body_bytes=1000,
        optional={"kafka": "events wait in the outbox"},
    )


class TestMechanism:
    async def test_all_up_is_ready_with_every_component(self) -> None:
        answer = await _ready(_app(set()))
        assert answer.status_code == 200
        assert answer.json() == {
            "status": "ready",
            "checks": {"kafka": "ok", "mongo": "ok"},
            "components": {
                "kafka": {
                    "status": "ok",
                    "required": False,
                    "while_down": "events wait in the outbox",
                },
                "mongo": {"status": "ok", "required": True},
            },
        }

    async def test_an_optional_dependency_down_is_degraded_not_unready(self) -> None:
        answer = await _ready(_app({"kafka"}))
        assert answer.status_code == 200
        body = answer.json()
        assert body["status"] == "degraded"
        assert body["checks"] == {"kafka": "kafka unreachable", "mongo": "ok"}
        assert body["components"]["kafka"] == {
            "status": "down",
            "required": False,
            "error": "kafka unreachable",
            "while_down": "events wait in the outbox",
        }

    async def test_a_required_dependency_down_is_503_naming_it(self) -> None:
        answer = await _ready(_app({"kafka", "mongo"}))
        assert answer.status_code == 503
        assert answer.headers["content-type"] == "application/problem+json"
        body = answer.json()
        assert body["detail"] == "Dependencies not ready: mongo"
        assert body["components"]["mongo"]["status"] == "down"
        assert body["components"]["kafka"]["status"] == "down"


class _Runtime:
    def __init__(self, down: set[str]) -> None:
        self._down = down

    def readiness(self) -> dict[str, Callable[[], Awaitable[None]]]:
        def check(name: str) -> Callable[[], Awaitable[None]]:
            async def run() -> None:
                if name in self._down:
                    raise ConnectionError(f"{name} unreachable")

            return run

        return {"kafka": check("kafka"), "mongo": check("mongo")}


def _secret() -> SecretStr:
    return SecretStr(base64.b64encode(os.urandom(32)).decode())


def _service(name: str) -> FastAPI:
    if name == "issuer":
        from sceau_issuer.app import create_api as issuer
        from sceau_issuer.settings import IssuerSettings

        return issuer(IssuerSettings(_env_file=None, master_key=_secret()))
    if name == "registry":
        from sceau_registry.app import create_api as registry
        from sceau_registry.settings import RegistrySettings

        return registry(
            RegistrySettings(_env_file=None, master_key=_secret(), operator_token=_secret())
        )
    if name == "notifier":
        from sceau_notifier.app import create_api as notifier
        from sceau_notifier.settings import NotifierSettings

        return notifier(NotifierSettings(_env_file=None))
    from sceau_verifier.app import create_api as verifier
    from sceau_verifier.settings import VerifierSettings

    return verifier(VerifierSettings(_env_file=None))


#: What each service's API needs to answer at all.
REQUIRED = {"issuer": {"mongo"}, "registry": {"mongo"}, "notifier": {"mongo"}, "verifier": set()}


@pytest.mark.parametrize("service", sorted(REQUIRED))
class TestEachService:
    async def test_a_broker_outage_leaves_the_api_in_service(self, service: str) -> None:
        app = _service(service)
        app.state.runtime = _Runtime({"kafka"})
        answer = await _ready(app)
        assert answer.status_code == 200, answer.text
        body: dict[str, Any] = answer.json()
        assert body["status"] == "degraded"
        kafka = body["components"]["kafka"]
        assert (kafka["status"], kafka["required"]) == ("down", False)
        assert kafka["while_down"]  # says what waits meanwhile

    async def test_a_database_outage_takes_out_only_the_services_that_need_it(
        self, service: str
    ) -> None:
        app = _service(service)
        app.state.runtime = _Runtime({"mongo"})
        answer = await _ready(app)
        body: dict[str, Any] = answer.json()
        if REQUIRED[service]:
            assert answer.status_code == 503
            assert body["components"]["mongo"] == {
                "status": "down",
                "required": True,
                "error": "mongo unreachable",
            }
        else:  # the verifier has no database at all
            assert answer.status_code == 200
            assert "mongo" not in body["components"]
