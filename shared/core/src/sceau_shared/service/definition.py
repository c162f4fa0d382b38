"""What a service declares about itself; ``create_service_app`` does the rest."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, Protocol, TypeVar

from fastapi import APIRouter, FastAPI
from faststream.kafka import KafkaRouter
from pydantic import SecretStr

from sceau_shared.events import Event
from sceau_shared.runtime import Runtime, ServiceSettings

__all__ = ["BackgroundLoop", "OperatorRoutes", "ServiceDefinition", "ServiceGraph"]

BackgroundLoop = Callable[[], Coroutine[Any, Any, None]]
"""A long-running coroutine factory (outbox relay, batch worker...); cancelled at shutdown."""


class ServiceGraph(Protocol):
    """The typed object graph a service's composition root builds once per process."""

    def background(self) -> Sequence[tuple[str, BackgroundLoop]]:
        """The named loops to run while the service serves (started after the consumers)."""
        ...

    async def close(self) -> None:
        """Release what the graph owns (worker processes, HTTP clients); connections excepted."""
        ...


S = TypeVar("S", bound=ServiceSettings)
G = TypeVar("G", bound=ServiceGraph)


@dataclass(frozen=True)
class OperatorRoutes:
    """Where a service's operator API lives and which setting holds its bearer token."""

    prefixes: tuple[str, ...]
    token: Callable[[Any], SecretStr | None]
    setting_name: str


@dataclass(frozen=True)
class ServiceDefinition(Generic[S, G]):
    """One service, described once: the skeleton reads nothing else.

    Attributes:
        name: Service name (telemetry, Kafka client id, logs).
        title: OpenAPI title.
        description: OpenAPI description (what the API is for, how to authenticate).
        version: The service package's version.
        build_graph: The composition root: builds the typed graph from settings and connections
            (may do I/O such as creating indexes). Runs before any consumer starts.
        routers: The HTTP routers (module-level declarations under the service's ``api/``).
        consumers: Builds the service's FastStream consumer router from its settings (topic
            names depend on the configured prefix), or ``None`` for a service that consumes
            nothing.
        uses_mongo: ``False`` for a service that stores nothing: it neither connects to MongoDB
            nor needs it to be ready.
        operator: The operator API's prefixes and token setting, if the service has one.
        configure: Optional last step on the built app (a service's own middleware).
        publishes: The event types the service produces (its outbox or publisher); with the
            consumer router they make the service's AsyncAPI document.
        answers_without: The dependencies (``"kafka"``, ``"mongo"``) the service's HTTP API
            still answers without, each with what waits or is missing while it is down. Their
            outage makes ``/readyz`` say ``degraded`` (200) instead of 503, so an orchestrator
            keeps routing traffic to the replica. Every other dependency is required.
    """

    name: str
    title: str
    description: str
    version: str
    build_graph: Callable[[S, Runtime], Awaitable[G]]
    routers: Sequence[APIRouter]
    consumers: Callable[[S], KafkaRouter] | None = None
    uses_mongo: bool = True
    operator: OperatorRoutes | None = None
    configure: Callable[[FastAPI, S], None] | None = field(default=None)
    publishes: tuple[type[Event], ...] = ()
    answers_without: Mapping[str, str] = field(default_factory=dict)
