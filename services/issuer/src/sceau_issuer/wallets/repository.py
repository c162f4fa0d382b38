"""Every MongoDB query of wallet delivery: offers, redeemed grants, deliveries, failed codes.

Single use rests on primary keys, not on updates (on FerretDB 1.24 an update is a non-atomic
read-modify-write): redeeming an offer inserts its grant under the offer's key, delivering a
credential inserts a delivery under the same key; a second insert of either fails, whoever
races. Offers are stored under the SHA-256 of their pre-authorized code, never the code.

Offers (and their page pointers), grants, failed codes and spent nonces are useless once
expired, so each carries a
``sweep_at`` moment and is deleted after it. FerretDB has no TTL index and uses its index for
``_id`` equality only (a range on ``_id`` scans, like any other filter), so the cheap path is
exact keys: this repository remembers, in a heap, the key and ``sweep_at`` of every document it
inserted, and :meth:`WalletRepository.sweep_due` deletes the due ones one ``_id`` at a time
(work proportional to what expired). Documents another process or an earlier run inserted are
left to :meth:`WalletRepository.sweep_all`, a scan by ``sweep_at`` the sweeper runs rarely.
Deliveries are kept: one per credential a wallet actually received (who holds a copy).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_issuer.issuing.repository import insert_new

OFFERS = "wallet_offers"
GRANTS = "wallet_grants"
DELIVERIES = "wallet_deliveries"
FAILURES = "wallet_code_failures"
NONCES = "wallet_nonces_used"
CURRENT = "wallet_current_offers"


class WalletRepository:
    """Offers (by code hash and public id), grants and deliveries (by offer key), spent nonces."""

    def __init__(
        self,
        offers: AsyncCollection[dict[str, Any]],
        grants: AsyncCollection[dict[str, Any]],
        deliveries: AsyncCollection[dict[str, Any]],
        failures: AsyncCollection[dict[str, Any]],
        nonces: AsyncCollection[dict[str, Any]],
        current: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._offers = offers
        self._grants = grants
        self._deliveries = deliveries
        self._failures = failures
        self._nonces = nonces
        self._current = current
        self._swept = {
            OFFERS: offers,
            GRANTS: grants,
            FAILURES: failures,
            NONCES: nonces,
            CURRENT: current,
        }
        self._due: list[tuple[datetime, str, str]] = []

    def _remember(self, collection: str, key: str, sweep_at: datetime) -> None:
        heapq.heappush(self._due, (sweep_at, collection, key))

    async def ensure_indexes(self) -> None:
        """Nothing to create: every wallet query is by primary key.

        An offer's key derives from its public id, an access token names its grant's key, the
        learner page's current offer has a pointer keyed by credential, failed codes are
        numbered under their offer's key.
        """

    # --- offers --------------------------------------------------------------------------------

    async def insert_offer(self, doc: dict[str, Any]) -> None:
        """Store a new offer (``_id``: its code's hash; has ``sweep_at``).

        It becomes its credential's current offer: a pointer keyed by
        ``institution|credential`` finds it for the learner's page.
        """
        await self._offers.insert_one(doc)
        self._remember(OFFERS, doc["_id"], doc["sweep_at"])
        pointer = f"{doc['institution_id']}|{doc['credential_id']}"
        await self._current.replace_one(
            {"_id": pointer},
            {"_id": pointer, "offer_key": doc["_id"], "sweep_at": doc["sweep_at"]},
            upsert=True,
        )
        self._remember(CURRENT, pointer, doc["sweep_at"])

    async def offer(self, key: str) -> dict[str, Any] | None:
        """The offer whose code hashes to ``key``."""
        return await self._offers.find_one({"_id": key})

    async def latest_offer(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        """The credential's most recent offer (through its pointer)."""
        pointer = await self._current.find_one({"_id": f"{institution_id}|{credential_id}"})
        return None if pointer is None else await self.offer(pointer["offer_key"])

    # --- redemption ----------------------------------------------------------------------------

    async def failures_exhausted(self, offer_key: str, limit: int) -> bool:
        """Whether ``limit`` wrong transaction codes were tried against an offer."""
        last = await self._failures.find_one({"_id": f"{offer_key}:{limit - 1}"}, {"_id": 1})
        return last is not None

    async def add_failure(
        self, offer_key: str, at: datetime, *, limit: int, sweep_at: datetime
    ) -> None:
        """Record one wrong transaction code in the first free slot ``{offer key}:{n}``.

        Insert-only and numbered, so counting is one lookup by key and concurrent wrong codes
        each take their own slot (the primary key decides).
        """
        for number in range(limit):
            slot = f"{offer_key}:{number}"
            doc = {"_id": slot, "at": at, "sweep_at": sweep_at}
            if await _insert_once(self._failures, doc):
                self._remember(FAILURES, slot, sweep_at)
                return

    async def redeem_many(self, docs: Sequence[dict[str, Any]]) -> list[bool]:
        """Insert the grants of several offers in one command; per grant, whether it was new.

        Concurrent token requests are grouped (``sceau_issuer.grouped``); each grant still wins
        or loses on its own primary key.
        """
        inserted = await _insert_new(self._grants, docs)
        for doc, new in zip(docs, inserted, strict=True):
            if new:
                self._remember(GRANTS, doc["_id"], doc["sweep_at"])
        return inserted

    async def redeemed(self, offer_key: str) -> bool:
        """Whether a wallet already redeemed this offer."""
        return await self._grants.find_one({"_id": offer_key}, {"_id": 1}) is not None

    async def use_nonces(self, spent: Sequence[tuple[str, datetime, datetime]]) -> list[bool]:
        """Spend several nonces ``(key, at, sweep_at)`` in one command; per nonce, if it was new."""
        docs = [{"_id": key, "at": at, "sweep_at": sweep_at} for key, at, sweep_at in spent]
        inserted = await _insert_new(self._nonces, docs)
        for (key, _, sweep_at), new in zip(spent, inserted, strict=True):
            if new:
                self._remember(NONCES, key, sweep_at)
        return inserted

    # --- delivery ------------------------------------------------------------------------------

    async def claim_deliveries(self, docs: Sequence[dict[str, Any]]) -> list[bool]:
        """Reserve several deliveries in one command; per delivery, whether it is now reserved."""
        return await _insert_new(self._deliveries, docs)

    async def delivered(self, offer_key: str) -> bool:
        """Whether a wallet already took this offer's credential (through any protocol)."""
        return await self._deliveries.find_one({"_id": offer_key}, {"_id": 1}) is not None

    async def release_delivery(self, offer_key: str) -> None:
        """Undo a reservation whose credential could not be signed (the wallet may retry)."""
        await self._deliveries.delete_one({"_id": offer_key})

    # --- expiry ------------------------------------------------------------------------------

    async def sweep_due(self, now: datetime, *, limit: int = 1000) -> int:
        """Delete the expired documents this repository inserted, by ``_id``; return how many."""
        deleted = 0
        while self._due and self._due[0][0] <= now and deleted < limit:
            _, collection, key = heapq.heappop(self._due)
            result = await self._swept[collection].delete_one(
                {"_id": key, "sweep_at": {"$lte": now}}
            )
            deleted += result.deleted_count
        return deleted

    async def sweep_all(self, now: datetime) -> int:
        """Delete every expired document (a scan: for leftovers of other processes and runs)."""
        deleted = 0
        for collection in self._swept.values():
            result = await collection.delete_many({"sweep_at": {"$lte": now}})
            deleted += result.deleted_count
        return deleted


async def _insert_once(collection: AsyncCollection[dict[str, Any]], doc: dict[str, Any]) -> bool:
    """Insert ``doc``; False when its ``_id`` exists (the primary key decides, not a read)."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True


async def _insert_new(
    collection: AsyncCollection[dict[str, Any]], docs: Sequence[dict[str, Any]]
) -> list[bool]:
    """Insert ``docs`` in one unordered command; per position, whether that document went in.

    Each wins or loses on its own primary key (the second of two with one ``_id`` loses too).
    """
    taken = await insert_new(collection, [dict(doc) for doc in docs])
    return [n not in taken for n in range(len(docs))]
