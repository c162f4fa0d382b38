"""Shared helpers of the verifier tests: signed credentials and a loopback registry stand-in.

Everything here is real: credentials are built and signed by the credential engine, status lists
are real signed Bitstring Status List / StatusList2021 credentials, and the registry stand-in is
a real HTTP server (uvicorn on 127.0.0.1) speaking the registry's public contract
(CONTRACTS.md: ``GET /v1/status-lists/{id}`` with ETag/304, ``GET /v1/issuers/{did}?at=``).
"""

from __future__ import annotations

import asyncio
import hashlib
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sceau_credentials.dids import PublishedKey, institution_did_document
from sceau_credentials.engine import sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import (
    AchievementVersion,
    Assessment,
    AssessmentMethod,
    Competency,
    DeliveryMode,
    IssuerProfile,
    Level,
    Pacing,
    QualityAssurance,
    Recipient,
)
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.status import (
    Bitstring,
    bitstring_status_list_credential,
    status_entry,
    status_list_2021_credential,
)
from sceau_shared.events import VerificationCompletedV1
from sceau_shared.http import create_base_app
from sceau_shared.ssrf import GuardedTransport
from sceau_verifier.app import DEFINITION
from sceau_verifier.graph import VerifierGraph, assemble
from sceau_verifier.settings import StatusSettings, TrustSettings, VerifierSettings

NAME = {"fr": "Collège Boréal", "en": "Boreal College"}


