"""OpenID4VP requests at the verifier: create, serve to the wallet, take its answer, read it.

The flow (docs/verifier.md, "OpenID4VP"): the employer creates a request (what it asks for);
the verifier stores it and gives a deep link / QR code naming the signed request object by
reference; the wallet fetches it, presents, and POSTs ``vp_token`` + ``state`` to the
``response_uri`` (``direct_post``); the verifier checks the presentation (nonce = challenge,
client_id = domain, holder signature, holder binding, the query) with the usual verification,
records the one accepted answer, and the employer reads it, verified again at reading time.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sceau_credentials.keys import SigningKey
from sceau_shared.events import VerificationCompletedV1
from sceau_shared.events.envelope import utcnow
from sceau_verifier.errors import Oid4vpRefused, Oid4vpUnauthorized
from sceau_verifier.oid4vp.repository import Oid4vpRepository
from sceau_verifier.oid4vp.rules import (
    Wanted,
    client_id_of,
    deep_link,
    holder_of,
    presentation_refusal,
    read_vp_token,
    request_object,
    sign_request_object,
)
from sceau_verifier.oid4vp.schemas import (
    Oid4vpCheck,
    Oid4vpCreated,
    Oid4vpRequestIn,
    Oid4vpStatus,
    WantedOut,
)
from sceau_verifier.oid4vp.texts import REFUSALS, TEXTS
from sceau_verifier.schemas import Lang, VerifyResponse
from sceau_verifier.service import VerificationService
from sceau_verifier.settings import Oid4vpSettings

__all__ = ["Oid4vpService", "digest"]

_log = logging.getLogger(__name__)

#: The checks every accepted presentation passed, in the order the page lists them.
_CHECKS = (
    ("nonce", "check_nonce"),
    ("audience", "check_audience"),
    ("holder_binding", "check_holder"),
    ("query", "check_query"),
)


def digest(token: str) -> str:
    """The stored form of a read token (the token itself is never stored)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _refused(reason: str) -> Oid4vpRefused:
    en, fr = REFUSALS[reason]
    return Oid4vpRefused(reason, en, fr)


@dataclass(frozen=True)
class _Request:
    """A stored request as the service reads it."""

    request_id: str
    nonce: str
    state: str
    client_id: str
    wanted: Wanted
    created_at: datetime
    expires_at: datetime
    read_hash: str

    @classmethod
    def of(cls, doc: Mapping[str, Any]) -> _Request:
        return cls(
            request_id=doc["_id"],
            nonce=doc["nonce"],
            state=doc["state"],
            client_id=doc["client_id"],
            wanted=Wanted(doc.get("achievement_id"), doc.get("issuer")),
            created_at=doc["created_at"],
            expires_at=doc["expires_at"],
            read_hash=doc["read_hash"],
        )


