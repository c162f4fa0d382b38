"""What the registry's routes share: the graph, the rate limit, problem responses, path types."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Path, Request

from sceau_registry.graph import RegistryGraph
from sceau_registry.trust.callers import TOKEN_HEADER, CallerLimiter
from sceau_shared.http import PROBLEM_MEDIA_TYPE
from sceau_shared.service import graph_of

__all__ = ["PROBLEMS", "PROBLEM_RESPONSE", "GraphDep", "InstitutionIdPath", "rate_limit"]

GraphDep = Annotated[RegistryGraph, Depends(graph_of)]
"""The process's object graph (built in the lifespan before the app serves)."""

PROBLEM_RESPONSE: dict[str, Any] = {"content": {PROBLEM_MEDIA_TYPE: {}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Malformed request", **PROBLEM_RESPONSE},
    404: {"description": "Not found", **PROBLEM_RESPONSE},
    422: {"description": "Invalid parameters", **PROBLEM_RESPONSE},
    429: {"description": "Too many requests (see Retry-After)", **PROBLEM_RESPONSE},
}

InstitutionIdPath = Annotated[str, Path(pattern=r"^[a-z0-9][a-z0-9-]{1,62}$")]


def rate_limit(request: Request) -> None:
    """Take a token from the caller's bucket or answer 429 with Retry-After.

    The limiter lives in ``app.state`` (set by the app's ``configure`` step) because the hot
    path, in front of the framework, draws from the same buckets.
    """
    limiter: CallerLimiter = request.app.state.rate_limiter
    client = request.client.host if request.client else "unknown"
    limiter.check(client, request.headers.get(TOKEN_HEADER))
