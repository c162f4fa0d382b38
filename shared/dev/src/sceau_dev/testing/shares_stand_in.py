"""The issuer's share contract served from memory, for the verifier's tests and benchmarks.

A :class:`SharesStandIn` answers ``GET /v1/shares/{token}`` exactly as SHARING.md has the issuer
do: 200 with ``share_id``, ``institution_id``, ``credential_id``, ``expires_at``, ``hidden`` and
the ``document`` (a JSON-LD object or a compact VC-JWT, e.g. signed with
:mod:`sceau_dev.testing.credentials`); 404 problem details for unknown tokens (or credentials
the learner did not accept); 410 problem details of type ``…/share-gone`` with ``reason``
``revoked`` or ``expired``. It also answers the issuer's public
``GET /v1/public/credentials/{id}/supersession`` (R52) for the credentials :meth:`supersede`
names, 404 for the others. Serve it with :func:`sceau_dev.testing.registry_stand_in.serve`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import FastAPI
from fastapi.responses import JSONResponse

__all__ = ["SharesStandIn", "StandInShare"]

_PROBLEMS = "https://sceau.dev/problems/"
_HEADERS = {"Cache-Control": "no-store"}


@dataclass
class StandInShare:
    """One share as the issuer keeps it (the stand-in keeps its token; the issuer does not)."""

    share_id: str
    institution_id: str
    credential_id: str
    document: dict[str, Any] | str
    expires_at: datetime | None = None
    hidden: list[str] = field(default_factory=list)
    revoked: bool = False
    accepted: bool = True

    def answer(self, now: datetime) -> JSONResponse:
        if not self.accepted:
            return _problem(404, "share-not-found", "Share not found")
        if self.revoked or (self.expires_at is not None and self.expires_at <= now):
            reason = "revoked" if self.revoked else "expired"
            return _problem(410, "share-gone", "Share gone", reason=reason)
        return JSONResponse(
            {
                "share_id": self.share_id,
                "institution_id": self.institution_id,
                "credential_id": self.credential_id,
                "expires_at": self.expires_at.isoformat() if self.expires_at else None,
                "hidden": self.hidden,
                "document": self.document,
            },
            headers=_HEADERS,
        )


def _problem(status: int, suffix: str, title: str, **extra: Any) -> JSONResponse:
    body = {"type": _PROBLEMS + suffix, "title": title, "status": status, "detail": title} | extra
    return JSONResponse(
        body, status_code=status, media_type="application/problem+json", headers=_HEADERS
    )


@dataclass
class SharesStandIn:
    """Shares by token, answered as the issuer's public ``GET /v1/shares/{token}``."""

    shares: dict[str, StandInShare] = field(default_factory=dict)
    requests: int = 0
    down: bool = False
    superseded: dict[str, dict[str, Any]] = field(default_factory=dict)
    supersession_asked: list[str] = field(default_factory=list)

    def supersede(
        self, credential_id: str, *, by: str, issuer_did: str, revoked: bool = False
    ) -> None:
        """Record that ``credential_id`` was re-issued as ``by`` (a correction when revoked)."""
        self.superseded[credential_id] = {
            "credential_id": credential_id,
            "issuer_did": issuer_did,
            "superseded_by": by,
            "superseded_at": datetime.now(UTC).isoformat(),
            "revoked": revoked,
        }

    def add(
        self,
        document: dict[str, Any] | str,
        *,
        institution_id: str = "inst-stand-in",
        credential_id: str | None = None,
        expires_at: datetime | None = None,
        hidden: tuple[str, ...] = (),
        state: Literal["active", "revoked", "not-accepted"] = "active",
    ) -> tuple[str, StandInShare]:
        """Share ``document``; return the new token (32 random bytes, urlsafe) and the share."""
        token = secrets.token_urlsafe(32)
        if credential_id is None:
            credential_id = (
                str(document.get("id", "urn:uuid:unknown"))
                if isinstance(document, dict)
                else "urn:uuid:jwt"
            )
        share = StandInShare(
            share_id=secrets.token_urlsafe(12),
            institution_id=institution_id,
            credential_id=credential_id,
            document=document,
            expires_at=expires_at,
            hidden=list(hidden),
            revoked=state == "revoked",
            accepted=state != "not-accepted",
        )
        self.shares[token] = share
        return token, share

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.get("/v1/shares/{token}")
        async def share(token: str) -> JSONResponse:
            self.requests += 1
            if self.down:
                return _problem(503, "unavailable", "Service unavailable")
            found = self.shares.get(token)
            if found is None:
                return _problem(404, "share-not-found", "Share not found")
            return found.answer(datetime.now(UTC))

        @app.get("/v1/public/credentials/{credential_id}/supersession")
        async def supersession(credential_id: str) -> JSONResponse:
            self.supersession_asked.append(credential_id)
            found = self.superseded.get(credential_id)
            if found is None:
                return _problem(404, "not-found", "Not found")
            return JSONResponse(found, headers=_HEADERS)

        return app
