"""Public trust answers: issuer lookups as of a date, institution lists, DID documents, DCC export.

Everything here only reads. The hot path (``GET /v1/issuers/{did}``) computes the answer from an
in-memory snapshot of the institution and its keys, so a verifier hammering the registry costs one
MongoDB read per DID per cache period, not per request.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Final, Literal

from sceau_registry.institutions.models import Institution, to_ms
from sceau_registry.institutions.repository import InstitutionPage, Institutions
from sceau_registry.keys.didhosting import hosted_document
from sceau_registry.keys.models import KeyRecord
from sceau_registry.keys.repository import Keys
from sceau_registry.trust.exports import dcc_registry
from sceau_registry.trust.models import answer_for
from sceau_shared.cache import RefreshingCache, TtlCache
from sceau_shared.events import DidMethod, InstitutionStatus, utcnow


def dump(document: Any) -> bytes:
    """Serialise a JSON answer compactly (UTF-8, no ASCII escaping)."""
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode()


MEMO_MAX: Final = 1024


@dataclass(frozen=True)
class Snapshot:
    """What the registry knows about one DID: its institution (if any) and its keys.

    ``answers`` memoizes the JSON answers computed from this snapshot for a given ``at`` and
    method (a batch of credentials shares its issuance date; a file gets checked again); it lives
    and dies with the snapshot, so it is never staler than the snapshot itself.
    """

    institution: Institution | None
    keys: tuple[KeyRecord, ...]
    answers: dict[tuple[datetime, str | None], bytes] = field(
        default_factory=dict, compare=False, repr=False
    )


class TrustService:
    """Read-only answers about institutions and their DIDs."""

    def __init__(
        self,
        institutions: Institutions,
        keys: Keys,
        *,
        cache_ttl_s: float,
        cache_max_entries: int,
        dcc_language: Literal["fr", "en"],
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._institutions = institutions
        self._keys = keys
        self._dcc_language = dcc_language
        self._clock = clock
        self._snapshots: RefreshingCache[str, Snapshot] = RefreshingCache(
            self._load_snapshot, ttl_s=cache_ttl_s, max_entries=cache_max_entries
        )
        self._documents: TtlCache[str, bytes | None] = TtlCache(
            ttl_s=cache_ttl_s, max_entries=cache_max_entries
        )

    # --- invalidation (called by governance and event handlers of this replica) -------------

    def forget(self, *dids: str, institution_id: str | None = None) -> None:
        """Drop cached answers about these DIDs and the institution's hosted document."""
        for did in dids:
            self._snapshots.invalidate(did)
        if institution_id is not None:
            self._documents.invalidate(institution_id)

    def forget_all(self) -> None:
        """Drop every cached answer."""
        self._snapshots.clear()
        self._documents.clear()

    # --- issuers -----------------------------------------------------------------------------

    async def _load_snapshot(self, did: str) -> Snapshot:
        institution = await self._institutions.by_did(did)
        if institution is None:
            institution_id = await self._keys.institution_of(did)
            if institution_id is not None:
                institution = await self._institutions.get(institution_id)
        return Snapshot(institution, tuple(await self._keys.for_did(did)))

    async def snapshot(self, did: str) -> Snapshot:
        """The institution and keys of ``did`` (from memory, reloaded every ``cache_ttl_s``)."""
        snap = await self._snapshots.get(did)
        assert snap is not None  # noqa: S101 - the loader never returns None
        return snap

    def cached_snapshot(self, did: str) -> Snapshot | None:
        """The snapshot of ``did`` if held in memory (no waiting; see RefreshingCache)."""
        return self._snapshots.peek(did)

    def answer(
        self, snap: Snapshot, did: str, *, at: datetime | None, verification_method: str | None
    ) -> bytes:
        """The JSON answer about ``did`` from a snapshot."""
        if at is None:  # "now" moves: never memoized
            return self._compute(snap, did, to_ms(self._clock()), verification_method)
        key = (at, verification_method)
        body = snap.answers.get(key)
        if body is None:
            if len(snap.answers) >= MEMO_MAX:
                snap.answers.clear()
            body = snap.answers[key] = self._compute(snap, did, to_ms(at), verification_method)
        return body

    @staticmethod
    def _compute(
        snap: Snapshot, did: str, moment: datetime, verification_method: str | None
    ) -> bytes:
        answer = answer_for(
            did, snap.institution, snap.keys, at=moment, verification_method=verification_method
        )
        return dump(answer.to_json())

    async def issuer(
        self, did: str, *, at: datetime | None, verification_method: str | None
    ) -> bytes:
        """The JSON answer of ``GET /v1/issuers/{did}``."""
        return self.answer(
            await self.snapshot(did), did, at=at, verification_method=verification_method
        )

    # --- institutions -----------------------------------------------------------------------

    async def get(self, institution_id: str) -> Institution | None:
        """One institution."""
        return await self._institutions.get(institution_id)

    async def page(
        self,
        *,
        status: InstitutionStatus | None,
        category: str | None,
        q: str | None,
        page: int,
        page_size: int,
    ) -> InstitutionPage:
        """A filtered page of institutions."""
        return await self._institutions.page(
            status=status, category=category, q=q, page=page, page_size=page_size
        )

    # --- DID documents and exports -------------------------------------------------------------

    async def hosted_document(self, institution_id: str) -> bytes | None:
        """The DID document the registry hosts for an institution, or None."""
        if (cached := self._documents.get(institution_id)) is not None:
            return cached
        inst = await self._institutions.get(institution_id)
        body: bytes | None = None
        if inst is not None and inst.did_method is DidMethod.HOSTED_WEB and inst.dids:
            did = inst.dids[0]
            document = hosted_document(did, await self._keys.for_did(did), now=to_ms(self._clock()))
            body = dump(document) if document is not None else None
        if body is not None:
            self._documents.put(institution_id, body)
        return body

    async def dcc_export(self) -> bytes:
        """The DCC known-DID registry JSON of the institutions accredited now."""
        institutions = await self._institutions.all()
        now = to_ms(self._clock())
        return dump(dcc_registry(institutions, now=now, language=self._dcc_language))
