"""Every MongoDB query of wallet delivery: offers, redeemed grants, deliveries, failed codes.

Single use rests on primary keys, not on updates (on FerretDB 1.24 an update is a non-atomic
read-modify-write): redeeming an offer inserts its grant under the offer's key, delivering a
credential inserts a delivery under the same key; a second insert of either fails, whoever
races. Offers are stored under the SHA-256 of their pre-authorized code, never the code.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

OFFERS = "wallet_offers"
GRANTS = "wallet_grants"
DELIVERIES = "wallet_deliveries"
FAILURES = "wallet_code_failures"
NONCES = "wallet_nonces_used"


class WalletRepository:
    """Offers (by code hash and public id), grants (by access-token hash), deliveries, nonces."""

    def __init__(
        self,
        offers: AsyncCollection[dict[str, Any]],
        grants: AsyncCollection[dict[str, Any]],
        deliveries: AsyncCollection[dict[str, Any]],
        failures: AsyncCollection[dict[str, Any]],
        nonces: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._offers = offers
        self._grants = grants
        self._deliveries = deliveries
        self._failures = failures
        self._nonces = nonces

    async def ensure_indexes(self) -> None:
        """Offers by public id and by credential; grants by token hash; failures by offer."""
        await self._offers.create_index("offer_id", unique=True)
        await self._offers.create_index(
            [
                ("institution_id", ASCENDING),
                ("credential_id", ASCENDING),
                ("created_at", DESCENDING),
            ]
        )
        await self._grants.create_index("token_key", unique=True)
        await self._failures.create_index("offer_key")

    # --- offers --------------------------------------------------------------------------------

    async def insert_offer(self, doc: dict[str, Any]) -> None:
        """Store a new offer (``_id``: the hash of its pre-authorized code)."""
        await self._offers.insert_one(doc)

    async def offer(self, key: str) -> dict[str, Any] | None:
        """The offer whose code hashes to ``key``."""
        return await self._offers.find_one({"_id": key})

    async def latest_offer(self, institution_id: str, credential_id: str) -> dict[str, Any] | None:
        """The credential's most recent offer."""
        return await self._offers.find_one(
            {"institution_id": institution_id, "credential_id": credential_id},
            sort=[("created_at", DESCENDING)],
        )

    # --- redemption ----------------------------------------------------------------------------

    async def failures(self, offer_key: str) -> int:
        """Wrong transaction codes tried against an offer."""
        return await self._failures.count_documents({"offer_key": offer_key})

    async def add_failure(self, failure_id: str, offer_key: str, at: datetime) -> None:
        """Record one wrong transaction code (insert-only; counted)."""
        await self._failures.insert_one({"_id": failure_id, "offer_key": offer_key, "at": at})

    async def redeem(self, doc: dict[str, Any]) -> bool:
        """Insert the grant of an offer (``_id``: the offer's key); False if it was redeemed."""
        return await _insert_once(self._grants, doc)

    async def redeemed(self, offer_key: str) -> bool:
        """Whether a wallet already redeemed this offer."""
        return await self._grants.find_one({"_id": offer_key}, {"_id": 1}) is not None

    async def grant(self, token_key: str) -> dict[str, Any] | None:
        """The grant an access token (by its hash) opens."""
        return await self._grants.find_one({"token_key": token_key})

    async def use_nonce(self, nonce_key: str, at: datetime) -> bool:
        """Spend a ``c_nonce`` (by its hash); False if a proof already used it."""
        return await _insert_once(self._nonces, {"_id": nonce_key, "at": at})

    # --- delivery ------------------------------------------------------------------------------

    async def claim_delivery(self, doc: dict[str, Any]) -> bool:
        """Reserve the one delivery of a grant (``_id``: the offer's key); False if taken."""
        return await _insert_once(self._deliveries, doc)

    async def delivered(self, offer_key: str) -> bool:
        """Whether a wallet already took this offer's credential (through any protocol)."""
        return await self._deliveries.find_one({"_id": offer_key}, {"_id": 1}) is not None

    async def release_delivery(self, offer_key: str) -> None:
        """Undo a reservation whose credential could not be signed (the wallet may retry)."""
        await self._deliveries.delete_one({"_id": offer_key})


async def _insert_once(collection: AsyncCollection[dict[str, Any]], doc: dict[str, Any]) -> bool:
    """Insert ``doc``; False when its ``_id`` exists (the primary key decides, not a read)."""
    try:
        await collection.insert_one(doc)
    except DuplicateKeyError:
        return False
    return True
