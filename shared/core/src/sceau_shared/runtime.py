"""A running service's connections (Mongo, broker, publisher, telemetry) and their lifetime.

A service's FastAPI lifespan opens one :class:`Runtime` and closes it at shutdown: one Mongo client
per process, one broker (producer plus the service's subscribers), providers passed explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from sceau_shared.kafka import EventPublisher, create_broker, ping_broker
from sceau_shared.metrics import BusinessMetrics, ConsumerLag
from sceau_shared.mongo import create_client, database, ping
from sceau_shared.settings import HttpSettings, KafkaSettings, MongoSettings, TelemetrySettings
from sceau_shared.telemetry import Telemetry, setup_telemetry


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``env_prefix`` and their own database name."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="forbid")

    kafka: KafkaSettings = KafkaSettings()
    mongo: MongoSettings = MongoSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    http: HttpSettings = HttpSettings()


@dataclass
class Runtime:
    """Live connections of one service process."""

    name: str
    telemetry: Telemetry
    mongo: AsyncMongoClient[dict[str, Any]]
    db: AsyncDatabase[dict[str, Any]]
    broker: KafkaBroker
    publisher: EventPublisher
    metrics: BusinessMetrics

    async def check_mongo(self) -> None:
        """Readiness check: MongoDB answers."""
        await ping(self.mongo)

    async def check_kafka(self) -> None:
        """Readiness check: Kafka answers."""
        await ping_broker(self.broker, timeout_s=2.0)


def instrument_pymongo(telemetry: Telemetry) -> None:
    """Trace MongoDB commands (process-wide instrumentation: only the first call counts)."""
    instrumentor = PymongoInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=telemetry.tracer_provider)


@asynccontextmanager
async def open_runtime(
    name: str,
    settings: ServiceSettings,
    *,
    telemetry: Telemetry | None = None,
    register_subscribers: Callable[[KafkaBroker, EventPublisher], None] | None = None,
) -> AsyncIterator[Runtime]:
    """Connect to MongoDB and Kafka, register subscribers and consume; close it all after."""
    owned_telemetry = telemetry is None
    tel = telemetry or setup_telemetry(name, settings.telemetry)
    instrument_pymongo(tel)
    client = create_client(settings.mongo, app_name=name)
    broker = create_broker(settings.kafka, client_id=name, tracer_provider=tel.tracer_provider)
    publisher = EventPublisher(broker, settings.kafka, producer=name)
    if register_subscribers is not None:
        register_subscribers(broker, publisher)
    lag = ConsumerLag(broker)
    lag.register(tel.meter_provider, name)
    lag_task: asyncio.Task[None] | None = None
    try:
        await broker.start()
        lag_task = asyncio.create_task(lag.run(), name=f"{name}-consumer-lag")
        yield Runtime(
            name=name,
            telemetry=tel,
            mongo=client,
            db=database(client, settings.mongo),
            broker=broker,
            publisher=publisher,
            metrics=BusinessMetrics.create(tel.meter_provider, name),
        )
    finally:
        if lag_task is not None:
            lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag_task
        await broker.stop()
        await client.close()
        if owned_telemetry:
            tel.shutdown()


def http_of(settings: ServiceSettings) -> HttpSettings:
    """Accessor used by :func:`sceau_shared.runner.serve`."""
    return settings.http


def kafka_of(settings: ServiceSettings) -> KafkaSettings:
    """Accessor used by :func:`sceau_shared.runner.serve`."""
    return settings.kafka


def mongo_of(settings: ServiceSettings) -> MongoSettings:
    """Accessor used by :func:`sceau_shared.runner.serve`."""
    return settings.mongo
