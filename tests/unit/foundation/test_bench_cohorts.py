"""A round's cohorts (bench/cohorts.py): requests sent together wait their slowest."""

from __future__ import annotations

from types import ModuleType

import pytest
from bench_modules import load_bench


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench("cohorts.py")


def test_requests_sent_together_form_one_cohort_that_waits_its_slowest(bench: ModuleType) -> None:
    # Three cohorts (sent at 0 s, 0.070 s, 0.150 s), given out of order; one request of the
    # second waited longest.
    requests = [
        (0.150, 0.060),
        (0.000, 0.068),
        (0.001, 0.070),
        (0.071, 0.075),
        (0.002, 0.069),
        (0.070, 0.110),
        (0.151, 0.062),
    ]
    found = bench.cohorts(requests)
    assert found.count == 3
    assert found.mean_size == pytest.approx(7 / 3)
    assert found.p50_ms == pytest.approx(70)
    assert found.slowest_ms == pytest.approx(110)
    assert "3 cohorts" in found.line()


def test_a_steady_trickle_of_requests_is_one_cohort_per_gap(bench: ModuleType) -> None:
    # Requests 9 ms apart chain into one cohort; 11 ms apart, each is its own.
    assert bench.cohorts([(i * 0.009, 0.05) for i in range(5)]).count == 1
    assert bench.cohorts([(i * 0.011, 0.05) for i in range(5)]).count == 5


def test_no_requests_is_a_clear_error(bench: ModuleType) -> None:
    with pytest.raises(ValueError, match="no requests"):
        bench.cohorts([])
