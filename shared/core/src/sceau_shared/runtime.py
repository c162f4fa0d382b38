"""A running service's connections (Mongo, broker, publisher, telemetry) and their lifetime.

A service's FastAPI lifespan opens one :class:`Runtime` and closes it at shutdown: one Mongo client
per process, one broker (producer plus the service's subscribers), providers passed explicitly.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
from pydantic import BaseModel, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pymongo import AsyncMongoClient
from pymongo.asynchronous.database import AsyncDatabase

from sceau_shared.kafka import EventPublisher, create_broker, ping_broker
from sceau_shared.metrics import BusinessMetrics, ConsumerLag
from sceau_shared.mongo import create_client, database, ping
from sceau_shared.settings import HttpSettings, KafkaSettings, MongoSettings, TelemetrySettings
from sceau_shared.telemetry import Telemetry, setup_telemetry


class ServiceSettings(BaseSettings):
    """Fields every service has. Subclasses set ``env_prefix``; storing services add ``mongo``.

    A service states its own defaults for a nested group as a default instance (the issuer's
    ``http`` has an 8 MiB body limit and port 8001). pydantic-settings builds a nested group
    from the environment as a plain dict and validates it against the *class* defaults, so one
    ``ISSUER_HTTP__PORT`` used to silently bring back the generic 1 MiB limit, port 8000 and the
    generic database name. :meth:`_keep_service_defaults` lays such a partial group over the
    service's default instance first: what is not given keeps the service's default.
    """

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="forbid")

    kafka: KafkaSettings = KafkaSettings()
    telemetry: TelemetrySettings = TelemetrySettings()
    http: HttpSettings = HttpSettings()

    @model_validator(mode="before")
    @classmethod
    def _keep_service_defaults(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        merged = dict(data)
        for name, field in cls.model_fields.items():
            given = merged.get(name)
            if isinstance(field.default, BaseModel) and isinstance(given, dict):
                merged[name] = overlay(field.default, given)
        return merged


class StoringServiceSettings(ServiceSettings):
    """A service that keeps its own data in MongoDB (every service but the verifier)."""

    mongo: MongoSettings = MongoSettings()


def overlay(default: BaseModel, given: dict[str, Any]) -> dict[str, Any]:
    """The fields ``default`` was built with, then ``given`` on top (nested groups merged too).

    Only the fields the default instance set explicitly are carried over, so the values still
    go through the model's validation like any input.
    """
    merged: dict[str, Any] = {key: getattr(default, key) for key in default.model_fields_set}
    for key, value in given.items():
        inner = getattr(default, key, None)
        if isinstance(inner, BaseModel) and isinstance(value, dict):
            merged[key] = overlay(inner, value)
        else:
            merged[key] = value
    return merged


@dataclass
class Runtime:
    """Live connections of one service process.

    ``mongo`` is ``None`` for a service that stores nothing (the verifier): such a service neither
    connects to MongoDB nor waits for it to be ready.
    """

    name: str
    telemetry: Telemetry
    mongo: AsyncMongoClient[dict[str, Any]] | None
    database: AsyncDatabase[dict[str, Any]] | None
    broker: KafkaBroker
    publisher: EventPublisher
    metrics: BusinessMetrics
    lag: ConsumerLag

    @property
    def db(self) -> AsyncDatabase[dict[str, Any]]:
        """The service's own database (an error for a service opened without MongoDB)."""
        if self.database is None:
            raise RuntimeError(f"{self.name} runs without MongoDB")
        return self.database

    async def check_mongo(self) -> None:
        """Readiness check: MongoDB answers."""
        if self.mongo is not None:
            await ping(self.mongo)

    async def check_kafka(self) -> None:
        """Readiness check: Kafka answers."""
        await ping_broker(self.broker, timeout_s=2.0)

    def readiness(self) -> dict[str, Callable[[], Awaitable[None]]]:
        """The dependency checks ``/readyz`` runs: Kafka always, MongoDB when the service has it."""
        checks: dict[str, Callable[[], Awaitable[None]]] = {"kafka": self.check_kafka}
        if self.mongo is not None:
            checks["mongo"] = self.check_mongo
        return checks

    @asynccontextmanager
    async def consuming(self) -> AsyncIterator[None]:
        """Start the broker (producer and every consumer included so far), stop it after.

        The service skeleton enters this only once the object graph exists, so no consumer can
        receive a message before the services it calls are built.
        """
        lag_task: asyncio.Task[None] | None = None
        try:
            await self.broker.start()
            lag_task = asyncio.create_task(self.lag.run(), name=f"{self.name}-consumer-lag")
            yield
        finally:
            if lag_task is not None:
                lag_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lag_task
            await self.broker.stop()


def instrument_pymongo(telemetry: Telemetry) -> None:
    """Trace MongoDB commands (process-wide instrumentation: only the first call counts)."""
    instrumentor = PymongoInstrumentor()
    if not instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.instrument(tracer_provider=telemetry.tracer_provider)


@asynccontextmanager
async def open_connections(
    name: str,
    settings: ServiceSettings,
    *,
    telemetry: Telemetry | None = None,
    with_mongo: bool = True,
) -> AsyncIterator[Runtime]:
    """Create the Mongo client (lazy) and the broker (not started); close them after.

    Consumers are added and the broker started by the caller (:meth:`Runtime.consuming`), after
    it has built what the consumers call.
    """
    owned_telemetry = telemetry is None
    tel = telemetry or setup_telemetry(name, settings.telemetry)
    client: AsyncMongoClient[dict[str, Any]] | None = None
    mongo = mongo_of(settings)
    if with_mongo and mongo is not None:
        instrument_pymongo(tel)
        client = create_client(mongo, app_name=name)
    broker = create_broker(settings.kafka, client_id=name, tracer_provider=tel.tracer_provider)
    publisher = EventPublisher(
        broker, settings.kafka, producer=name, tracer_provider=tel.tracer_provider
    )
    lag = ConsumerLag(broker)
    lag.register(tel.meter_provider, name)
    try:
        yield Runtime(
            name=name,
            telemetry=tel,
            mongo=client,
            database=None if client is None or mongo is None else database(client, mongo),
            broker=broker,
            publisher=publisher,
            metrics=BusinessMetrics.create(tel.meter_provider, name),
            lag=lag,
        )
    finally:
        if broker.running:  # started and not stopped by ``consuming`` (it failed half-way)
            await broker.stop()
        if client is not None:
            await client.close()
        if owned_telemetry:
            tel.shutdown()


@asynccontextmanager
async def open_runtime(
    name: str,
    settings: ServiceSettings,
    *,
    telemetry: Telemetry | None = None,
    register_subscribers: Callable[[KafkaBroker, EventPublisher], None] | None = None,
) -> AsyncIterator[Runtime]:
    """Connect, register subscribers and consume at once (tests and tools that have no graph)."""
    async with open_connections(name, settings, telemetry=telemetry) as runtime:
        if register_subscribers is not None:
            register_subscribers(runtime.broker, runtime.publisher)
        async with runtime.consuming():
            yield runtime


def http_of(settings: ServiceSettings) -> HttpSettings:
    """Accessor used by :func:`sceau_shared.runner.serve`."""
    return settings.http


def kafka_of(settings: ServiceSettings) -> KafkaSettings:
    """Accessor used by :func:`sceau_shared.runner.serve`."""
    return settings.kafka


def mongo_of(settings: ServiceSettings) -> MongoSettings | None:
    """Accessor for :func:`sceau_shared.runner.serve`: ``None`` for a service without MongoDB."""
    return settings.mongo if isinstance(settings, StoringServiceSettings) else None
