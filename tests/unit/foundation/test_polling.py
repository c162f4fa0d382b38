"""The one polling helper: returns the first truthy value, fails naming what it waited for."""

from __future__ import annotations

import itertools

import pytest

from sceau_dev.testing.polling import eventually, eventually_sync


class NotReached(Exception):
    pass


async def test_returns_the_first_truthy_value_of_a_sync_or_async_check() -> None:
    counter = itertools.count()
    assert await eventually(lambda: next(counter) >= 2 and "done", timeout_s=5, message="x") == (
        "done"
    )

    calls = itertools.count()

    async def check() -> int:
        return max(0, next(calls) - 1)

    assert await eventually(check, timeout_s=5, interval_s=0.01, message="async") == 1


async def test_timeout_names_what_was_awaited_the_last_value_and_details() -> None:
    with pytest.raises(AssertionError) as caught:
        await eventually(
            lambda: [],
            timeout_s=0.05,
            interval_s=0.01,
            message="the e-mail",
            details=lambda: "--- log tail ---",
        )
    text = str(caught.value)
    assert text.startswith("the e-mail: not reached within 0.05 s (last: [])")
    assert text.endswith("--- log tail ---")


async def test_the_error_type_is_the_callers() -> None:
    with pytest.raises(NotReached, match="step"):
        await eventually(lambda: 0, timeout_s=0.01, message="step", error=NotReached)


def test_sync_twin() -> None:
    counter = itertools.count()
    assert eventually_sync(lambda: next(counter) == 2, timeout_s=5, interval_s=0.01, message="x")
    with pytest.raises(AssertionError, match="never: not reached"):
        eventually_sync(lambda: None, timeout_s=0.02, interval_s=0.01, message="never")


async def test_a_check_that_raises_fails_at_once() -> None:
    def dead() -> bool:
        raise NotReached("the process exited")

    with pytest.raises(NotReached, match="exited"):
        await eventually(dead, timeout_s=60, message="ready")