class Oid4vpService:
    """The OpenID4VP use cases, on the shared store and the process's verification service."""

    def __init__(
        self,
        repository: Oid4vpRepository,
        verification: VerificationService,
        settings: Oid4vpSettings,
        *,
        public_base_url: str,
        client_name: str = "Sceau",
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._repo = repository
        self._verification = verification
        self._key = SigningKey.from_seed(settings.seed())
        self._client_id = client_id_of(self._key)
        self._base = public_base_url.rstrip("/")
        self._ttl = timedelta(seconds=settings.request_ttl_s)
        self._keep = timedelta(seconds=settings.result_ttl_s)
        self._client_name = client_name
        self._clock = clock

    @property
    def client_id(self) -> str:
        """``decentralized_identifier:did:key:…`` (the domain a presentation must name)."""
        return self._client_id

    @property
    def repository(self) -> Oid4vpRepository:
        """The store (the graph's sweeper loop and ``close`` use it)."""
        return self._repo

    def request_uri(self, request_id: str) -> str:
        """Where the wallet fetches the signed request object."""
        return f"{self._base}/oid4vp/request/{request_id}"

    def response_uri(self, request_id: str) -> str:
        """Where the wallet POSTs its answer (``direct_post``)."""
        return f"{self._base}/oid4vp/response/{request_id}"

    async def create(self, asked: Oid4vpRequestIn) -> Oid4vpCreated:
        """Store a new request; the read token is returned once and only its hash is kept."""
        now = self._clock()
        request_id = secrets.token_urlsafe(24)
        token = secrets.token_urlsafe(32)
        expires = now + self._ttl
        await self._repo.add_request(
            {
                "_id": request_id,
                "nonce": secrets.token_urlsafe(24),
                "state": secrets.token_urlsafe(16),
                "client_id": self._client_id,
                "achievement_id": asked.achievement_id,
                "issuer": asked.issuer,
                "read_hash": digest(token),
                "created_at": now,
                "expires_at": expires,
                "purge_at": expires + self._keep,
            }
        )
        return Oid4vpCreated(
            request_id=request_id,
            read_token=token,
            client_id=self._client_id,
            request_uri=self.request_uri(request_id),
            deep_link=deep_link(self._client_id, self.request_uri(request_id)),
            status_url=f"{self._base}/v1/oid4vp/requests/{request_id}",
            expires_at=expires,
        )

    async def _open(self, request_id: str) -> _Request:
        """The request a wallet addresses: refused when unknown, expired or already answered."""
        doc = await self._repo.request(request_id)
        if doc is None:
            raise _refused("not_found")
        request = _Request.of(doc)
        if self._clock() >= request.expires_at:
            raise _refused("expired")
        if await self._repo.answer(request_id) is not None:
            raise _refused("already_answered")
        return request

    async def request_jwt(self, request_id: str) -> str:
        """The signed request object of a pending request (fetched by the wallet)."""
        request = await self._open(request_id)
        claims = request_object(
            client_id=request.client_id,
            response_uri=self.response_uri(request_id),
            nonce=request.nonce,
            state=request.state,
            wanted=request.wanted,
            issued_at=self._clock(),
            expires_at=request.expires_at,
            client_name=self._client_name,
        )
        return sign_request_object(claims, self._key)

    async def receive(
        self,
        request_id: str,
        *,
        vp_token: str | None,
        state: str | None,
        error: str | None,
    ) -> None:
        """Take a wallet's ``direct_post`` answer: record it once, or refuse it unrecorded."""
        request = await self._open(request_id)
        if state is None or not hmac.compare_digest(state.encode(), request.state.encode()):
            raise _refused("wrong_state")
        now = self._clock()
        if vp_token is None and error is not None:
            code = "".join(ch for ch in error[:64] if ch.isalnum() or ch in "_-.") or "error"
            declined = {"_id": request_id, "status": "declined", "wallet_error": code}
            if not await self._repo.record_answer({**declined, **self._times(now, request)}):
                raise _refused("already_answered")
            return
        try:
            presentations = read_vp_token(vp_token)
        except ValueError as exc:
            _log.info("OpenID4VP answer refused: %s", exc)
            raise _refused("malformed") from exc
        reports: list[VerificationCompletedV1] = []
        for presentation in presentations:
            verified = await self._verification.check(
                presentation, lang="en", challenge=request.nonce, domain=request.client_id
            )
            reason = presentation_refusal(presentation, verified.answer, request.wanted)
            if reason is not None:
                raise _refused(reason)
            reports.extend(verified.reports)
        recorded: dict[str, Any] = {
            "_id": request_id,
            "status": "answered",
            # As JSON text: credentials may hold keys MongoDB refuses ("$…", dotted IRIs).
            "presentations": json.dumps(presentations, separators=(",", ":")),
            "holder": holder_of(presentations[0]),
        }
        if not await self._repo.record_answer({**recorded, **self._times(now, request)}):
            raise _refused("already_answered")
        budget = self._verification.budget()
        self._verification.report(budget.take(reports))

    def _times(self, now: datetime, request: _Request) -> dict[str, datetime]:
        return {"answered_at": now, "purge_at": max(now, request.expires_at) + self._keep}

    async def _readable(self, request_id: str, token: str | None) -> _Request:
        doc = await self._repo.request(request_id)
        if doc is None or token is None:
            raise Oid4vpUnauthorized("No presentation request has this id for this token.")
        request = _Request.of(doc)
        if not hmac.compare_digest(digest(token).encode(), request.read_hash.encode()):
            raise Oid4vpUnauthorized("No presentation request has this id for this token.")
        return request

    async def state(self, request_id: str, token: str | None) -> str:
        """``pending``, ``answered``, ``declined`` or ``expired`` (cheap: what pages poll)."""
        request = await self._readable(request_id, token)
        answer = await self._repo.answer(request_id)
        return self._status(request, answer)

    def _status(self, request: _Request, answer: Mapping[str, Any] | None) -> str:
        if answer is not None:
            return str(answer["status"])
        return "expired" if self._clock() >= request.expires_at else "pending"

    async def read(self, request_id: str, token: str | None, *, lang: Lang) -> Oid4vpStatus:
        """The request's status; once answered, each presentation verified again now."""
        request = await self._readable(request_id, token)
        answer = await self._repo.answer(request_id)
        status = self._status(request, answer)
        asked = WantedOut(
            achievement_id=request.wanted.achievement_id, issuer=request.wanted.issuer
        )
        base = Oid4vpStatus(
            request_id=request_id,
            status=status,
            asked=asked,
            expires_at=request.expires_at,
        )
        if answer is None:
            return base
        if status == "declined":
            return base.model_copy(
                update={
                    "answered_at": answer["answered_at"],
                    "wallet_error": answer["wallet_error"],
                }
            )
        results: list[VerifyResponse] = []
        for presentation in json.loads(answer["presentations"]):
            verified = await self._verification.check(
                presentation, lang=lang, challenge=request.nonce, domain=request.client_id
            )
            results.append(verified.answer)
        position = 0 if lang == "fr" else 1
        checks = [
            Oid4vpCheck(
                name=name,
                reason=TEXTS[key][position],
                reason_fr=TEXTS[key][0],
                reason_en=TEXTS[key][1],
            )
            for name, key in _CHECKS
        ]
        return base.model_copy(
            update={
                "answered_at": answer["answered_at"],
                "holder": answer.get("holder"),
                "verified": all(r.verified for r in results),
                "checks": checks,
                "presentations": results,
            }
        )
