"""Share links resolved through the issuer, each answer kept for a couple of seconds.

A share token (``/s/{token}``) is a bearer capability the learner hands to an employer. The
issuer owns everything about it (consent, expiry, revocation, hidden fields) and answers
``GET {issuer}/v1/shares/{token}`` with the document to show (SHARING.md). The verifier stores
nothing: it keeps each answer for ``shares.cache_ttl_s`` (2 s by default) so that a link opened
many times costs one issuer request per TTL, while a share the learner revokes answers 410
within seconds. Refusals (404, 410) are kept as long as documents, so guessing tokens cannot
turn the verifier into a load generator against the issuer; failures are never kept.

An answer past its TTL is still served for one more TTL while a single background request
refreshes it (stale-while-revalidate): a busy link never waits for the issuer, and a revocation
shows within two TTLs plus one issuer request. Past that, or when the refresh failed, the next
opening waits for the issuer (and gets 503 if it is down: a share is never shown from memory
for longer than that).

Cache keys are ``sha256(token)``; the token is kept (in memory only) beside its answer so the
background refresh can ask for it again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import random
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sceau_shared.cache import TtlCache
from sceau_verifier.errors import ShareGone, ShareNotFound, SharesUnavailable
from sceau_verifier.settings import SharesSettings

__all__ = ["Share", "ShareClient", "token_digest", "well_formed"]

_log = logging.getLogger(__name__)

_TOKEN = re.compile(r"[A-Za-z0-9_-]{16,128}")
_SHARE_URL = re.compile(r"(/v1/shares/|/s/)[^/\s?\"']+")


class _HideShareTokens(logging.Filter):
    """Mask share tokens in URLs httpx logs (``HTTP Request: GET …/v1/shares/<token>``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if "/v1/shares/" in message or "/s/" in message:
            record.msg = _SHARE_URL.sub(r"\1[token]", message)
            record.args = None
        return True


def _hide_tokens_in_http_logs() -> None:
    """Install the filter once on httpx's logger (it logs every request's URL at INFO)."""
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _HideShareTokens) for f in logger.filters):
        logger.addFilter(_HideShareTokens())


def well_formed(token: str) -> bool:
    """Whether ``token`` could be a share token (urlsafe base64, 16 to 128 characters)."""
    return _TOKEN.fullmatch(token) is not None


def token_digest(token: str) -> str:
    """sha256 hex of a token: how caches and logs may name it."""
    return hashlib.sha256(token.encode()).hexdigest()


