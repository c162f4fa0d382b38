"""The registry's real HTTP app (routes, operator guard, rate limit, hot path) over a fake graph.

The app comes from the service's own ``ServiceDefinition``; only the lifespan is left out (it
would open Kafka and MongoDB). What the lifespan would provide — the graph in each request's
state and in ``app.state`` for the hot path — :func:`client` provides from ``app.state.graph``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
from fastapi import FastAPI
from starlette.types import Receive, Scope, Send

from sceau_registry.app import DEFINITION, install_rate_limiter
from sceau_registry.settings import RegistrySettings
from sceau_shared.service import create_service_app
from sceau_shared.settings import TelemetrySettings
from sceau_shared.telemetry import setup_telemetry


def registry_app(settings: RegistrySettings, graph: Any, *, hot: bool = True) -> FastAPI:
    """The app with ``graph`` as its object graph; ``hot=False`` leaves the hot path out."""
    definition = DEFINITION if hot else replace(DEFINITION, configure=install_rate_limiter)
    telemetry = setup_telemetry("registry-test", TelemetrySettings())
    app = create_service_app(definition, settings, telemetry=telemetry)
    app.state.graph = graph
    return app


class _WithGraph:
    """Put ``app.state.graph`` in each request's state, as the lifespan state would be."""

    def __init__(self, app: FastAPI) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = {**scope, "state": {"graph": self.app.state.graph}}
        await self.app(scope, receive, send)


def client(app: FastAPI) -> httpx.AsyncClient:
    """An HTTP client calling ``app`` in process."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=_WithGraph(app)), base_url="http://t"
    )
