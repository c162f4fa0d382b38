"""Every MongoDB query of the LMS hook: one settings document per institution, one per delivery.

Both are read by ``_id`` only (the only lookups FerretDB answers from an index): an institution's
hook settings — its encrypted secrets and its course → achievement mappings, in one document so
the hook reads them with one round trip — under the institution id, and each accepted delivery's
answer under ``<institution>|<webhook-id>``.
"""

from __future__ import annotations

import contextlib
from datetime import datetime
from typing import Any

from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

HOOKS = "lms_hooks"
DELIVERIES = "lms_deliveries"


class LmsRepository:
    """The ``lms_hooks`` and ``lms_deliveries`` collections."""

    def __init__(
        self,
        hooks: AsyncCollection[dict[str, Any]],
        deliveries: AsyncCollection[dict[str, Any]],
    ) -> None:
        self._hooks = hooks
        self._deliveries = deliveries

    async def ensure_indexes(self) -> None:
        """Nothing beyond ``_id``: every read is a primary-key lookup."""

    async def settings(self, institution_id: str) -> dict[str, Any] | None:
        """The institution's hook settings (secrets encrypted, mappings), if it has any."""
        return await self._hooks.find_one({"_id": institution_id})

    async def set_secrets(self, institution_id: str, values: dict[str, Any]) -> None:
        """Store the current (and previous) encrypted secret, creating the document if needed."""
        await self._hooks.update_one({"_id": institution_id}, {"$set": values}, upsert=True)

    async def set_mapping(self, institution_id: str, key: str, mapping: dict[str, Any]) -> None:
        """Add or replace one course → achievement mapping (``key`` is free of dots)."""
        await self._hooks.update_one(
            {"_id": institution_id}, {"$set": {f"mappings.{key}": mapping}}, upsert=True
        )

    async def remove_mapping(self, institution_id: str, key: str) -> bool:
        """Drop one mapping; False when there was none."""
        result = await self._hooks.update_one(
            {"_id": institution_id, f"mappings.{key}": {"$exists": True}},
            {"$unset": {f"mappings.{key}": ""}},
        )
        return result.modified_count == 1

    async def delivery(self, delivery_id: str) -> dict[str, Any] | None:
        """The answer given to an earlier delivery with this id."""
        return await self._deliveries.find_one({"_id": delivery_id})

    async def record_delivery(self, delivery_id: str, answer: dict[str, Any], at: datetime) -> None:
        """Keep a delivery's answer for its replays; the first of concurrent twins wins."""
        with contextlib.suppress(DuplicateKeyError):
            await self._deliveries.insert_one({"_id": delivery_id, "answer": answer, "at": at})
