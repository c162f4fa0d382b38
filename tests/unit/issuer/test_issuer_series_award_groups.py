"""Series award steps of requests answered together are written as one group (issue 19).

Every ``POST /v1/credentials`` of a series component runs the award step: a pending marker is
written, the completion rule runs, the marker is removed. Done per request, that was two writes
per credential (about 8 ms of FerretDB's CPU); the issuing group answers its requests at the
same moment, so their steps now share one marker insert and one delete. What must not change:
each caller gets its own answer or error, a failed step keeps its marker (the sweep retries
it), each step runs in its caller's context, and a step queued while a group runs is not lost.
Fakes stand in for the store: the real queries are checked by the hot-query registry
("series module and award") and tests/integration/issuer/test_issuer_batch_standing.py.
"""

from __future__ import annotations

import asyncio
import contextvars
from typing import Any

import pytest

from sceau_issuer.achievements.repository import AchievementRepository
from sceau_issuer.series.repository import award_id
from sceau_issuer.series.service import SeriesService

CALLER: contextvars.ContextVar[str] = contextvars.ContextVar("caller", default="none")


class Series:
    """Every component belongs to one series."""

    async def with_component(self, *_: Any, **__: Any) -> list[dict[str, Any]]:
        return [{"_id": "s1"}]


class Pending:
    """Records the marker writes."""

    def __init__(self, *, fail: bool = False) -> None:
        self.added: list[list[tuple[str, str, list[tuple[dict[str, Any], str]]]]] = []
        self.removed: list[list[str]] = []
        self.fail = fail

    async def add(self, steps: list[tuple[str, str, list[tuple[dict[str, Any], str]]]]) -> None:
        if self.fail:
            raise RuntimeError("database went away")
        self.added.append(steps)

    async def remove(self, ids: list[str]) -> None:
        self.removed.append(ids)


class _Issuing:
    async def issue(self, *_: Any, **__: Any) -> Any:
        raise AssertionError("the award itself is replaced in these tests")


def service(pending: Pending) -> SeriesService:
    issuing: Any = _Issuing()
    return SeriesService(Series(), issuing, holdings=None, pending=pending)  # type: ignore[arg-type]


def recipient(n: int) -> dict[str, Any]:
    return {"email": f"l{n}@example.org", "email_norm": f"l{n}@example.org"}


async def test_concurrent_steps_share_one_marker_insert_and_one_delete() -> None:
    pending = Pending()
    series = service(pending)
    ran: list[tuple[str, str]] = []

    async def award(institution_id: str, _: str, __: Any, recipients: list[dict[str, Any]]) -> Any:
        ran.append((institution_id, recipients[0]["email"]))
        return [{"overall_for": recipients[0]["email"]}]

    series._award = award  # type: ignore[method-assign]
    answers = await asyncio.gather(
        *(series.after_issue("inst", "m3", [recipient(n)]) for n in range(16))
    )
    assert answers == [[{"overall_for": f"l{n}@example.org"}] for n in range(16)]
    assert len(pending.added) == 1
    assert len(pending.added[0]) == 16
    assert pending.removed == [[award_id("inst", "m3", f"l{n}@example.org") for n in range(16)]]
    assert len(ran) == 16


async def test_a_failed_step_keeps_its_marker_and_its_caller_gets_the_error() -> None:
    pending = Pending()
    series = service(pending)

    async def award(_: str, __: str, ___: Any, recipients: list[dict[str, Any]]) -> Any:
        if recipients[0]["email"] == "l1@example.org":
            raise RuntimeError("signer failed")
        return []

    series._award = award  # type: ignore[method-assign]
    answers = await asyncio.gather(
        *(series.after_issue("inst", "m3", [recipient(n)]) for n in range(3)),
        return_exceptions=True,
    )
    assert answers[0] == []
    assert answers[2] == []
    assert isinstance(answers[1], RuntimeError)
    assert pending.removed == [
        [award_id("inst", "m3", "l0@example.org"), award_id("inst", "m3", "l2@example.org")]
    ]


async def test_no_step_runs_when_the_markers_cannot_be_written() -> None:
    series = service(Pending(fail=True))
    ran: list[str] = []

    async def award(*_: Any) -> Any:
        ran.append("ran")
        return []

    series._award = award  # type: ignore[method-assign]
    answers = await asyncio.gather(
        *(series.after_issue("inst", "m3", [recipient(n)]) for n in range(2)),
        return_exceptions=True,
    )
    assert all(isinstance(a, RuntimeError) for a in answers)
    assert ran == []


async def test_each_step_runs_in_its_callers_context() -> None:
    series = service(Pending())
    seen: dict[str, str] = {}

    async def award(_: str, __: str, ___: Any, recipients: list[dict[str, Any]]) -> Any:
        seen[recipients[0]["email"]] = CALLER.get()
        return []

    series._award = award  # type: ignore[method-assign]

    async def caller(n: int) -> None:
        CALLER.set(f"request {n}")
        await series.after_issue("inst", "m3", [recipient(n)])

    await asyncio.gather(*(caller(n) for n in range(3)))
    assert seen == {f"l{n}@example.org": f"request {n}" for n in range(3)}


async def test_steps_queued_while_groups_run_are_written_by_a_later_group() -> None:
    pending = Pending()
    series = service(pending)
    release = asyncio.Event()

    async def award(*_: Any) -> Any:
        await release.wait()
        return []

    series._award = award  # type: ignore[method-assign]
    first = asyncio.gather(*(series.after_issue("inst", "m3", [recipient(n)]) for n in range(2)))
    await asyncio.sleep(0.01)
    second = asyncio.ensure_future(series.after_issue("inst", "m3", [recipient(9)]))
    await asyncio.sleep(0.01)
    third = asyncio.ensure_future(series.after_issue("inst", "m3", [recipient(10)]))
    await asyncio.sleep(0.01)
    release.set()
    await asyncio.wait_for(asyncio.gather(first, second, third), timeout=5)
    assert sum(len(steps) for steps in pending.added) == 4
    assert sorted(i for ids in pending.removed for i in ids) == sorted(
        award_id("inst", "m3", f"l{n}@example.org") for n in (0, 1, 9, 10)
    )


class _Versions:
    """A collection holding versions 1 and 2 of one achievement; counts the lookups."""

    def __init__(self) -> None:
        self.lookups = 0

    async def find_one(self, query: dict[str, Any], *_: Any) -> dict[str, Any] | None:
        self.lookups += 1
        await asyncio.sleep(0.001)
        return {"_id": query["_id"]} if query["_id"] in ("a@1", "a@2") else None


@pytest.mark.parametrize("askers", [1, 16])
async def test_concurrent_version_counts_share_one_probe(askers: int) -> None:
    versions = _Versions()
    repository = AchievementRepository(versions)  # type: ignore[arg-type]
    counts = await asyncio.gather(*(repository.count("a") for _ in range(askers)))
    assert counts == [2] * askers
    assert versions.lookups == 3  # versions 1, 2 and the missing 3, once for all askers
    assert await repository.count("a") == 2  # trusted for a second: no lookup
    assert versions.lookups == 3
