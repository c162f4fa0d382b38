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
    optional: Mapping[str, str] | None = None,
) -> FastAPI:
    """Create a FastAPI app with problem handlers, ``/healthz``, ``/readyz`` and a body limit.

    ``/healthz`` answers as long as the event loop runs (liveness). ``/readyz`` runs every readiness
    check with a timeout and reports each component. A dependency named in ``optional`` (with
    what waits while it is down) is one the API still answers without: its failure makes the
    service ``degraded`` (200), so an orchestrator keeps routing traffic to a replica that can
    still serve. Any other failing dependency answers 503 naming it, and traffic goes elsewhere.
    """
    optional = dict(optional or {})
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
        """Check every dependency (Kafka, MongoDB, ...) and say what the service can still do."""
        failures = dict(
            zip(
                readiness,
                await asyncio.gather(
                    *(_failure(check(app), readiness_timeout_s) for check in readiness.values())
                ),
                strict=True,
            )
        )
        down = {name: error for name, error in failures.items() if error is not None}
        checks = {name: down.get(name, "ok") for name in readiness}
        components = {name: _component(down.get(name), optional.get(name)) for name in readiness}
        blocking = sorted(name for name in down if name not in optional)
        if blocking:
            return JSONResponse(
                {
                    "type": "https://sceau.dev/problems/not-ready",
                    "title": "Not ready",
                    "status": 503,
                    "detail": "Dependencies not ready: " + ", ".join(blocking),
                    "checks": checks,
                    "components": components,
                },
                status_code=503,
                media_type=PROBLEM_MEDIA_TYPE,
            )
        status = "degraded" if down else "ready"
        return JSONResponse({"status": status, "checks": checks, "components": components})

    return app


async def _failure(check: Awaitable[None], timeout_s: float) -> str | None:
    """``None`` when ``check`` passes in time, else what went wrong (one line)."""
    try:
        await asyncio.wait_for(check, timeout=timeout_s)
    except Exception as exc:  # noqa: BLE001 - any failure means "down"
        return str(exc) or type(exc).__name__
    return None


def _component(error: str | None, meanwhile: str | None) -> dict[str, object]:
    """One dependency in the readiness answer: up or down, needed or not, and what waits."""
    component: dict[str, object] = {
        "status": "ok" if error is None else "down",
        "required": meanwhile is None,
    }
    if error is not None:
        component["error"] = error
    if meanwhile is not None:
        component["while_down"] = meanwhile
    return component
