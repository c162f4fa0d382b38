"""Two relays on one outbox publish each event once, and old events are never sent again (item 4).

The relay trusted its memory once its first pass was done: an entry it had not published itself
was taken for new. So a replica re-published what the other replicas had published since its
last sweep, and, once its memory window was full, re-published old events at every sweep, without
bound. The published markers now bound every sweep. Real MongoDB-protocol server; a publisher
that counts instead of a broker.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

import sceau_shared.outbox as outbox_module
from sceau_dev.testing.sample_events import revocation
from sceau_issuer.pending_repository import mark_pending
from sceau_issuer.relay import TargetedOutboxRelay
from sceau_shared.events import CredentialStatusChangedV1
from sceau_shared.outbox import OutboxRelay, outbox_entry, outbox_push
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration


class Counting:
    """Stands in for the event publisher: counts what each relay sends."""

    producer = "test"

    def __init__(self, sent: Counter[str]) -> None:
        self.sent = sent

    async def publish_raw(self, **entry: Any) -> None:
        self.sent[str(entry["event_id"])] += 1


def event(n: int) -> CredentialStatusChangedV1:
    return revocation(f"cred-{n}", reason_code=f"r{n}")


async def write(coll: Any, doc_id: str, *events: CredentialStatusChangedV1) -> None:
    await coll.update_one({"_id": doc_id}, {"$set": {"v": 1}} | outbox_push(*events), upsert=True)


async def test_two_replicas_each_sweeping_publish_every_event_once(
    mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    coll = mongo_client[mongo_settings.database]["credentials"]
    sent: Counter[str] = Counter()
    one = OutboxRelay([coll], Counting(sent))  # type: ignore[arg-type]
    two = OutboxRelay([coll], Counting(sent))  # type: ignore[arg-type]
    await write(coll, "a", event(1), event(2))
    await one.drain_once()
    await two.drain_once()  # its first pass: it looks markers up
    await write(coll, "b", event(3))
    await one.drain_once()
    await two.drain_once()  # later passes must look them up too
    await write(coll, "c", event(4))
    await two.drain_once()
    await one.drain_once()
    assert len(sent) == 4
    assert [event_id for event_id, times in sent.items() if times > 1] == []


async def test_events_past_the_memory_window_are_not_sent_again(
    mongo_client: Any, mongo_settings: MongoSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(outbox_module, "_REMEMBERED", 2)
    coll = mongo_client[mongo_settings.database]["credentials"]
    sent: Counter[str] = Counter()
    relay = OutboxRelay([coll], Counting(sent))  # type: ignore[arg-type]
    for n in range(5):
        await write(coll, f"d{n}", event(n))
    for _ in range(3):
        await relay.drain_once()
    assert len(sent) == 5
    assert [event_id for event_id, times in sent.items() if times > 1] == []


async def test_a_targeted_relay_sweep_skips_what_another_replica_published(
    mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    coll = mongo_client[mongo_settings.database]["credentials"]
    sent: Counter[str] = Counter()
    one = TargetedOutboxRelay(coll, Counting(sent), sweep_interval_s=0.0)  # type: ignore[arg-type]
    two = TargetedOutboxRelay(coll, Counting(sent), sweep_interval_s=0.0)  # type: ignore[arg-type]
    await one.drain_once()
    await two.drain_once()  # both past their first sweep
    # As the issuer writes: the pending marker first (a reminder reads only a marked document).
    events = (event(7), event(8))
    await mark_pending(coll, [("e", [outbox_entry(e) for e in events])])
    await write(coll, "e", *events)
    one.notify("e")
    await one.drain_once()
    await two.drain_once()  # sweeps: "e" was published by the other replica
    assert len(sent) == 2
    assert [event_id for event_id, times in sent.items() if times > 1] == []
