"""A signing slice runs in a loop of its own, without ``asyncio.run``'s SIGINT handling."""

from __future__ import annotations

import asyncio
import signal

import pytest

from sceau_issuer.issuing.sign_jobs import in_fresh_loop


def test_a_slice_runs_to_its_end_in_a_loop_it_then_closes() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def work() -> list[int]:
        loops.append(asyncio.get_running_loop())
        await asyncio.sleep(0)
        return [1, 2, 3]

    handler = signal.getsignal(signal.SIGINT)
    assert in_fresh_loop(work()) == [1, 2, 3]
    assert loops[0].is_closed()
    # asyncio.run would have installed (and restored, repr-ing the finished task and its
    # result on the way) a SIGINT handler of its own: nothing here touches signals.
    assert signal.getsignal(signal.SIGINT) is handler


def test_a_failing_slice_raises_and_still_closes_its_loop() -> None:
    loops: list[asyncio.AbstractEventLoop] = []

    async def work() -> None:
        loops.append(asyncio.get_running_loop())
        raise ValueError("this credential")

    with pytest.raises(ValueError, match="this credential"):
        in_fresh_loop(work())
    assert loops[0].is_closed()
