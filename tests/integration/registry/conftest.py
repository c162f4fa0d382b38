"""A registry app running against the real Kafka broker and MongoDB-protocol server."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from pydantic import SecretStr
from registry_support import OPERATOR_TOKEN
from starlette.types import ASGIApp

from sceau_registry.app import create_api
from sceau_registry.settings import RegistrySettings
from sceau_shared.events import Event
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import HttpSettings, KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration


BASE_URL = "http://127.0.0.1:8002"


@pytest.fixture
def registry_settings(
    kafka_settings: KafkaSettings, mongo_settings: MongoSettings
) -> RegistrySettings:
    return RegistrySettings(
        operator_token=SecretStr(OPERATOR_TOKEN),
        master_key=SecretStr("K" * 43 + "="),
        kafka=kafka_settings,
        mongo=mongo_settings,
        http=HttpSettings(port=8002, public_base_url=BASE_URL, rate_limit_per_minute=0),
        cache_ttl_s=0.2,
        trust_list_poll_s=0.3,
        outbox_poll_s=0.1,
    )


@dataclass(frozen=True)
class RunningRegistry:
    """The app (its ``state.graph`` for white-box checks) and the ASGI entry point to call.

    Requests go through ``asgi``: it carries the lifespan state (the graph) into each request,
    as a server would.
    """

    app: FastAPI
    asgi: ASGIApp


@pytest.fixture
async def running_registry(
    registry_settings: RegistrySettings, mongo_client: Any
) -> AsyncIterator[RunningRegistry]:
    app = create_api(registry_settings)
    async with LifespanManager(app, startup_timeout=60, shutdown_timeout=30) as manager:
        yield RunningRegistry(app=app, asgi=manager.app)


@pytest.fixture
def registry_app(running_registry: RunningRegistry) -> FastAPI:
    return running_registry.app  # the lifespan built its graph (app.state.graph)


@pytest.fixture
async def http(running_registry: RunningRegistry) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=running_registry.asgi)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        yield client


@pytest.fixture
async def publish(kafka_settings: KafkaSettings) -> AsyncIterator[Callable[..., Awaitable[None]]]:
    """Publish events as the issuer would."""
    broker = create_broker(kafka_settings, client_id="test-issuer")
    await broker.connect()
    publisher = EventPublisher(broker, kafka_settings, producer="sceau-issuer")

    async def send(*events: Event) -> None:
        for event in events:
            await publisher.publish(event)

    try:
        yield send
    finally:
        await broker.stop()
