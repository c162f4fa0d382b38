"""A serving process settles its heap once started: start-up's objects are never walked again.

``gc.freeze`` and the collector's thresholds are process-wide, so the check runs in a process of
its own (never in the test process, whose collector other tests share).
"""

from __future__ import annotations

import subprocess
import sys

import uvicorn

from sceau_shared.runner import SettledServer

CHECK = """
import gc
from sceau_shared.heap import YOUNG_THRESHOLD, settle_heap
built = [[n] for n in range(50_000)]  # what a start-up leaves behind
frozen = settle_heap()
assert frozen >= 50_000, frozen
assert gc.get_freeze_count() == frozen
assert gc.get_threshold()[0] == YOUNG_THRESHOLD
# Cyclic garbage made while serving is still collected.
class Node:
    pass
for _ in range(3):
    a, b = Node(), Node()
    a.other, b.other = b, a
del a, b
assert gc.collect() > 0
print("settled", frozen)
"""


def test_settle_heap_freezes_what_start_up_built_and_still_collects_later_cycles() -> None:
    done = subprocess.run(
        [sys.executable, "-c", CHECK], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("settled ")


def test_the_entry_points_server_is_uvicorn_settling_after_start_up() -> None:
    assert issubclass(SettledServer, uvicorn.Server)
    assert "startup" in SettledServer.__dict__
