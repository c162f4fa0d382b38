"""Base FastAPI application every service builds on: problems, probes and body limit."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse

from sceau_shared.http.bodylimit import BodySizeLimitMiddleware
from sceau_shared.http.problems import PROBLEM_MEDIA_TYPE, install_problem_handlers

ReadinessCheck = Callable[[FastAPI], Awaitable[None]]
"""An async check that raises when a dependency is not ready (it receives the app for its state)."""

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Mapping[str, Any]]]


def create_base_app(
    *,
    title: str,
    version: str,
    description: str,
    lifespan: Lifespan | None,
    readiness: Mapping[str, ReadinessCheck],
    max_body_bytes: int,
    readiness_timeout_s: float = 3.0,
) -> FastAPI:
    """Create a FastAPI app with problem handlers, ``/healthz``, ``/readyz`` and a body limit.

    ``/healthz`` answers as long as the event loop runs (liveness). ``/readyz`` runs every readiness
    check with a timeout and answers 503 naming the failing dependencies, so an orchestrator stops
    routing traffic to a replica that cannot reach Kafka or MongoDB.
    """
    app = FastAPI(title=title, version=version, description=description, lifespan=lifespan)
    install_problem_handlers(app)
    app.add_middleware(BodySizeLimitMiddleware, max_bytes=max_body_bytes)

    @app.get("/healthz", tags=["probes"], summary="Liveness probe")
    async def healthz() -> dict[str, str]:
        """Answer ``ok`` while the process serves requests."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["probes"],
        summary="Readiness probe",
        responses={503: {"description": "A dependency is not reachable"}},
    )
    async def readyz() -> JSONResponse:
        """Check every dependency (Kafka, MongoDB, ...) and say which one is not ready."""
        failures: dict[str, str] = {}
        for name, check in readiness.items():
            try:
                await asyncio.wait_for(check(app), timeout=readiness_timeout_s)
            except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
                failures[name] = str(exc) or type(exc).__name__
        if failures:
            return JSONResponse(
                {
                    "type": "https://sceau.dev/problems/not-ready",
                    "title": "Not ready",
                    "status": 503,
                    "detail": "Dependencies not ready: " + ", ".join(sorted(failures)),
                    "checks": {n: failures.get(n, "ok") for n in readiness},
                },
                status_code=503,
                media_type=PROBLEM_MEDIA_TYPE,
            )
        return JSONResponse({"status": "ready", "checks": dict.fromkeys(readiness, "ok")})

    return app
