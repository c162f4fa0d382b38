"""Institutions and their audit log: the MongoDB queries and the document/domain mapping.

A governance change and its lifecycle history entry go into the institution document in one
update guarded by a revision number. (On FerretDB 1.24 that guard does not hold against a
*concurrent* writer — see :mod:`sceau_registry.outbox.repository` — so the service also
serializes its own writes to institution documents.) The audit collection is an append-only
projection of those histories: this module exposes no way to update or delete an audit entry, and
:meth:`AuditLog.record_for` re-derives any entry a crash left unwritten.

A DID belongs to one institution: the ``did_owners`` collection holds one document per DID whose
``_id`` is the DID, so the database's unique ``_id`` refuses a second owner on every store
(FerretDB included) and looking an institution up by DID is an ``_id`` read.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from pymongo import ASCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_registry.errors import DidTaken
from sceau_registry.institutions.models import Institution, Role, Scope, StatusChange
from sceau_shared.events import DidMethod, InstitutionStatus, utcnow
from sceau_shared.mongo import Document


class StaleRevision(Exception):
    """The institution changed between read and write (another operator); retry or refuse."""


#: A claim on a DID whose institution was never stored (a crash between the two writes) is
#: given up to another institution after this long (a registration in flight takes seconds).
STALE_CLAIM = timedelta(minutes=10)


class DidOwners:
    """The ``did_owners`` collection: ``_id`` = DID, ``institution_id`` = its one owner."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection

    async def claim(self, did: str, institution_id: str) -> tuple[str, bool]:
        """Make ``institution_id`` the owner of ``did`` unless it has one.

        Returns:
            The owner after the call, and whether this call made the claim.
        """
        try:
            await self.collection.insert_one(
                {"_id": did, "institution_id": institution_id, "claimed_at": utcnow()}
            )
        except DuplicateKeyError:
            doc = await self.collection.find_one({"_id": did})
            if doc is None:  # released meanwhile: try once more
                return await self.claim(did, institution_id)
            return str(doc["institution_id"]), False
        return institution_id, True

    async def owner(self, did: str) -> tuple[str, object] | None:
        """The owner of ``did`` and when it claimed it, if anyone has."""
        doc = await self.collection.find_one({"_id": did})
        return (str(doc["institution_id"]), doc.get("claimed_at")) if doc is not None else None

    async def take_over(self, did: str, stale_owner: str, institution_id: str) -> bool:
        """Move a stale claim to ``institution_id`` (only if ``stale_owner`` still holds it)."""
        result = await self.collection.update_one(
            {"_id": did, "institution_id": stale_owner},
            {"$set": {"institution_id": institution_id, "claimed_at": utcnow()}},
        )
        return result.modified_count == 1

    async def release(self, did: str, institution_id: str) -> None:
        """Give up a claim this institution made (its registration did not happen)."""
        await self.collection.delete_one({"_id": did, "institution_id": institution_id})


# --- mapping ---------------------------------------------------------------------------------


def _change_doc(change: StatusChange) -> Document:
    return {
        "change_id": change.change_id,
        "status": change.status.value,
        "effective_at": change.effective_at,
        "recorded_at": change.recorded_at,
        "actor": change.actor,
        "reason": change.reason,
    }


def _scope_doc(scope: Scope) -> Document:
    return {
        "scope_id": scope.scope_id,
        "role": scope.role.value,
        "achievement_types": list(scope.achievement_types),
        "levels": list(scope.levels),
        "valid_from": scope.valid_from,
        "valid_until": scope.valid_until,
        "accreditor": scope.accreditor,
        "granted_at": scope.granted_at,
        "granted_by": scope.granted_by,
        "reason": scope.reason,
        "withdrawn_at": scope.withdrawn_at,
        "withdrawn_by": scope.withdrawn_by,
        "withdraw_reason": scope.withdraw_reason,
    }


def institution_doc(inst: Institution) -> Document:
    """Return the stored form of an institution."""
    return {
        "_id": inst.institution_id,
        "name": {"fr": inst.name_fr, "en": inst.name_en},
        "category": inst.category,
        "jurisdiction": inst.jurisdiction,
        "domain": inst.domain,
        "qa_body": inst.qa_body,
        "contact_email": inst.contact_email,
        "did_method": inst.did_method.value,
        "registered_at": inst.registered_at,
        "history": [_change_doc(c) for c in inst.history],
        "scopes": [_scope_doc(s) for s in inst.scopes],
        "dids": list(inst.dids),
        "languages": list(inst.languages),
        "approvals": list(inst.approvals),
        "status": inst.status.value,
        "rev": inst.rev,
    }


