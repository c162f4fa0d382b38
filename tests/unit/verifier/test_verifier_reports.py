"""The verification-event sender: one publisher at a time, in order, bounded, never failing."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime

import pytest

from sceau_shared.events import VerificationCompletedV1, VerificationOutcome
from sceau_verifier.reports import ReportSender


def event(number: int) -> VerificationCompletedV1:
    return VerificationCompletedV1(
        producer="sceau-verifier",
        credential_id_hash=f"{number:064x}",
        outcome=VerificationOutcome.VERIFIED,
        verified_at=datetime.now(UTC),
    )


class SlowBroker:
    """Accepts one event at a time and records how many publish calls overlapped."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.gate = asyncio.Event()
        self.gate.set()

    async def publish(self, item: VerificationCompletedV1) -> None:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            await self.gate.wait()
            await asyncio.sleep(0)
            self.received.append(item.credential_id_hash)
        finally:
            self.in_flight -= 1


async def test_events_are_published_in_order_by_one_caller_at_a_time() -> None:
    broker = SlowBroker()
    sender = ReportSender(broker.publish, capacity=100)
    events = [event(n) for n in range(50)]
    for item in events:
        assert sender.offer(item)
    await sender.drain()
    assert broker.received == [item.credential_id_hash for item in events]
    assert broker.most_in_flight == 1
    assert sender.pending == 0


async def test_a_full_queue_drops_new_events_and_reports_each(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broker = SlowBroker()
    broker.gate.clear()  # the broker is stuck: nothing leaves the queue
    dropped: list[VerificationCompletedV1] = []
    sender = ReportSender(broker.publish, capacity=3, on_drop=dropped.append)
    events = [event(n) for n in range(6)]
    with caplog.at_level(logging.WARNING):
        accepted = [sender.offer(item) for item in events]
    # The first event was taken by the sender task only once it runs; until then all queue.
    assert accepted == [True, True, True, False, False, False]
    assert dropped == events[3:]
    assert sender.dropped == 3
    assert "events dropped: 1 so far" in caplog.text
    broker.gate.set()
    await sender.drain()
    assert broker.received == [item.credential_id_hash for item in events[:3]]


async def test_a_failed_publication_is_logged_and_the_next_events_still_go(
    caplog: pytest.LogCaptureFixture,
) -> None:
    received: list[str] = []

    async def flaky(item: VerificationCompletedV1) -> None:
        if item.credential_id_hash == f"{1:064x}":
            raise ConnectionError("broker gone")
        received.append(item.credential_id_hash)

    sender = ReportSender(flaky, capacity=10)
    with caplog.at_level(logging.ERROR):
        for n in range(3):
            sender.offer(event(n))
        await sender.drain()
    assert received == [f"{0:064x}", f"{2:064x}"]
    assert "could not publish" in caplog.text


async def test_the_sender_restarts_after_going_idle() -> None:
    broker = SlowBroker()
    sender = ReportSender(broker.publish, capacity=10)
    sender.offer(event(1))
    await sender.drain()
    sender.offer(event(2))
    await sender.drain()
    assert broker.received == [f"{1:064x}", f"{2:064x}"]


async def test_drain_gives_up_after_its_timeout() -> None:
    broker = SlowBroker()
    broker.gate.clear()
    sender = ReportSender(broker.publish, capacity=10)
    sender.offer(event(1))
    await asyncio.wait_for(sender.drain(timeout_s=0.05), timeout=2)
    assert broker.received == []
    broker.gate.set()
    await sender.drain()
    assert broker.received == [f"{1:064x}"]


def test_capacity_must_be_positive() -> None:
    async def publish(item: VerificationCompletedV1) -> None:
        return None

    with pytest.raises(ValueError, match="capacity"):
        ReportSender(publish, capacity=0)
