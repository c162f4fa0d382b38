"""What the verifier's routes take from the request: the graph, the client key, the language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Query, Request

from sceau_shared.service import graph_of
from sceau_verifier.graph import VerifierGraph

__all__ = ["AcceptLanguage", "GraphDep", "LangQuery", "client_key"]

GraphDep = Annotated[VerifierGraph, Depends(graph_of)]
"""The process's graph (built by the skeleton's lifespan before the first request)."""

LangQuery = Annotated[
    str | None, Query(max_length=16, description="fr or en (else Accept-Language)")
]
AcceptLanguage = Annotated[str | None, Header(max_length=512)]


def client_key(request: Request) -> str:
    """The rate-limit key of a request: the peer address (a proxy must be configured to pass it)."""
    return request.client.host if request.client is not None else "unknown"