def institution_from(doc: Document) -> Institution:
    """Rebuild an institution from its stored form."""
    return Institution(
        institution_id=doc["_id"],
        name_fr=doc["name"].get("fr", ""),
        name_en=doc["name"].get("en", ""),
        category=doc["category"],
        jurisdiction=doc["jurisdiction"],
        domain=doc.get("domain"),
        qa_body=doc.get("qa_body"),
        contact_email=doc.get("contact_email"),
        did_method=DidMethod(doc["did_method"]),
        registered_at=doc["registered_at"],
        history=tuple(
            StatusChange(
                change_id=c["change_id"],
                status=InstitutionStatus(c["status"]),
                effective_at=c["effective_at"],
                recorded_at=c["recorded_at"],
                actor=c["actor"],
                reason=c["reason"],
            )
            for c in doc["history"]
        ),
        scopes=tuple(
            Scope(
                scope_id=s["scope_id"],
                role=Role(s["role"]),
                achievement_types=tuple(s["achievement_types"]),
                levels=tuple(s.get("levels") or ()),
                valid_from=s["valid_from"],
                valid_until=s.get("valid_until"),
                accreditor=s.get("accreditor"),
                granted_at=s["granted_at"],
                granted_by=s["granted_by"],
                reason=s.get("reason", ""),
                withdrawn_at=s.get("withdrawn_at"),
                withdrawn_by=s.get("withdrawn_by"),
                withdraw_reason=s.get("withdraw_reason"),
            )
            for s in doc.get("scopes") or ()
        ),
        dids=tuple(doc.get("dids") or ()),
        languages=tuple(doc.get("languages") or ("fr", "en")),
        approvals=tuple(doc.get("approvals") or ()),
        rev=int(doc.get("rev", 0)),
    )


# --- institutions ----------------------------------------------------------------------------


@dataclass(frozen=True)
class InstitutionPage:
    """One page of institutions and the total matching the filters."""

    items: list[Institution]
    total: int


