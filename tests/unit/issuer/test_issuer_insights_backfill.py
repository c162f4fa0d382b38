"""The insights backfill's rules: once per database, every stored fact handed on, outages waited."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo.errors import AutoReconnect

from sceau_issuer.insights.backfill import InsightsBackfill

NOW = datetime(2026, 12, 6, tzinfo=UTC)


class FakeRepository:
    def __init__(self, *, failures: int = 0, error: Exception | None = None) -> None:
        self.marked: list[int] = []
        self.failures = failures
        self.error = error or AutoReconnect("paused")

    async def done(self) -> bool:
        if self.failures:
            self.failures -= 1
            raise self.error
        return bool(self.marked)

    async def record_done(self, at: datetime, credentials: int) -> None:
        self.marked.append(credentials)

    async def credentials(self) -> list[tuple[str, str, bool]]:
        return [("a", "c1", False), ("a", "c2", True), ("b", "c3", False)]

    async def accepted(self) -> list[tuple[str, str]]:
        return [("a", "c1")]

    async def shared(self) -> list[tuple[str, str]]:
        return [("b", "c3"), ("b", "c3")]


class FakeInsights:
    def __init__(self) -> None:
        self.calls: list[tuple[Any, ...]] = []

    async def count_existing(
        self, institution_id: str, credential_id: str, *, revoked: bool
    ) -> None:
        self.calls.append(("existing", institution_id, credential_id, revoked))

    async def accepted(self, institution_id: str, credential_id: str) -> None:
        self.calls.append(("accepted", institution_id, credential_id))

    async def shared(self, institution_id: str, credential_id: str) -> None:
        self.calls.append(("shared", institution_id, credential_id))


def _backfill(
    repository: FakeRepository, insights: FakeInsights, slept: list[float]
) -> InsightsBackfill:
    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    return InsightsBackfill(
        insights,  # type: ignore[arg-type]
        repository,  # type: ignore[arg-type]
        retry_s=7.0,
        clock=lambda: NOW,
        sleep=sleep,
    )


async def test_every_stored_fact_is_handed_on_once_then_marked() -> None:
    repository, insights, slept = FakeRepository(), FakeInsights(), []
    backfill = _backfill(repository, insights, slept)
    assert await backfill.once() == 3
    assert insights.calls == [
        ("existing", "a", "c1", False),
        ("existing", "a", "c2", True),
        ("existing", "b", "c3", False),
        ("accepted", "a", "c1"),
        ("shared", "b", "c3"),
        ("shared", "b", "c3"),  # counted once per credential by the service's marks
    ]
    assert repository.marked == [3]
    assert await backfill.once() == 0
    assert len(insights.calls) == 6


async def test_an_outage_is_waited_out() -> None:
    repository, insights, slept = FakeRepository(failures=2), FakeInsights(), []
    await _backfill(repository, insights, slept).run()
    assert slept == [7.0, 7.0]
    assert repository.marked == [3]


async def test_a_bug_is_not_retried_forever() -> None:
    repository = FakeRepository(failures=1, error=KeyError("institution_id"))
    with pytest.raises(KeyError):
        await _backfill(repository, FakeInsights(), []).run()
