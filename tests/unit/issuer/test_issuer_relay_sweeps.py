"""When the credentials relay sweeps (issue 19).

A sweep reads the pending-outbox markers (the unpublished work), so it runs at start-up and then
every minute by default. Only a database written before the markers existed is read whole: at
its first start-up and once more after a dead process's lease has run out (the first full sweep
skips the documents that lease still covers), then never again (tests/integration/issuer/
test_issuer_pending_outbox.py covers what the sweeps find).
"""

from __future__ import annotations

import math
from typing import Any

from sceau_issuer.relay import DEFAULT_SWEEP_S, TargetedOutboxRelay


class _Collection:
    name = "credentials"


def _relay(
    interval: float | None, *, sweeps: bool = True, legacy: bool = False
) -> TargetedOutboxRelay:
    publisher: Any = object()
    relay = TargetedOutboxRelay(
        _Collection(), publisher, sweep_interval_s=interval, sweeps=sweeps, lease_s=30.0
    )
    relay._legacy = legacy
    return relay


def test_by_default_the_markers_are_swept_at_start_and_every_minute() -> None:
    relay = _relay(None)
    assert relay._next_sweep == 0.0  # at start-up
    assert relay._after_sweep() == DEFAULT_SWEEP_S == 60.0
    assert relay._after_sweep() == 60.0


def test_an_old_database_is_read_whole_at_start_and_after_a_dead_lease_only() -> None:
    relay = _relay(None, legacy=True)
    assert relay._after_sweep() == 35.0  # once the dead process's 30-s lease has run out
    assert relay._after_sweep() == 60.0  # then the markers, every minute
    assert relay._legacy_sweeps_left == 0  # the full reads are done (recorded by drain_once)


def test_an_interval_sets_the_marker_sweeps() -> None:
    assert _relay(300.0)._after_sweep() == 300.0
    relay = _relay(300.0, legacy=True)
    assert relay._after_sweep() == 35.0
    assert relay._after_sweep() == 300.0


def test_the_other_relays_of_a_pool_never_sweep() -> None:
    assert math.isinf(_relay(None, sweeps=False)._next_sweep)
