"""Every MongoDB query of the learner's side: consent, shares, opening receipts, messages.

Nothing here writes to the ``credentials`` collection: on FerretDB 1.24 an update is a
non-atomic read-modify-write of the whole document, so a consent change written onto the
credential could erase a status change made at the same moment. Consent lives in its own
collection keyed by the credential id; openings are insert-only receipts (their count is
derived), and e-mails asked for by the learner are insert-only messages carrying their event in
an outbox, relayed like the other small collections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pymongo
from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.issuing.repository import insert_new
from sceau_issuer.learners.share_index_repository import ShareIndex
from sceau_issuer.pending_repository import mark_pending
from sceau_shared.cache import TtlCache
from sceau_shared.events import Event
from sceau_shared.outbox import outbox_entry

CONSENTS = "learner_consents"
SHARES = "shares"
RECEIPTS = "share_receipts"
MESSAGES = "learner_messages"
CONTACTS = "learner_contacts"
#: Credentials indexed per address at most (a learner with more gets links for the first ones).
MAX_CONTACT_SLOTS = 200
#: Credentials of learners already indexed, indexed at once from one consumed batch.
_CONTACTS_IN_FLIGHT = 16
#: Addresses whose contact hint a replica keeps (the field's learners: 20,000), and for how long.
_HINTS_KEPT = 20_000
_HINT_TTL_S = 600.0


class LearnerRepository:
    """Consent records, shares (stored under the hash of their token) and their receipts."""

    def __init__(
        self,
        consents: AsyncCollection[dict[str, Any]],
        shares: AsyncCollection[dict[str, Any]],
        receipts: AsyncCollection[dict[str, Any]],
        messages: AsyncCollection[dict[str, Any]],
        contacts: AsyncCollection[dict[str, Any]],
        *,
        share_refs: AsyncCollection[dict[str, Any]],
        share_openings: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._consents = consents
        self._shares = shares
        self._receipts = receipts
        self._messages = messages
        self.share_index = ShareIndex(shares, share_refs, share_openings, receipts)
        self._contacts = contacts
        # Each address's hint as this replica last wrote it: the next credential of a learner
        # this replica indexed needs no read of it. A hint raised meanwhile by another replica
        # (or lost) only lengthens the search: the slots are taken by unique inserts.
        self._hints: TtlCache[str, tuple[int, list[str]]] = TtlCache(
            ttl_s=_HINT_TTL_S, max_entries=_HINTS_KEPT
        )

    async def ensure_indexes(self) -> None:
        """Shares by public id and by credential; receipts by share (contacts use ``_id`` only)."""
        await self._shares.create_index("share_id", unique=True)
        await self._shares.create_index(
            [("institution_id", ASCENDING), ("credential_id", ASCENDING)]
        )
        await self._receipts.create_index([("share_id", ASCENDING), ("opened_at", DESCENDING)])
        await self.share_index.ensure_built_if_empty()

    # --- consent -------------------------------------------------------------------------------

    async def consent(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        """The learner's answer about one credential (None: not answered yet)."""
        return await self._consents.find_one(
            {"_id": credential_id, "institution_id": institution_id}
        )

    async def set_consent(
        self, institution_id: str, credential_id: str, state: str, at: datetime
    ) -> None:
        """Record the learner's answer (the latest one wins)."""
        await self._consents.replace_one(
            {"_id": credential_id},
            {"_id": credential_id, "institution_id": institution_id, "state": state, "at": at},
            upsert=True,
        )

    async def set_consents(self, answers: Sequence[tuple[str, str, str]], at: datetime) -> None:
        """Record several answers ``(institution_id, credential_id, state)`` in one command.

        Grouped wallet deliveries (each one is its learner's acceptance) write them together.
        """
        if answers:
            await self._consents.bulk_write(
                [
                    pymongo.ReplaceOne(
                        {"_id": credential_id},
                        {"_id": credential_id, "institution_id": inst, "state": state, "at": at},
                        upsert=True,
                    )
                    for inst, credential_id, state in answers
                ],
                ordered=False,
            )

    # --- shares --------------------------------------------------------------------------------

    async def insert_share(self, doc: dict[str, Any]) -> None:
        """Store a new share (``_id`` is the hash of its token, never the token).

        Its references (by public id, by credential) are written first
        (:mod:`sceau_issuer.learners.share_index`); raises ``TooManyShares`` when the credential
        has all the share links it may have.
        """
        await self.share_index.add(doc)
        await self._shares.insert_one(doc)

    async def share_by_key(self, key: str) -> dict[str, Any] | None:
        """A share by the hash of its token."""
        return await self._shares.find_one({"_id": key})

    async def _by_key(self, key: str) -> dict[str, Any] | None:
        return await self._shares.find_one({"_id": key}, {"document": 0})

    async def shares_of(self, institution_id: str, credential_id: str) -> list[dict[str, Any]]:
        """A credential's shares, oldest first, without their documents."""
        if await self.share_index.built():
            found = []
            for key in await self.share_index.keys_of(institution_id, credential_id):
                doc = await self._by_key(key)
                if doc and (doc["institution_id"], doc["credential_id"]) == (
                    institution_id,
                    credential_id,
                ):
                    found.append(doc)
            return sorted(found, key=lambda d: d["created_at"])
        cursor = self._shares.find(
            {"institution_id": institution_id, "credential_id": credential_id},
            {"document": 0},
            sort=[("created_at", ASCENDING)],
        )
        return [d async for d in cursor]

    async def share_of(
        self, institution_id: str, credential_id: str, share_id: str
    ) -> dict[str, Any] | None:
        """One share of one credential by its public id."""
        if await self.share_index.built():
            doc = await self.share_by_id(share_id)
            if doc is None or (doc["institution_id"], doc["credential_id"]) != (
                institution_id,
                credential_id,
            ):
                return None
            return doc
        return await self._shares.find_one(
            {
                "share_id": share_id,
                "institution_id": institution_id,
                "credential_id": credential_id,
            },
            {"document": 0},
        )

    async def pdf_share(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        """The unrevoked share made for the credential's PDF certificate, if any."""
        if await self.share_index.built():
            for doc in await self.shares_of(institution_id, credential_id):
                if doc.get("for_pdf") and doc.get("revoked_at") is None:
                    return doc
            return None
        return await self._shares.find_one(
            {
                "institution_id": institution_id,
                "credential_id": credential_id,
                "for_pdf": True,
                "revoked_at": None,
            },
            {"document": 0},
        )

    async def revoke_share(
        self, institution_id: str, credential_id: str, share_id: str, at: datetime
    ) -> bool:
        """Mark a share revoked (once); False when it does not exist or was already revoked."""
        if await self.share_index.built():
            doc = await self.share_of(institution_id, credential_id, share_id)
            if doc is None:
                return False
            result = await self._shares.update_one(
                {"_id": doc["_id"], "revoked_at": None}, {"$set": {"revoked_at": at}}
            )
            return result.modified_count == 1
        result = await self._shares.update_one(
            {
                "share_id": share_id,
                "institution_id": institution_id,
                "credential_id": credential_id,
                "revoked_at": None,
            },
            {"$set": {"revoked_at": at}},
        )
        return result.modified_count == 1

    async def share_by_id(self, share_id: str) -> dict[str, Any] | None:
        """A share by public id, whatever its credential (consumers)."""
        if await self.share_index.built():
            key = await self.share_index.key_of(share_id)
            doc = await self._by_key(key) if key else None
            return doc if doc is not None and doc.get("share_id") == share_id else None
        return await self._shares.find_one({"share_id": share_id}, {"document": 0})

    # --- receipts ------------------------------------------------------------------------------

    async def add_receipt(
        self, event_id: str, share_id: str, opened_at: datetime, events: list[Event]
    ) -> list[dict[str, Any]] | None:
        """Record one opening with the events it causes; None for a redelivered event.

        Returns the outbox entries written (for the relay). Entries get their pending marker
        first (``sceau_issuer.pending_repository``): the relay finds unpublished receipts
        through the markers, never by reading every receipt.
        """
        entries = [outbox_entry(e) for e in events]
        await mark_pending(self._receipts, [(event_id, entries)])
        try:
            await self._receipts.insert_one(
                {
                    "_id": event_id,
                    "share_id": share_id,
                    "opened_at": opened_at,
                    "counted": True,  # counted live (the index's build skips it)
                    "outbox": entries,
                }
            )
        except DuplicateKeyError:
            return None
        await self.share_index.opened(share_id, opened_at)
        return entries

    async def openings(self, share_ids: list[str]) -> dict[str, tuple[int, datetime | None]]:
        """Open count and last opening of each share (derived from the receipts).

        Kept per share in ``share_openings`` (one read by ``_id`` each). Before the share index
        is built: FerretDB 1.24 has no ``$max`` accumulator, so the count is grouped and the
        last opening is the newest receipt of each share.
        """
        if await self.share_index.built():
            return await self.share_index.openings(share_ids)
        pipeline: list[dict[str, Any]] = [
            {"$match": {"share_id": {"$in": share_ids}}},
            {"$group": {"_id": "$share_id", "n": {"$sum": 1}}},
        ]
        out: dict[str, tuple[int, datetime | None]] = {}
        async for row in await self._receipts.aggregate(pipeline):
            share_id = str(row["_id"])
            newest = await self._receipts.find_one(
                {"share_id": share_id}, {"opened_at": 1}, sort=[("opened_at", DESCENDING)]
            )
            out[share_id] = (int(row["n"]), newest["opened_at"] if newest else None)
        return out

    # --- messages and contacts -----------------------------------------------------------------

    async def add_message(
        self, message_id: str, kind: str, at: datetime, event: Event
    ) -> list[dict[str, Any]]:
        """Store an e-mail request with its event; the outbox entries written (for the relay).

        The pending marker goes first, as for receipts.
        """
        entries = [outbox_entry(event)]
        await mark_pending(self._messages, [(message_id, entries)])
        await self._messages.insert_one(
            {"_id": message_id, "kind": kind, "at": at, "outbox": entries}
        )
        return entries

    async def add_contact(self, key: str, institution_id: str, credential_id: str) -> None:
        """Index a credential under its learner's hashed address (idempotent as read).

        Each address owns numbered slots ``{key}|0``, ``{key}|1``, ...: a credential takes the
        first free one by inserting it (atomic on every server), so concurrent writers never
        lose each other's entries, and every read is an equality on ``_id`` (the only query
        FerretDB 1.24 answers without scanning the collection).

        The search starts at the address's hint ``{key}|next``: the slot after the last one
        taken (raised with ``$max``) and the credential last indexed. A learner holding *k*
        credentials cost *k* + 1 sequential commands per new one when the search started at slot
        0 — at the field's twelve per learner, a dozen reads per credential, growing with the
        data (docs/benchmarks.md, "Loading the field's scale"). Now three: the hint, the insert,
        the hint again; two when this replica wrote the address's hint last (kept in memory, as
        after the learner's previous credential: no read). Every slot below the hint is taken
        (it is raised only after an insert), so the slots stay contiguous for :meth:`contacts`;
        a hint lost, left behind by a crash or raised by another replica only lengthens the
        search. What :meth:`contacts` returns is idempotent: a redelivered
        event is recognised as the address's last indexed credential (or in slot 0, where a
        learner's first one is indexed in batches); one redelivered after later credentials takes
        a spare slot, listed once, as for two concurrent deliveries.
        """
        entry = {"institution_id": institution_id, "credential_id": credential_id}
        hint_id = f"{key}|next"
        this = [institution_id, credential_id]
        kept = self._hints.get(key)
        if kept is None:
            hint = await self._contacts.find_one({"_id": hint_id})
            kept = (int(hint["n"]), list(hint.get("last") or [])) if hint is not None else (0, [])
        start, last = kept
        if last == this:
            return  # a redelivered event: already indexed
        for slot in range(start, MAX_CONTACT_SLOTS):
            doc_id = f"{key}|{slot}"
            try:
                await self._contacts.insert_one({"_id": doc_id, **entry})
            except DuplicateKeyError:
                found = await self._contacts.find_one({"_id": doc_id})
                if found is not None and (
                    found.get("institution_id") == institution_id
                    and found.get("credential_id") == credential_id
                ):
                    return  # a redelivered event: already indexed
                continue  # taken by another credential (or a concurrent writer): the next one
            await self._raise_hint(hint_id, slot + 1, this)
            self._keep_hint(key, slot + 1, this)
            return

    async def _raise_hint(self, hint_id: str, n: int, last: list[str]) -> None:
        """Raise an address's hint to slot ``n`` and record ``last`` as its newest credential.

        Two first-time writers of one address may both upsert a hint that does not exist yet;
        a server may then answer one of them with a duplicate-key error (MongoDB documents this
        for concurrent upserts). The hint exists by then, so that writer updates it once more
        without upserting, instead of failing the consumed batch and having it redelivered.
        """
        change = {"$max": {"n": n}, "$set": {"last": last}}
        try:
            await self._contacts.update_one({"_id": hint_id}, change, upsert=True)
        except DuplicateKeyError:
            await self._contacts.update_one({"_id": hint_id}, change)

    async def add_contacts(
        self, entries: Sequence[tuple[str, str, str]], *, deadline_s: float | None = None
    ) -> None:
        """Index several credentials ``(key, institution_id, credential_id)`` (idempotent).

        A consumed batch of "issued" requests: each entry first tries its address's slot 0,
        all in one unordered insert (each position still its own unique ``_id`` insert, atomic
        on every store), which is where a learner's first credential goes. An entry whose slot 0
        is taken — a learner who already holds a credential, a second credential of the same
        learner in the batch, a redelivered event — then goes through :meth:`add_contact`, which
        looks at the slots from the address's hint. An address whose hint this replica keeps
        skips slot 0 (it is taken). The result is the one :meth:`add_contact` gives entry by
        entry; only the number of commands differs (one for a batch of new learners instead of
        two per credential). ``deadline_s`` bounds the calls (a paused database fails them as
        timeouts instead of holding the caller).
        """
        unique = list(dict.fromkeys(entries))
        # An address whose hint this replica holds has its slot 0 taken: straight to its hint.
        known = {n for n, (key, _, _) in enumerate(unique) if self._hints.get(key) is not None}
        first = [n for n in range(len(unique)) if n not in known]
        with pymongo.timeout(deadline_s):
            lost = await insert_new(
                self._contacts,
                [
                    {"_id": f"{key}|0", "institution_id": institution, "credential_id": credential}
                    for key, institution, credential in (unique[n] for n in first)
                ],
            )
            for position, n in enumerate(first):
                if position not in lost:
                    key, institution, credential = unique[n]
                    self._keep_hint(key, 1, [institution, credential])
            # Learners who already hold a credential, several at once: each costs two or three
            # sequential commands, and a consumed batch of a cohort's next module is all of them.
            # Entries of one address may run together (the slots are taken by unique inserts).
            gate = asyncio.Semaphore(_CONTACTS_IN_FLIGHT)

            async def one(position: int) -> None:
                async with gate:
                    await self.add_contact(*unique[position])

            later = sorted([*known, *(first[position] for position in lost)])
            await asyncio.gather(*(one(position) for position in later))

    def _keep_hint(self, key: str, n: int, last: list[str]) -> None:
        """Remember an address's hint, never lowered (concurrent entries end in any order)."""
        held = self._hints.get(key)
        if held is None or n >= held[0]:
            self._hints.put(key, (n, last))

    async def contacts(self, key: str) -> list[tuple[str, str]]:
        """``(institution_id, credential_id)`` of the credentials issued to a hashed address."""
        out: list[tuple[str, str]] = []
        for slot in range(MAX_CONTACT_SLOTS):
            found = await self._contacts.find_one({"_id": f"{key}|{slot}"})
            if found is None:
                break
            out.append((str(found["institution_id"]), str(found["credential_id"])))
        # Two concurrent deliveries of one event may each take a slot: list each credential once.
        return list(dict.fromkeys(out))
