"""The MongoDB features Sceau relies on, checked against the real server (FerretDB or mongod).

docs/mongodb-features.md lists the same features; keep the two in step.
"""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from sceau_shared.mongo import ProcessedEvents, next_counter

pytestmark = pytest.mark.integration


class TestMongoFeatures:
    async def test_unique_index(self, mongo_client, mongo_settings):
        coll = mongo_client[mongo_settings.database]["things"]
        await coll.create_index("key", unique=True)
        await coll.insert_one({"key": "a"})
        with pytest.raises(DuplicateKeyError):
            await coll.insert_one({"key": "a"})

    async def test_concurrent_unique_inserts_have_exactly_one_winner(
        self, mongo_client, mongo_settings
    ):
        coll = mongo_client[mongo_settings.database]["claims"]

        async def claim() -> bool:
            try:
                await coll.insert_one({"_id": "slot-7"})
            except DuplicateKeyError:
                return False
            return True

        results = await asyncio.gather(*(claim() for _ in range(40)))
        assert results.count(True) == 1

    async def test_counter_values_are_unique_under_concurrency(self, mongo_client, mongo_settings):
        coll = mongo_client[mongo_settings.database]["counters"]

        values = await asyncio.gather(*(next_counter(coll, "list-1") for _ in range(60)))
        assert sorted(values) == list(range(1, 61))

    async def test_array_outbox_operations(self, mongo_client, mongo_settings):
        coll = mongo_client[mongo_settings.database]["aggregates"]
        await coll.create_index("outbox.event_id", sparse=True)
        await coll.insert_one({"_id": "a", "state": 0})
        entries = [{"event_id": "e1", "p": 1}, {"event_id": "e2", "p": 2}]
        await coll.update_one(
            {"_id": "a"}, {"$set": {"state": 1}, "$push": {"outbox": {"$each": entries}}}
        )
        now = datetime.now(UTC)
        claimed = await coll.find_one_and_update(
            {
                "outbox.event_id": {"$exists": True},
                "$or": [{"lease": {"$exists": False}}, {"lease": {"$lt": now}}],
            },
            {"$set": {"lease": now + timedelta(seconds=30)}},
            return_document=ReturnDocument.AFTER,
        )
        assert claimed is not None
        assert claimed["state"] == 1
        assert [e["event_id"] for e in claimed["outbox"]] == ["e1", "e2"]
        # Leased: a second relay does not get it.
        assert (
            await coll.find_one_and_update(
                {"outbox.event_id": {"$exists": True}, "lease": {"$lt": now}}, {"$set": {"x": 1}}
            )
            is None
        )
        await coll.update_one(
            {"_id": "a"}, {"$pullAll": {"outbox": entries}, "$unset": {"lease": ""}}
        )
        assert await coll.find_one({"outbox.event_id": {"$exists": True}}) is None

    async def test_tz_aware_round_trip(self, mongo_client, mongo_settings):
        coll = mongo_client[mongo_settings.database]["times"]
        when = datetime(2026, 5, 1, 12, 30, tzinfo=UTC)
        await coll.insert_one({"_id": 1, "at": when})
        doc = await coll.find_one({"_id": 1, "at": {"$lte": when}})
        assert doc is not None
        assert doc["at"] == when

    async def test_processed_events_marker(self, mongo_client, mongo_settings):
        processed = ProcessedEvents(mongo_client[mongo_settings.database]["processed"])
        assert not await processed.seen("c", "e-1")
        assert await processed.mark("c", "e-1")
        assert not await processed.mark("c", "e-1")
        assert await processed.seen("c", "e-1")
        assert not await processed.seen("other-consumer", "e-1")
