"""The background loops stop between rounds: a round in flight finishes before the loop ends."""

from __future__ import annotations

import asyncio

import pytest

from sceau_notifier.loops import run_periodically


async def test_cancelling_a_loop_lets_the_round_in_flight_finish() -> None:
    started = asyncio.Event()
    finished: list[int] = []

    async def step() -> int:
        started.set()
        await asyncio.sleep(0.05)
        finished.append(1)
        return 0

    loop = asyncio.create_task(run_periodically("test", step, interval_s=10))
    await started.wait()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert finished == [1]


async def test_a_round_that_outlives_the_grace_is_cancelled() -> None:
    started = asyncio.Event()
    cancelled: list[bool] = []

    async def step() -> int:
        started.set()
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            cancelled.append(True)
            raise
        return 0

    loop = asyncio.create_task(run_periodically("test", step, interval_s=10, stop_grace_s=0.05))
    await started.wait()
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert cancelled == [True]


async def test_a_failing_round_is_retried_after_the_interval() -> None:
    calls: list[int] = []

    async def step() -> int:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database down")
        return 0

    loop = asyncio.create_task(run_periodically("test", step, interval_s=0.01))
    await asyncio.sleep(0.1)
    loop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await loop
    assert len(calls) >= 2