def achievement(
    kind: str = "MicroCredential", *, achievement_id: str | None = None
) -> AchievementVersion:
    """A bilingual micro-credential with competencies, a level, hours and an assessment."""
    return AchievementVersion(
        id=achievement_id or f"https://boreal.example/achievements/{uuid.uuid4().hex[:8]}",
        version="1",
        achievement_type=kind,
        default_language="fr",
        name={"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
        description={
            "fr": "Intégrer l'IA générative dans la planification des cours.",
            "en": "Integrating generative AI into course planning.",
        },
        criteria={
            "fr": "Réaliser un projet de synthèse évalué.",
            "en": "Complete an assessed capstone project.",
        },
        competencies=[
            Competency(
                name={"fr": "Concevoir une activité avec l'IA", "en": "Design an AI activity"},
                url="https://frameworks.example/digcompedu/2.1",
                framework={"fr": "DigCompEdu", "en": "DigCompEdu"},
                code="2.1",
                skill_type="technical",
            )
        ],
        level=Level(
            name={"fr": "Niveau 2", "en": "Level 2"},
            definition_url="https://boreal.example/levels/2",
            scheme={"fr": "Niveaux Boréal", "en": "Boreal levels"},
        ),
        hours=15,
        delivery_mode=DeliveryMode.ONLINE,
        pacing=Pacing.COHORT,
        applied_learning=True,
        assessments=[
            Assessment(
                method=AssessmentMethod.PROJECT,
                name={"fr": "Projet de synthèse", "en": "Capstone project"},
            )
        ],
        credits=0,
        instruction_languages=["en"],
        quality_assurance=[
            QualityAssurance(
                id="https://qa.example/board",
                name={"fr": "Conseil d'assurance qualité", "en": "Quality Assurance Board"},
            )
        ],
    )


@dataclass
class StatusList:
    """One status list (one purpose) of an issuer; ``version`` grows with every change."""

    list_id: str
    purpose: str
    url: str
    format: str = "BitstringStatusList"
    bits: Bitstring = field(default_factory=Bitstring)
    version: int = 1
    ttl_ms: int | None = None
    signed: dict[str, Any] | None = None
    published_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class Issuer:
    """An institution: a did:key signing key, its names, and its status lists."""

    key: SigningKey = field(default_factory=SigningKey.generate)
    name: dict[str, str] = field(default_factory=lambda: dict(NAME))
    lists: dict[str, StatusList] = field(default_factory=dict)
    next_index: int = 7

    @property
    def did(self) -> str:
        return self.key.controller

    def add_list(
        self, base_url: str, purpose: str, *, fmt: str = "BitstringStatusList"
    ) -> StatusList:
        list_id = f"{purpose}-{fmt}-{uuid.uuid4().hex[:8]}"
        status_list = StatusList(
            list_id=list_id,
            purpose=purpose,
            url=f"{base_url}/v1/status-lists/{list_id}",
            format=fmt,
        )
        self.lists[list_id] = status_list
        return status_list

    async def sign_list(self, status_list: StatusList) -> dict[str, Any]:
        """(Re)sign ``status_list`` as it is now (a new version each call)."""
        moment = datetime.now(UTC).replace(microsecond=0)
        if status_list.signed is not None:
            status_list.version += 1
        status_list.published_at = moment
        if status_list.format == "BitstringStatusList":
            unsigned = bitstring_status_list_credential(
                list_url=status_list.url,
                issuer=self.did,
                purpose=status_list.purpose,
                bitstring=status_list.bits,
                valid_from=moment,
                ttl_ms=status_list.ttl_ms,
            )
            signed = await sign_credential(unsigned, self.key, "ob3-v2", created=moment)
        else:
            unsigned = status_list_2021_credential(
                list_url=status_list.url,
                issuer=self.did,
                purpose=status_list.purpose,
                bitstring=status_list.bits,
                issuance_date=moment,
            )
            signed = await sign_credential(unsigned, self.key, "ob3-v1", created=moment)
        assert isinstance(signed, dict)
        status_list.signed = signed
        return signed

    async def set_status(self, status_list: StatusList, index: int, value: bool) -> dict[str, Any]:
        status_list.bits.set(index, value)
        return await self.sign_list(status_list)

    async def issue(
        self,
        profile: str = "ob3-v2",
        *,
        lists: list[StatusList] = (),  # type: ignore[assignment]
        issued_at: datetime | None = None,
        valid_until: datetime | None = None,
        kind: str = "MicroCredential",
        name: dict[str, str] | None = None,
        language: str = "fr",
    ) -> tuple[dict[str, Any] | str, int]:
        """Issue a signed credential; returns it and its status index."""
        index = self.next_index
        self.next_index += 13
        entries = [status_entry(profile, sl.purpose, sl.url, index) for sl in lists]
        moment = (issued_at or datetime.now(UTC) - timedelta(minutes=1)).replace(microsecond=0)
        credential = build_credential(
            achievement(kind),
            Recipient(email="learner@example.org", name="Alex Tremblay"),
            IssuerProfile(id=self.did, name=name or self.name),
            profile,
            credential_id=f"urn:uuid:{uuid.uuid4()}",
            issued_at=moment,
            valid_until=valid_until,
            language=language,
            status=entries,
        )
        signed = await sign_credential(credential, self.key, profile, created=moment)
        return signed, index


@dataclass
class Standing:
    """An institution's registry standing over time (what ``GET /v1/issuers`` answers from)."""

    institution_id: str
    name: dict[str, str]
    accredited_types: list[str]
    # (from, status) sorted by time; the status at ``at`` is the last one with from <= at.
    timeline: list[tuple[datetime, str]]
    # verification method -> (active_from, rotated_at)
    keys: dict[str, tuple[datetime, datetime | None]]

    def answer(self, did: str, at: datetime, method: str | None) -> dict[str, Any]:
        status = "pending"
        for since, value in self.timeline:
            if since <= at:
                status = value
        key = None
        if method is not None and method in self.keys:
            active_from, rotated_at = self.keys[method]
            key = {
                "verification_method": method,
                "valid_at": active_from <= at and (rotated_at is None or at < rotated_at),
                "active_from": active_from.isoformat(),
                "rotated_at": rotated_at.isoformat() if rotated_at else None,
                "revoked_as_of": None,
            }
        return {
            "did": did,
            "registered": True,
            "institution_id": self.institution_id,
            "status": status,
            "accredited": status == "active",
            "accredited_types": self.accredited_types if status == "active" else [],
            "name": self.name,
            "key": key,
        }


EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def standing_for(
    issuer: Issuer, *, types: tuple[str, ...] = ("MicroCredential", "Badge")
) -> Standing:
    """An institution active since 2020 whose key has been valid since then."""
    return Standing(
        institution_id=hashlib.sha256(issuer.did.encode()).hexdigest()[:12],
        name=dict(issuer.name),
        accredited_types=list(types),
        timeline=[(EPOCH, "active")],
        keys={issuer.key.verification_method: (EPOCH, None)},
    )


@dataclass
class RegistryStandIn:
    """The registry's public HTTP contract, served from memory (status lists and trust)."""

    issuers: dict[str, Issuer] = field(default_factory=dict)
    standings: dict[str, Standing] = field(default_factory=dict)
    did_documents: dict[str, dict[str, Any]] = field(default_factory=dict)
    list_requests: int = 0
    issuer_requests: int = 0
    down: bool = False

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/status-lists/{list_id}")
        async def status_list(list_id: str, request: Request) -> Response:
            self.list_requests += 1
            if self.down:
                return Response(status_code=503)
            for issuer in self.issuers.values():
                found = issuer.lists.get(list_id)
                if found is not None and found.signed is not None:
                    etag = f'"{found.list_id}-v{found.version}"'
                    headers = {"ETag": etag}
                    if found.ttl_ms is not None:
                        headers["Cache-Control"] = f"max-age={found.ttl_ms // 1000}"
                    if request.headers.get("if-none-match") == etag:
                        return Response(status_code=304, headers=headers)
                    return JSONResponse(found.signed, headers=headers)
            return JSONResponse({"title": "not found"}, status_code=404)

        @app.get("/institutions/{institution_id}/did.json")
        async def did_document(institution_id: str) -> Response:
            document = self.did_documents.get(institution_id)
            if document is None:
                return JSONResponse({"title": "not found"}, status_code=404)
            return JSONResponse(document, media_type="application/did+json")

        @app.get("/v1/issuers/{did:path}")
        async def issuer(
            did: str, at: str | None = None, verification_method: str | None = None
        ) -> Response:
            self.issuer_requests += 1
            if self.down:
                return Response(status_code=503)
            if not did.startswith("did:"):
                return JSONResponse({"title": "malformed DID"}, status_code=400)
            moment = datetime.fromisoformat(at.replace("Z", "+00:00")) if at else datetime.now(UTC)
            standing = self.standings.get(did)
            if standing is None:
                return JSONResponse(
                    {
                        "did": did,
                        "registered": False,
                        "institution_id": None,
                        "status": None,
                        "accredited": False,
                        "accredited_types": [],
                        "name": {},
                        "key": None,
                    }
                )
            return JSONResponse(standing.answer(did, moment, verification_method))

        return app

    def register(self, issuer: Issuer, **kwargs: Any) -> Standing:
        self.issuers[issuer.did] = issuer
        standing = standing_for(issuer, **kwargs)
        self.standings[issuer.did] = standing
        return standing


def hosted_web_issuer(registry: RegistryStandIn, base: str, institution_id: str) -> Issuer:
    """An institution with a registry-hosted did:web DID whose document the stand-in serves."""
    port = httpx.URL(base).port
    did = f"did:web:127.0.0.1%3A{port}:institutions:{institution_id}"
    key = SigningKey.from_seed(uuid.uuid4().bytes * 2, did, "key-1")
    registry.did_documents[institution_id] = institution_did_document(
        did, [PublishedKey("key-1", key.public_key_multibase)]
    )
    return Issuer(key=key)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@asynccontextmanager
async def serve(app: Any, port: int | None = None, *, lifespan: bool = False) -> AsyncIterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 in this event loop; yield its base URL."""
    chosen = port or free_port()
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=chosen,
        log_level="warning",
        lifespan="on" if lifespan else "off",
        access_log=False,
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(3000):
            if server.started:
                break
            if task.done():
                task.result()
            await asyncio.sleep(0.02)
        yield f"http://127.0.0.1:{chosen}"
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, timeout=10)


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
    graphs: list[VerifierGraph] = field(default_factory=list)


def build_app(settings: VerifierSettings) -> Built:
    """The verifier's routes and graph, with events recorded in memory instead of Kafka.

    The lifespan builds the graph as the skeleton does (:func:`sceau_verifier.graph.assemble`),
    runs its background loops and yields it as the skeleton's state; no broker is opened.
    """
    built = Built(app=FastAPI())

    async def publish(event: VerificationCompletedV1) -> None:
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
    return built
