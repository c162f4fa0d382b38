"""The registry's own signing key, stored sealed (one document, created once, never updated).

Creation is an insert with a fixed ``_id``, so two replicas starting together agree on one key: the
loser of the insert reads the winner's key back.
"""

from __future__ import annotations

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from sceau_registry.identity.crypto import ALGORITHM, SealedKey
from sceau_shared.events import utcnow
from sceau_shared.mongo import Document

REGISTRY_KEY_ID = "registry-signing-key"


class RegistryKeys:
    """The registry's own sealed signing key."""

    def __init__(self, collection: AsyncCollection[Document]) -> None:
        self._collection = collection

    async def ensure_indexes(self) -> None:
        """Only ``_id`` is queried."""

    async def create_or_get(self, sealed: SealedKey) -> SealedKey:
        """Store ``sealed`` unless a key exists already (another replica won); return the key."""
        try:
            await self._collection.insert_one(
                {
                    "_id": sealed.key_id,
                    "fragment": sealed.fragment,
                    "public_key_multibase": sealed.public_key_multibase,
                    "alg": ALGORITHM,
                    "nonce": sealed.nonce,
                    "ciphertext": sealed.ciphertext,
                    "created_at": utcnow(),
                }
            )
        except DuplicateKeyError:
            existing = await self.get(sealed.key_id)
            if existing is None:  # pragma: no cover - deleted in between by an operator
                raise
            return existing
        return sealed

    async def get(self, key_id: str) -> SealedKey | None:
        """Return the sealed key."""
        doc = await self._collection.find_one({"_id": key_id})
        if doc is None:
            return None
        return SealedKey(
            key_id=doc["_id"],
            fragment=doc["fragment"],
            public_key_multibase=doc["public_key_multibase"],
            nonce=bytes(doc["nonce"]),
            ciphertext=bytes(doc["ciphertext"]),
        )
