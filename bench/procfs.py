"""CPU time of processes from Linux ``/proc``, for the benchmarks' per-CPU-second figures.

Shared by bench/issue.py (the issuer and its signing workers, FerretDB) and bench/verify.py
(the verifier's supervisor and workers): a rate per CPU-second does not depend on what else the
machine runs, which wall-clock rates on a shared 2-core machine do.
"""

from __future__ import annotations

import os

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of one process so far (0 when it is gone)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def process_tree(pid: int) -> list[int]:
    """A process and its live descendants."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            with open(f"/proc/{current}/task/{current}/children", encoding="ascii") as handle:
                todo.extend(int(child) for child in handle.read().split())
        except OSError:
            continue
    return out


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds used so far by a process and its live descendants."""
    return sum(cpu_seconds(member) for member in process_tree(pid))
