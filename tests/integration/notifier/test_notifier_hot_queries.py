"""Every hot query of the notifier is answered by its primary key (or an index).

``notifier_hot_queries.HOT_QUERIES`` runs each request and event path through the notifier's own
services; ``sceau_dev.testing.hot_queries`` records what they send and has the server ``explain``
every filter. A query that falls back to a scan of a collection that grows with the
notifications (e-mails, deliveries, reminders) fails here, naming the path and the filter.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from notifier_hot_queries import HOT_QUERIES, Clock, World
from notifier_support import Receiver, SmtpSink, graph_on

from sceau_dev.testing.hot_queries import is_ferret, problems
from sceau_notifier.reminder_repository import ReminderRepository
from sceau_notifier.repository import EndpointRepository
from sceau_notifier.settings import NotifierSettings

pytestmark = pytest.mark.integration


@pytest.fixture
async def world(
    notifier_settings: NotifierSettings,
    mongo_client: Any,
    smtp_sink: SmtpSink,
    receiver: Receiver,
) -> AsyncIterator[World]:
    db = mongo_client[notifier_settings.mongo.database]
    clock = Clock(datetime.now(UTC).replace(microsecond=0))
    async with graph_on(notifier_settings, db, clock=clock) as graph:
        yield World(graph, db, clock, receiver)


async def test_every_notifier_hot_query_uses_the_primary_key(
    world: World, mongo_client: Any
) -> None:
    found, checked = await problems(
        world.db, HOT_QUERIES, world, ferret=await is_ferret(mongo_client)
    )
    assert not found, "\n".join(found)
    assert checked > 50  # the listener saw the paths' queries


async def test_reminders_stored_before_the_index_are_found(
    notifier_settings: NotifierSettings, mongo_client: Any
) -> None:
    """An upgraded database: the old field queries answer until the scheduler's one-time build."""
    db = mongo_client[notifier_settings.mongo.database]
    start = datetime(2026, 3, 1, 9, tzinfo=UTC)
    day = timedelta(days=1)

    def reminder(rid: str, credential: str, due: datetime) -> dict[str, Any]:
        return {"_id": rid, "credential_id": credential, "due_at": due, "status": "scheduled"}

    await db["reminders"].insert_many(
        [
            reminder("a1", "A", start + day),
            reminder("a2", "A", start + 30 * day),
            reminder("b1", "B", start + day),
        ]
    )
    repo = ReminderRepository(db)
    await repo.prepare(start)  # reminders stored: the build is left to the scheduler
    assert await repo.cancel_for("B", at=start) == 1  # before the build: the field query
    assert await repo.build(start) == 2
    assert await repo.build(start) == 0  # once per database
    now = start + day + timedelta(minutes=1)
    assert [d["_id"] for d in await repo.due(now, 10)] == ["a1"]
    assert [d["_id"] for d in await repo.for_credential("A")] == ["a1", "a2"]
    # Scheduled after the build, due already: filed under the current hour, found at once.
    assert await repo.schedule([reminder("c1", "C", start - day)], now=now) == ["c1"]
    assert [d["_id"] for d in await repo.due(now, 10)] == ["c1", "a1"]
    await repo.mark("a1", "handed_over", at=now)
    assert await repo.cancel_for("A", at=now) == 1  # a2 (a1 was handed over)
    assert [d["_id"] for d in await repo.due(start + 40 * day, 10)] == ["c1"]
    await repo.mark("c1", "handed_over", at=now)
    assert await repo.due(start + 41 * day, 10) == []


async def test_endpoints_stored_before_the_index_are_routed(
    notifier_settings: NotifierSettings, mongo_client: Any
) -> None:
    """An upgraded database: its endpoints get their institution slots once, at start-up."""
    db = mongo_client[notifier_settings.mongo.database]
    at = datetime(2026, 3, 1, 9, tzinfo=UTC)
    endpoint = {"institution_id": "old", "enabled": True, "deleted": False, "created_at": at}
    await db["webhook_endpoints"].insert_many(
        [
            {**endpoint, "_id": "ep_b", "event_types": ["credential.issued"]},
            {**endpoint, "_id": "ep_a", "event_types": ["credential.issued"], "deleted": True},
        ]
    )
    repo = EndpointRepository(db)
    await repo.ensure_indexes()
    await repo.ensure_indexes()  # built: nothing again
    assert await db["webhook_endpoint_index"].count_documents({}) == 3  # two slots, the marker
    found = await repo.subscribed("old", "credential.issued", created_before=at)
    assert [d["_id"] for d in found] == ["ep_b"]
    assert [d["_id"] for d in await repo.list_for("old")] == ["ep_b"]
    assert await repo.subscribed("other", "credential.issued", created_before=at) == []


def test_the_docs_table_names_every_notifier_hot_query() -> None:
    """docs/mongodb-features.md lists each path this test checks (and says what keys it)."""
    docs = Path(__file__).parents[3] / "docs" / "mongodb-features.md"
    rows = [
        r for r in docs.read_text(encoding="utf-8").splitlines() if r.startswith("| notifier |")
    ]
    missing = [name for name in HOT_QUERIES if not any(name in r.split("|")[2] for r in rows)]
    assert not missing, missing


async def _median_s(step: Callable[[], Awaitable[object]], runs: int = 25) -> float:
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        await step()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)


async def test_reminder_cost_does_not_follow_the_reminders_stored(
    notifier_settings: NotifierSettings, mongo_client: Any
) -> None:
    """The scheduler's poll and a revocation's cancel cost the same with 200 or 20,000 stored."""
    db = mongo_client[notifier_settings.mongo.database]
    now = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    repo = ReminderRepository(db)
    await repo.prepare(now)
    await repo.schedule(
        [{"_id": "mine", "credential_id": "C", "due_at": now, "status": "scheduled"}], now=now
    )

    async def fill(start: int, stop: int) -> None:
        for first in range(start, stop, 1000):
            await db["reminders"].insert_many(
                [
                    {
                        "_id": f"email:old{n}.r30",
                        "credential_id": f"urn:uuid:{n}",
                        "due_at": now + timedelta(days=400),
                        "status": "scheduled",
                        "payload": "x" * 1500,  # a NotificationRequestedV1 is about this size
                    }
                    for n in range(first, min(first + 1000, stop))
                ]
            )

    async def poll_and_cancel() -> None:
        assert [d["_id"] for d in await repo.due(now, 200)] == ["mine"]
        assert await repo.cancel_for("nobody", at=now) == 0

    await fill(0, 200)
    few = await _median_s(poll_and_cancel)
    await fill(200, 20_000)
    many = await _median_s(poll_and_cancel)
    report = f"{few * 1000:.2f} ms with 200 stored, {many * 1000:.2f} ms with 20,000"
    assert many < 3 * few + 0.002, report  # a scan of 20,000 is ~100x one of 200