class _Answer(BaseModel):
    """The issuer's ``GET /v1/shares/{token}`` 200 body (unknown fields ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    share_id: str = Field(min_length=1, max_length=128)
    institution_id: str = Field(min_length=1, max_length=128)
    credential_id: str = Field(min_length=1, max_length=512)
    expires_at: datetime | None = None
    hidden: list[str] = Field(default_factory=list)
    document: dict[str, Any] | str


class _Gone(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    reason: str = "revoked"


@dataclass(frozen=True)
class Share:
    """A share the issuer says may be shown now.

    Attributes:
        share_id: public id of the share (what events carry; never the token).
        institution_id: the issuing institution.
        credential_id: the original credential's id.
        expires_at: when the link stops working (``None``: permanent public link).
        hidden: the fields left out of the shown document (e.g. ``result``, ``evidence``).
        document: the document to verify and show (JSON-LD object or compact VC-JWT).
        digest: sha256 of the issuer's answer bytes (the proof memo's key for the document).
    """

    share_id: str
    institution_id: str
    credential_id: str
    expires_at: datetime | None
    hidden: tuple[str, ...]
    document: Mapping[str, Any] | str
    digest: str


@dataclass(frozen=True)
class _Refusal:
    status: Literal[404, 410]
    reason: str | None = None


_Outcome = Share | _Refusal


@dataclass(frozen=True)
class _Entry:
    fresh_until: float
    outcome: _Outcome
    token: str


class ShareClient:
    """Resolve share tokens through the issuer with a short, bounded cache.

    Concurrent openings of one uncached share wait for a single issuer request.

    Args:
        client: HTTP client (the issuer's URL is operator-configured: no SSRF guard).
        settings: issuer URL, timeout, cache TTL and bound, answer size limit.
        clock: monotonic time source (injectable for tests).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: SharesSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        # Entries live two TTLs: fresh for the first, served while refreshing in the second.
        self._cache: TtlCache[str, _Entry] = TtlCache(
            ttl_s=2 * settings.cache_ttl_s,
            max_entries=settings.cache_max_entries,
            clock=clock,
        )
        self._inflight: dict[str, asyncio.Future[_Outcome]] = {}
        self._refreshing: dict[str, asyncio.Task[None]] = {}
        _hide_tokens_in_http_logs()
        self.requests = 0
        """Number of issuer requests made (tests and the benchmark read it)."""

    def held(self, token: str) -> Share | None:
        """The share ``token`` names when its answer is held here, else ``None``; never fetches.

        What :meth:`resolve` would return without waiting (a stale held answer also starts its
        background refresh, as there); a held refusal, an unknown or a malformed token give
        ``None``, for :meth:`resolve` to handle.
        """
        if not well_formed(token):
            return None
        key = token_digest(token)
        entry = self._cache.get(key)
        if entry is None or isinstance(entry.outcome, _Refusal):
            return None
        if entry.fresh_until <= self._clock():
            self._refresh(key, token)
        return entry.outcome

    async def resolve(self, token: str) -> Share:
        """The share ``token`` names, if it may be shown now.

        Raises:
            ShareNotFound: unknown or malformed token, or a credential not accepted by its learner.
            ShareGone: the learner revoked the share, or it expired.
            SharesUnavailable: the issuer did not answer usably.
        """
        if not well_formed(token):
            raise ShareNotFound("No share has this link.")
        key = token_digest(token)
        entry = self._cache.get(key)
        if entry is None:
            outcome = await self._shared_fetch(key, token)
        else:
            outcome = entry.outcome
            if entry.fresh_until <= self._clock():
                self._refresh(key, token)
        if isinstance(outcome, _Refusal):
            if outcome.status == 410:
                raise ShareGone(outcome.reason or "revoked")
            raise ShareNotFound("No share has this link.")
        return outcome

    async def _shared_fetch(self, key: str, token: str) -> _Outcome:
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[_Outcome] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        held = self._cache.entry(key)
        try:
            outcome = await self._fetch(token, held[1].outcome if held is not None else None)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # waiters re-raise it; nobody else needs to retrieve it
            raise
        else:
            future.set_result(outcome)
            self._store(key, token, outcome)
            return outcome
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]

    def _store(self, key: str, token: str, outcome: _Outcome) -> None:
        # Freshness drawn between 3/4 and all of the TTL: shares first opened together (a page
        # listing several, a benchmark's warm-up) are not all refreshed in the same instant.
        ttl = self._settings.cache_ttl_s
        fresh_until = self._clock() + ttl * (0.75 + 0.25 * random.random())  # noqa: S311
        self._cache.put(key, _Entry(fresh_until, outcome, token))

    def _refresh(self, key: str, token: str) -> None:
        """Ask the issuer again in the background (one request per share at a time)."""
        if key in self._refreshing or key in self._inflight:
            return

        async def run() -> None:
            try:
                await self._shared_fetch(key, token)
            except SharesUnavailable as exc:
                # The entry expires at the end of its grace TTL; the next opening then waits
                # for the issuer and answers 503 if it is still down.
                _log.warning("share refresh failed: %s", exc.detail)
                return
            finally:
                self._refreshing.pop(key, None)

        self._refreshing[key] = asyncio.get_running_loop().create_task(run())

    async def _fetch(self, token: str, held: _Outcome | None = None) -> _Outcome:
        """Ask the issuer; an answer identical to the ``held`` share returns that very object.

        Reusing it skips parsing the document again on every refresh, and keeps the shown
        document the same object (the proof memo knows it by identity).
        """
        url = f"{self._settings.issuer_url.rstrip('/')}/v1/shares/{token}"
        self.requests += 1
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                response = await self._client.get(
                    url, headers={"Accept": "application/json"}, timeout=self._settings.timeout_s
                )
        except (TimeoutError, httpx.HTTPError) as exc:
            # The exception's text may hold the URL, hence the token: only its type is told.
            raise SharesUnavailable(f"issuer unreachable: {type(exc).__name__}") from None
        if len(response.content) > self._settings.max_bytes:
            raise SharesUnavailable("issuer answer too large")
        if response.status_code == 404:
            return _Refusal(404)
        if response.status_code == 410:
            try:
                reason = _Gone.model_validate_json(response.content).reason
            except ValidationError:
                reason = "revoked"
            return _Refusal(410, reason if reason in ("revoked", "expired") else "revoked")
        if response.status_code != 200:
            raise SharesUnavailable(f"issuer answered HTTP {response.status_code}")
        digest = hashlib.sha256(response.content).hexdigest()
        if isinstance(held, Share) and held.digest == digest:
            return held
        try:
            answer = _Answer.model_validate_json(response.content)
        except ValidationError:
            raise SharesUnavailable("issuer answer is not a share") from None
        return Share(
            share_id=answer.share_id,
            institution_id=answer.institution_id,
            credential_id=answer.credential_id,
            expires_at=answer.expires_at,
            hidden=tuple(answer.hidden),
            document=answer.document,
            digest=digest,
        )

    def clear(self) -> None:
        """Forget every cached answer."""
        self._cache.clear()

    async def close(self) -> None:
        """Cancel background refreshes (the graph closes before its HTTP clients)."""
        tasks = list(self._refreshing.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
