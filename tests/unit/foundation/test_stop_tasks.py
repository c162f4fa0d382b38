"""Background loops stop at shutdown, even one whose cancellation a library swallowed."""

from __future__ import annotations

import asyncio

from sceau_shared.service.app import stop_tasks


async def test_a_loop_that_swallows_one_cancellation_still_stops() -> None:
    swallowed = 0

    async def stubborn() -> None:
        nonlocal swallowed
        while True:
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                if swallowed == 0:  # what a 3.11 wait_for race does: the signal is lost once
                    swallowed += 1
                    continue
                raise

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(stop_tasks([task], grace_s=0.2, insist_s=2.0), timeout=5)
    assert task.cancelled()
    assert swallowed == 1


async def test_a_loop_may_finish_its_round_within_the_grace_period() -> None:
    finished: list[str] = []

    async def graceful() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            await asyncio.sleep(0.2)  # hand over what is queued
            finished.append("flushed")
            raise

    task = asyncio.create_task(graceful())
    await asyncio.sleep(0)
    await stop_tasks([task], grace_s=2.0, insist_s=0.5)
    assert finished == ["flushed"]