class Institutions:
    """The ``institutions`` collection (one document per institution)."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self.collection = collection
        self.owners = DidOwners(collection.database["did_owners"])

    async def ensure_indexes(self) -> None:
        """Index DID lookups and the public list's filters."""
        await self.collection.create_index("dids")
        await self.collection.create_index([("status", ASCENDING), ("category", ASCENDING)])

    async def insert(self, inst: Institution) -> bool:
        """Store a new institution; False if the id is taken.

        Its DIDs are claimed first: a DID another institution owns raises :class:`DidTaken`
        and nothing is stored (claims made by this call are given back).
        """
        claimed: list[str] = []
        try:
            for did in inst.dids:
                if await self._claim(did, inst.institution_id):
                    claimed.append(did)
            await self.collection.insert_one(institution_doc(inst))
        except DuplicateKeyError:
            await self._release(claimed, inst.institution_id)
            return False
        except DidTaken:
            await self._release(claimed, inst.institution_id)
            raise
        return True

    async def claim_dids(self, inst: Institution) -> list[DidTaken]:
        """Claim the DIDs of a stored institution (start-up backfill); the conflicts found."""
        conflicts: list[DidTaken] = []
        for did in inst.dids:
            try:
                await self._claim(did, inst.institution_id)
            except DidTaken as exc:
                conflicts.append(exc)
        return conflicts

    async def _claim(self, did: str, institution_id: str) -> bool:
        """Own ``did`` or raise :class:`DidTaken`; True if this call made a new claim."""
        owner, new = await self.owners.claim(did, institution_id)
        if owner == institution_id:
            return new
        if await self._stale(did, owner) and await self.owners.take_over(
            did, owner, institution_id
        ):
            return True
        raise DidTaken(f"the DID {did!r} belongs to another institution ({owner!r})")

    async def _stale(self, did: str, owner: str) -> bool:
        """Whether ``owner``'s claim on ``did`` was left by a registration that never stored."""
        if await self.collection.find_one({"_id": owner}, {"_id": 1}) is not None:
            return False
        held = await self.owners.owner(did)
        claimed_at = held[1] if held is not None else None
        return isinstance(claimed_at, datetime) and claimed_at < utcnow() - STALE_CLAIM

    async def _release(self, dids: Sequence[str], institution_id: str) -> None:
        for did in dids:
            await self.owners.release(did, institution_id)

    async def get(self, institution_id: str) -> Institution | None:
        """Return one institution."""
        doc = await self.collection.find_one({"_id": institution_id})
        return institution_from(doc) if doc is not None else None

    async def by_did(self, did: str) -> Institution | None:
        """Return the institution that owns ``did`` (two ``_id`` reads)."""
        held = await self.owners.owner(did)
        return await self.get(held[0]) if held is not None else None

    async def save(self, inst: Institution, *, expected_rev: int) -> None:
        """Persist a changed institution if nobody changed it since ``expected_rev``.

        Raises:
            StaleRevision: another writer got there first.
        """
        doc = institution_doc(inst)
        doc["rev"] = expected_rev + 1
        doc.pop("_id")
        result = await self.collection.update_one(
            {"_id": inst.institution_id, "rev": expected_rev}, {"$set": doc}
        )
        if result.matched_count != 1:
            raise StaleRevision(inst.institution_id)

    async def link_did(self, institution_id: str, did: str) -> bool:
        """Add ``did`` to an institution unless already there; True if it was added now.

        Raises:
            DidTaken: another institution owns ``did``.
        """
        await self._claim(did, institution_id)
        result = await self.collection.update_one(
            {"_id": institution_id, "dids": {"$ne": did}},
            {"$push": {"dids": did}, "$inc": {"rev": 1}},
        )
        return result.modified_count == 1

    async def all(self) -> list[Institution]:
        """Every institution (a registry holds hundreds, not millions)."""
        cursor = self.collection.find({}).sort("_id", ASCENDING)
        return [institution_from(doc) async for doc in cursor]

    async def page(
        self,
        *,
        status: InstitutionStatus | None,
        category: str | None,
        q: str | None,
        page: int,
        page_size: int,
    ) -> InstitutionPage:
        """Filter by current status, category and a case-insensitive text match, paginated."""
        query: Document = {}
        if status is not None:
            query["status"] = status.value
        if category is not None:
            query["category"] = category
        if q:
            pattern = {"$regex": re.escape(q), "$options": "i"}
            query["$or"] = [{"name.fr": pattern}, {"name.en": pattern}, {"_id": pattern}]
        total = await self.collection.count_documents(query)
        cursor = (
            self.collection.find(query)
            .sort("_id", ASCENDING)
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return InstitutionPage([institution_from(doc) async for doc in cursor], total)


# --- audit -----------------------------------------------------------------------------------


def audit_entries(inst: Institution) -> list[Document]:
    """Derive the audit entries of an institution's history (registration, steps, scopes)."""
    entries: list[Document] = []
    first, *steps = inst.history
    entries.append(
        {
            "_id": first.change_id,
            "at": first.recorded_at,
            "actor": first.actor,
            "action": "institution.registered",
            "institution_id": inst.institution_id,
            "reason": first.reason,
            "details": {
                "legal_name": {"fr": inst.name_fr, "en": inst.name_en},
                "category": inst.category,
                "jurisdiction": inst.jurisdiction,
                "domain": inst.domain,
                "did_method": inst.did_method.value,
                "effective_at": first.effective_at,
            },
        }
    )
    for step in steps:
        entries.append(
            {
                "_id": step.change_id,
                "at": step.recorded_at,
                "actor": step.actor,
                "action": f"institution.{step.status.value}",
                "institution_id": inst.institution_id,
                "reason": step.reason,
                "details": {"status": step.status.value, "effective_at": step.effective_at},
            }
        )
    for scope in inst.scopes:
        detail = _scope_doc(scope)
        entries.append(
            {
                "_id": scope.scope_id,
                "at": scope.granted_at,
                "actor": scope.granted_by,
                "action": "accreditation.granted",
                "institution_id": inst.institution_id,
                "reason": scope.reason,
                "details": {k: v for k, v in detail.items() if not k.startswith("withdraw")},
            }
        )
        if scope.withdrawn_at is not None:
            entries.append(
                {
                    "_id": f"{scope.scope_id}:withdrawn",
                    "at": scope.withdrawn_at,
                    "actor": scope.withdrawn_by or "",
                    "action": "accreditation.withdrawn",
                    "institution_id": inst.institution_id,
                    "reason": scope.withdraw_reason or "",
                    "details": {"scope_id": scope.scope_id, "effective_at": scope.withdrawn_at},
                }
            )
    return entries


class AuditLog:
    """The append-only audit log: entries are inserted, never updated or deleted."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Index the per-institution and chronological listings."""
        await self._collection.create_index([("institution_id", ASCENDING), ("at", ASCENDING)])
        await self._collection.create_index([("at", ASCENDING)])

    async def append(self, entries: Sequence[Document]) -> int:
        """Insert entries not yet recorded (same id = same fact); return how many were new."""
        added = 0
        for entry in entries:
            try:
                await self._collection.insert_one({**entry, "logged_at": utcnow()})
            except DuplicateKeyError:
                continue
            added += 1
        return added

    async def record_for(self, inst: Institution) -> int:
        """Append every audit entry derivable from ``inst`` that is missing."""
        return await self.append(audit_entries(inst))

    async def list(
        self, *, institution_id: str | None, page: int, page_size: int
    ) -> tuple[list[Document], int]:
        """Entries in chronological order, optionally for one institution."""
        query: Document = {"institution_id": institution_id} if institution_id else {}
        total = await self._collection.count_documents(query)
        cursor = (
            self._collection.find(query)
            .sort([("at", ASCENDING), ("_id", ASCENDING)])
            .skip((page - 1) * page_size)
            .limit(page_size)
        )
        return [doc async for doc in cursor], total
