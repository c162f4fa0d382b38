"""The registry's public HTTP contract served from memory, for tests and benchmarks.

A :class:`RegistryStandIn` answers what a verifier asks the registry (docs/contracts.md:
``GET /v1/status-lists/{id}`` with ETag/304, ``GET /v1/issuers/{did}?at=``, hosted did:web
documents) for :class:`~sceau_dev.testing.credentials.Issuer` institutions, with a standing
(accreditation timeline, key validity) per institution; :func:`serve` runs it (or any ASGI app)
with uvicorn on loopback in the current event loop.
"""

from __future__ import annotations

import asyncio
import hashlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sceau_credentials.dids import PublishedKey, institution_did_document
from sceau_credentials.keys import SigningKey
from sceau_dev.infra.process import free_port
from sceau_dev.testing.credentials import Issuer
from sceau_dev.testing.polling import eventually

__all__ = [
    "EPOCH",
    "RegistryStandIn",
    "Standing",
    "hosted_web_issuer",
    "serve",
    "standing_for",
]


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
    #: Roles held while active (the registry's scopes: issuer, endorser, accreditor).
    roles: list[str] = field(default_factory=lambda: ["issuer"])

    def answer(
        self, did: str, at: datetime, method: str | None, *, window: bool = False
    ) -> dict[str, Any]:
        """The registry's answer about ``did`` as of ``at``.

        ``window``: also send the span of dates around ``at`` with no change point of this
        standing (the registry's ``window``; the verifier then asks once per key and window
        instead of once per issuance time).
        """
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
        answer: dict[str, Any] = {
            "did": did,
            "registered": True,
            "institution_id": self.institution_id,
            "status": status,
            "accredited": status == "active",
            "accredited_types": self.accredited_types if status == "active" else [],
            "roles": list(self.roles) if status == "active" else [],
            "name": self.name,
            "key": key,
        }
        if window:
            answer["window"] = self._window(at, method)
        return answer

    def _window(self, at: datetime, method: str | None) -> dict[str, str | None]:
        points = [since for since, _ in self.timeline]
        if method is not None and method in self.keys:
            active_from, rotated_at = self.keys[method]
            points += [active_from] if rotated_at is None else [active_from, rotated_at]
        start = max((p for p in points if p <= at), default=None)
        end = min((p for p in points if p > at), default=None)
        return {
            "from": None if start is None else start.isoformat(),
            "until": None if end is None else end.isoformat(),
        }


EPOCH = datetime(2020, 1, 1, tzinfo=UTC)


def standing_for(
    issuer: Issuer,
    *,
    types: tuple[str, ...] = ("MicroCredential", "Badge"),
    roles: tuple[str, ...] = ("issuer",),
) -> Standing:
    """An institution active since 2020 whose key has been valid since then."""
    return Standing(
        roles=list(roles),
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
    #: Send each trust answer's window, as the registry does (off: every date asked anew).
    windows: bool = False

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
                        "roles": [],
                        "name": {},
                        "key": None,
                    }
                )
            if self.windows:
                return JSONResponse(standing.answer(did, moment, verification_method, window=True))
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

    def started() -> bool:
        if task.done():
            task.result()  # a server that could not start fails the caller now
        return bool(server.started)

    try:
        await eventually(
            started, timeout_s=60, interval_s=0.02, message=f"uvicorn on port {chosen}"
        )
        yield f"http://127.0.0.1:{chosen}"
    finally:
        server.should_exit = True
        # Longer than a service's own stop (its background loops get 12 s, then 5 s of
        # insisting: sceau_shared.service.app.stop_tasks), which a slow broker can use up.
        await asyncio.wait_for(task, timeout=30)


@contextmanager
def serve_in_thread(app: Any, port: int | None = None) -> Iterator[str]:
    """Run ``app`` with uvicorn on 127.0.0.1 in a thread with its own event loop; yield its URL.

    For tests whose own event loop is busy (a flood of concurrent requests): a stand-in served
    in that loop answers only when the loop gets round to it, so a service under test can time
    out on it and report the stand-in's slowness as the service's fault.
    """
    chosen = port or free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=chosen, log_level="warning", lifespan="off", access_log=False
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"stand-in-{chosen}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError(f"uvicorn on port {chosen} stopped before it started")
        if time.monotonic() > deadline:
            raise TimeoutError(f"uvicorn on port {chosen} did not start within 60 s")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{chosen}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
