"""Concurrent calls of one step share one run (``sceau_issuer.grouped``): the contract."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from sceau_issuer.grouped import GroupedCalls


class Recorder:
    """A step that records its groups and answers each item (or refuses odd ones)."""

    def __init__(self, *, refuse_odd: bool = False, fail: bool = False) -> None:
        self.groups: list[list[int]] = []
        self.refuse_odd = refuse_odd
        self.fail = fail
        self.release = asyncio.Event()
        self.release.set()

    async def run(self, items: list[int]) -> Sequence[int | BaseException]:
        self.groups.append(list(items))
        await self.release.wait()
        if self.fail:
            raise RuntimeError("the store is down")
        return [ValueError(f"odd {n}") if self.refuse_odd and n % 2 else n * 10 for n in items]


async def test_an_idle_step_runs_a_lone_call_at_once() -> None:
    recorder = Recorder()
    calls: GroupedCalls[int, int] = GroupedCalls(recorder.run, name="t")
    assert await calls(3) == 30
    assert recorder.groups == [[3]]
    assert calls.groups == 1


async def test_calls_arriving_while_a_group_runs_form_the_next_group() -> None:
    recorder = Recorder()
    recorder.release.clear()
    calls: GroupedCalls[int, int] = GroupedCalls(recorder.run, name="t")
    first = asyncio.create_task(calls(0))
    await asyncio.sleep(0)
    others = [asyncio.create_task(calls(n)) for n in range(1, 6)]
    await asyncio.sleep(0)
    recorder.release.set()
    assert await first == 0
    assert await asyncio.gather(*others) == [10, 20, 30, 40, 50]
    assert recorder.groups == [[0], [1, 2, 3, 4, 5]]


async def test_groups_are_bounded() -> None:
    recorder = Recorder()
    recorder.release.clear()
    calls: GroupedCalls[int, int] = GroupedCalls(recorder.run, name="t", max_group=2)
    tasks = [asyncio.create_task(calls(n)) for n in range(5)]
    await asyncio.sleep(0)
    recorder.release.set()
    assert await asyncio.gather(*tasks) == [0, 10, 20, 30, 40]
    assert [len(group) for group in recorder.groups] == [2, 2, 1]


async def test_each_caller_gets_its_own_error_and_a_failed_run_reaches_all() -> None:
    recorder = Recorder(refuse_odd=True)
    calls: GroupedCalls[int, int] = GroupedCalls(recorder.run, name="t")
    answers = await asyncio.gather(*(calls(n) for n in range(4)), return_exceptions=True)
    assert answers[0::2] == [0, 20]
    assert [str(a) for a in answers[1::2]] == ["odd 1", "odd 3"]
    recorder.fail = True
    answers = await asyncio.gather(*(calls(n) for n in range(3)), return_exceptions=True)
    assert all(isinstance(a, RuntimeError) and "down" in str(a) for a in answers)
    # The step recovers: the next group runs.
    recorder.fail = False
    assert await calls(8) == 80


async def test_a_caller_that_gives_up_does_not_stop_its_group() -> None:
    recorder = Recorder()
    recorder.release.clear()
    calls: GroupedCalls[int, int] = GroupedCalls(recorder.run, name="t")
    impatient = asyncio.create_task(calls(1))
    patient = asyncio.create_task(calls(2))
    await asyncio.sleep(0)
    impatient.cancel()
    with pytest.raises(asyncio.CancelledError):
        await impatient
    recorder.release.set()
    assert await patient == 20
    assert recorder.groups == [[1, 2]]  # the given-up item was still written


async def test_closing_refuses_what_has_not_started() -> None:
    recorder = Recorder()
    recorder.release.clear()
    calls: GroupedCalls[int, int] = GroupedCalls(recorder.run, name="t")
    running = asyncio.create_task(calls(1))
    await asyncio.sleep(0)
    waiting = asyncio.create_task(calls(2))
    await asyncio.sleep(0)
    await calls.close()
    for task in (running, waiting):
        with pytest.raises(RuntimeError, match="stopping"):
            await task
