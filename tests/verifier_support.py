"""Shared helpers of the verifier tests: the verifier app without Kafka/MongoDB, and re-exports.

Signed credentials and status lists (:mod:`sceau_dev.testing.credentials`) and the loopback
registry stand-in (:mod:`sceau_dev.testing.registry_stand_in`) live in ``sceau_dev`` so the
benchmarks can use them too; they are re-exported here for the verifier tests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from sceau_dev.infra.process import free_port
from sceau_dev.testing.credentials import NAME, Issuer, StatusList, achievement
from sceau_dev.testing.registry_stand_in import (
    EPOCH,
    RegistryStandIn,
    Standing,
    hosted_web_issuer,
    serve,
    standing_for,
)
from sceau_shared.events import VerificationCompletedV1
from sceau_shared.http import RateLimiter
from sceau_shared.ssrf import GuardedTransport
from sceau_verifier.api import VerifierState
from sceau_verifier.app import create_shell, create_state
from sceau_verifier.engine import Caches, build_caches
from sceau_verifier.pages import create_templates
from sceau_verifier.settings import StatusSettings, TrustSettings, VerifierSettings

__all__ = [
    "EPOCH",
    "NAME",
    "Built",
    "Issuer",
    "RegistryStandIn",
    "Standing",
    "StatusList",
    "achievement",
    "build_app",
    "free_port",
    "hosted_web_issuer",
    "serve",
    "settings_for",
    "standing_for",
]


# --- the verifier app without Kafka/MongoDB (events recorded in memory) ---------------------


def settings_for(registry_url: str, **overrides: Any) -> VerifierSettings:
    """Settings pointing at a loopback registry stand-in (dev switches on for loopback)."""
    host = httpx.URL(registry_url)
    values: dict[str, Any] = {
        "status": StatusSettings(
            allowed_hosts=[f"{host.host}:{host.port}"], allow_private_hosts=True
        ),
        "trust": TrustSettings(registry_url=registry_url),
    }
    values.update(overrides)
    return VerifierSettings(_env_file=None, **values)  # type: ignore[call-arg]


@dataclass
class Built:
    app: FastAPI
    events: list[VerificationCompletedV1] = field(default_factory=list)
    caches: list[Caches] = field(default_factory=list)
    states: list[VerifierState] = field(default_factory=list)


def build_app(settings: VerifierSettings) -> Built:
    """The verifier's routes with a lifespan that records events instead of publishing them."""
    built = Built(app=FastAPI())

    async def publish(event: VerificationCompletedV1) -> None:
        built.events.append(event)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        guarded = httpx.AsyncClient(transport=GuardedTransport(allow_private=True))
        registry_http = httpx.AsyncClient()
        try:
            caches = build_caches(settings, guarded=guarded, registry_http=registry_http)
            built.caches.append(caches)
            limiter = RateLimiter(
                settings.http.rate_limit_per_minute, burst=settings.limits.rate_limit_burst
            )
            state = create_state(settings, caches, publish=publish, limiter=limiter)
            built.states.append(state)
            yield {"verifier": state, "templates": create_templates(), "caches": caches}
            await state.service.drain()
        finally:
            await guarded.aclose()
            await registry_http.aclose()

    built.app = create_shell(settings, lifespan=lifespan)
    return built
