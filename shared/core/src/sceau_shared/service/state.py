"""The lifespan state every route reads, the same way in every service."""

from __future__ import annotations

from typing import Any, TypedDict

from fastapi import Request

from sceau_shared.runtime import Runtime

__all__ = ["ServiceState", "graph_of", "runtime_of"]


class ServiceState(TypedDict):
    """What the skeleton's lifespan yields; Starlette copies it into each ``request.state``."""

    runtime: Runtime
    graph: Any


async def graph_of(request: Request) -> Any:
    """The service's object graph; each service's ``api/deps.py`` types it as ``GraphDep``.

    ``async`` so FastAPI calls it on the event loop instead of sending it to its thread pool.
    """
    return request.state.graph


async def runtime_of(request: Request) -> Runtime:
    """The service's live connections (for the rare route that needs them directly)."""
    runtime: Runtime = request.state.runtime
    return runtime
