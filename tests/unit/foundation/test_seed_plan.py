"""The field's seed plan (bench/seed.py): cohorts that keep their size and complete series."""

from __future__ import annotations

from types import ModuleType

import pytest
from bench_modules import load_bench


@pytest.fixture(scope="module")
def seed() -> ModuleType:
    return load_bench("seed.py")


def _emails(plan: object, achievement: int) -> set[str]:
    return {r["email"] for r in plan.recipients_of(achievement)}  # type: ignore[attr-defined]


@pytest.mark.parametrize("scale", [1.0, 0.04, 0.01])
def test_every_achievement_keeps_its_cohort_size(seed: ModuleType, scale: float) -> None:
    plan = seed.Plan.at(scale)
    for achievement in range(plan.achievements):
        assert len(_emails(plan, achievement)) == plan.per_achievement


def test_at_the_fields_scale_a_series_is_completed_by_300_learners(seed: ModuleType) -> None:
    # The whole-scale seed of 2026-12-06 awarded no overall credential: cohorts spread at random
    # over 20,000 learners almost never met in all three modules of one series.
    plan = seed.Plan.at(1.0)
    assert (plan.institutions, plan.learners) == (60, 20_000)
    for institution in range(plan.institutions):
        first, second, third, overall = plan.achievements_of(institution)[: seed.SERIES_SIZE]
        assert [plan.series_position(n) for n in (first, second, third, overall)] == [0, 1, 2, 3]
        completed = _emails(plan, first) & _emails(plan, second) & _emails(plan, third)
        assert len(completed) == 300
        # The overall batch's cohort holds every learner the series awards, so each
        # achievement still stores 500 credentials and the field's total stays 250,000.
        assert completed <= _emails(plan, overall)
    assert plan.credentials == 250_000


def test_achievements_outside_a_series_have_no_position(seed: ModuleType) -> None:
    plan = seed.Plan.at(1.0)
    fifth = plan.achievements_of(0)[seed.SERIES_SIZE]
    assert plan.series_position(fifth) is None
    # One institution with fewer achievements than a series defines none.
    small = seed.Plan(institutions=3, achievements=5, learners=500, per_achievement=500)
    assert [small.series_position(n) for n in range(5)] == [None] * 5
