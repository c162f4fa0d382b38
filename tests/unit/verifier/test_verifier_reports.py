"""The verification-event sender: one publisher at a time, in order, bounded, never failing."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
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


@contextlib.asynccontextmanager
async def running(sender: ReportSender) -> AsyncIterator[ReportSender]:
    """Run the sender's loop as the service skeleton does (a background loop), then cancel it."""
    task = asyncio.create_task(sender.run())
    try:
        yield sender
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


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
    async with running(ReportSender(broker.publish, capacity=100)) as sender:
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
    async with running(sender):
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

    async with running(ReportSender(flaky, capacity=10)) as sender:
        with caplog.at_level(logging.ERROR):
            for n in range(3):
                sender.offer(event(n))
            await sender.drain()
    assert received == [f"{0:064x}", f"{2:064x}"]
    assert "could not publish" in caplog.text


async def test_the_sender_restarts_after_going_idle() -> None:
    broker = SlowBroker()
    async with running(ReportSender(broker.publish, capacity=10)) as sender:
        sender.offer(event(1))
        await sender.drain()
        sender.offer(event(2))
        await sender.drain()
        assert broker.received == [f"{1:064x}", f"{2:064x}"]


async def test_drain_gives_up_after_its_timeout() -> None:
    broker = SlowBroker()
    broker.gate.clear()
    async with running(ReportSender(broker.publish, capacity=10)) as sender:
        sender.offer(event(1))
        await asyncio.wait_for(sender.drain(timeout_s=0.05), timeout=2)
        assert broker.received == []
        broker.gate.set()
        await sender.drain()
        assert broker.received == [f"{1:064x}"]


async def test_stopping_the_loop_hands_over_what_is_queued() -> None:
    """The skeleton cancels background loops before the broker stops: nothing queued is lost."""
    broker = SlowBroker()
    broker.gate.clear()
    sender = ReportSender(broker.publish, capacity=10)
    task = asyncio.create_task(sender.run())
    for n in range(3):
        sender.offer(event(n))
    await asyncio.sleep(0)  # the loop took the first event and waits on the broker
    assert broker.in_flight == 1
    broker.gate.set()
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
    assert broker.received == [f"{n:064x}" for n in range(3)]
    assert sender.pending == 0


async def test_the_shutdown_hand_over_is_bounded() -> None:
    broker = SlowBroker()
    broker.gate.clear()  # the broker never takes anything
    sender = ReportSender(broker.publish, capacity=10, drain_timeout_s=0.05)
    task = asyncio.create_task(sender.run())
    sender.offer(event(1))
    await asyncio.sleep(0)
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, timeout=2)
    assert broker.received == []
    assert sender.pending == 1


def test_capacity_must_be_positive() -> None:
    async def publish(item: VerificationCompletedV1) -> None:
        return None

    with pytest.raises(ValueError, match="capacity"):
        ReportSender(publish, capacity=0)
