"""Shared helpers of the verifier tests: the verifier app without Kafka/MongoDB, and re-exports.

Signed credentials and status lists (:mod:`sceau_dev.testing.credentials`) and the loopback
registry stand-in (:mod:`sceau_dev.testing.registry_stand_in`) live in ``sceau_dev`` so the
benchmarks can use them too; they are re-exported here for the verifier tests.
"""

from __future__ import annotations

import asyncio
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from fastapi.responses import JSONResponse, Response

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.ob3.authoring import IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
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
from sceau_dev.testing.shares_stand_in import SharesStandIn
from sceau_shared.events.envelope import Event
from sceau_shared.http import create_base_app
from sceau_shared.ssrf import GuardedTransport
from sceau_verifier.app import DEFINITION
from sceau_verifier.graph import VerifierGraph, assemble
from sceau_verifier.settings import StatusSettings, TrustSettings, VerifierSettings

__all__ = [
    "EPOCH",
    "NAME",
    "Built",
    "DocumentServer",
    "Issuer",
    "RegistryStandIn",
    "SharesStandIn",
    "Standing",
    "StatusList",
    "achievement",
    "build_app",
    "free_port",
    "hosted_web_issuer",
    "serve",
    "settings_for",
    "signed_with",
    "standing_for",
    "tiny_png",
    "verifier_client",
]


@dataclass
class DocumentServer:
    """Serves one document at ``/document`` (JSON, or a VC-JWT as text), never cached.

    For what a credential points at on some other host: a revocation list, a refresh service.
    """

    document: dict[str, Any] | str = field(default_factory=dict)
    status_code: int = 200
    hits: int = 0

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/document")
        async def document() -> Response:
            self.hits += 1
            headers = {"Cache-Control": "no-store"}
            if isinstance(self.document, str):
                return Response(
                    self.document,
                    status_code=self.status_code,
                    media_type="application/vc+jwt",
                    headers=headers,
                )
            return JSONResponse(self.document, status_code=self.status_code, headers=headers)

        return app


#: The OB 3.0 extensions context: defines 1EdTechRevocationList and 1EdTechCredentialRefresh.
OB_EXTENSIONS = "https://purl.imsglobal.org/spec/ob/v3p0/extensions.json"


async def signed_with(issuer: Issuer, **extra: Any) -> dict[str, Any]:
    """An ``ob3-v2`` credential of ``issuer`` with ``extra`` top-level properties, signed.

    The OB 3.0 extensions context is added (as in 1EdTech's own complete example) so the
    1EdTech status and refresh types are defined terms.
    """
    moment = (datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
    unsigned = build_credential(
        achievement("MicroCredential"),
        Recipient(email="learner@example.org", name="Alex Tremblay"),
        IssuerProfile(id=issuer.did, name=issuer.name),
        "ob3-v2",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=moment,
        status=[],
    )
    unsigned["@context"].append(OB_EXTENSIONS)
    unsigned.update(extra)
    signed = await sign_credential(unsigned, issuer.key, Profile.OB3_V2, created=moment)
    if not isinstance(signed, dict):
        raise TypeError("an ob3-v2 credential is a JSON object")
    return signed


def tiny_png() -> bytes:
    """A valid 1x1 greyscale PNG (what baked-badge tests bake credentials into)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = struct.pack(">I", zlib.crc32(kind + data))
        return struct.pack(">I", len(data)) + kind + data + crc

    header = chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    return b"\x89PNG\r\n\x1a\n" + header + pixels + chunk(b"IEND", b"")


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
    events: list[Event] = field(default_factory=list)
    graphs: list[VerifierGraph] = field(default_factory=list)


def build_app(settings: VerifierSettings) -> Built:
    """The verifier's routes, middleware and graph, with events recorded in memory, not Kafka.

    The lifespan builds the graph as the skeleton does (:func:`sceau_verifier.graph.assemble`),
    runs its background loops and yields it as the skeleton's state; no broker is opened.
    """
    built = Built(app=FastAPI())

    async def publish(event: Event) -> None:
        built.events.append(event)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[dict[str, Any]]:
        graph = assemble(
            settings,
            guarded=httpx.AsyncClient(transport=GuardedTransport(allow_private=True)),
            registry_http=httpx.AsyncClient(),
            publish=publish,
        )
        built.graphs.append(graph)
        loops = [asyncio.create_task(loop(), name=name) for name, loop in graph.background()]
        try:
            yield {"graph": graph, "runtime": None}
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await graph.close()

    built.app = create_base_app(
        title=DEFINITION.title,
        version=DEFINITION.version,
        description=DEFINITION.description,
        lifespan=lifespan,
        readiness={},
        max_body_bytes=settings.http.max_body_bytes,
    )
    for router in DEFINITION.routers:
        built.app.include_router(router)
    if DEFINITION.configure is not None:
        DEFINITION.configure(built.app, settings)
    return built


@asynccontextmanager
async def served(built: Built) -> AsyncIterator[httpx.AsyncClient]:
    """``built``'s app started (lifespan) behind an in-process client at ``http://verifier``."""
    async with (
        LifespanManager(built.app) as manager,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(manager.app), base_url="http://verifier"
        ) as client,
    ):
        yield client


@asynccontextmanager
async def verifier_client(settings: VerifierSettings) -> AsyncIterator[httpx.AsyncClient]:
    """The verifier app (events in memory) behind an in-process client at ``http://verifier``."""
    async with served(build_app(settings)) as client:
        yield client
