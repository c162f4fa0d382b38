"""Requests sent together, and how long each such cohort waited: what a p99 is made of.

With ``c`` closed-loop clients and single issues written in groups, the clients answered
together send their next requests together: the load moves as cohorts, and every request of a
cohort waits about as long as its group took. A round of 1,500 requests at 16 clients is
about 94 cohorts, so its p99 (the 15th slowest request) is the slowest cohort or two, not a
tail of independent requests (issue 19, 2026-12-07: cohort latencies p50 66 ms, p90 88 ms,
the slowest 114 ms, in a round whose request p99 was 112 ms). This module groups a round's
requests into cohorts by their send times, so a benchmark can print that shape.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass

#: Requests sent less than this far apart (seconds) after the previous one belong together.
GAP_S = 0.010


@dataclass(frozen=True)
class Cohorts:
    """The cohorts of one round: how many, their mean size, and their latencies (ms)."""

    count: int
    mean_size: float
    p50_ms: float
    p90_ms: float
    slowest_ms: float

    def line(self) -> str:
        """One printable line."""
        return (
            f"{self.count} cohorts of {self.mean_size:.1f} on average; a cohort's latency "
            f"(its slowest request) p50 {self.p50_ms:.0f} ms, p90 {self.p90_ms:.0f} ms, "
            f"slowest {self.slowest_ms:.0f} ms"
        )


def cohorts(requests: Sequence[tuple[float, float]], gap_s: float = GAP_S) -> Cohorts:
    """Group ``(sent at, latency)`` pairs (seconds) into cohorts; a cohort waits its slowest."""
    if not requests:
        raise ValueError("no requests to group")
    ordered = sorted(requests)
    latencies: list[float] = []
    sizes: list[int] = []
    previous = ordered[0][0]
    slowest, size = 0.0, 0
    for sent, latency in ordered:
        if size and sent - previous >= gap_s:
            latencies.append(slowest)
            sizes.append(size)
            slowest, size = 0.0, 0
        slowest, size, previous = max(slowest, latency), size + 1, sent
    latencies.append(slowest)
    sizes.append(size)
    latencies.sort()
    return Cohorts(
        count=len(sizes),
        mean_size=statistics.fmean(sizes),
        p50_ms=1000 * latencies[len(latencies) // 2],
        p90_ms=1000 * latencies[min(len(latencies) - 1, int(0.9 * len(latencies)))],
        slowest_ms=1000 * latencies[-1],
    )
