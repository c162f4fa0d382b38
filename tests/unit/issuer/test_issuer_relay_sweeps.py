"""When the credentials relay sweeps its whole collection (issue 19: not periodically by default).

The sweep reads every credential; at 250,000 a periodic one held a FerretDB cursor for minutes.
By default a process sweeps at start-up and once more after a dead process's lease has run out
(the first sweep skips the documents that lease still covers), then never again.
"""

from __future__ import annotations

import math
from typing import Any

from sceau_issuer.relay import TargetedOutboxRelay


class _Collection:
    name = "credentials"


def _relay(interval: float | None, *, sweeps: bool = True) -> TargetedOutboxRelay:
    publisher: Any = object()
    return TargetedOutboxRelay(
        _Collection(), publisher, sweep_interval_s=interval, sweeps=sweeps, lease_s=30.0
    )


def test_by_default_a_process_sweeps_at_start_and_after_a_dead_lease_only() -> None:
    relay = _relay(None)
    assert relay._next_sweep == 0.0  # at start-up
    assert relay._after_sweep() == 35.0  # once the dead process's 30-s lease has run out
    assert math.isinf(relay._after_sweep())  # then never while it runs


def test_an_interval_repeats_the_sweep_after_the_start_up_ones() -> None:
    relay = _relay(300.0)
    assert relay._after_sweep() == 35.0
    assert relay._after_sweep() == 300.0
    assert relay._after_sweep() == 300.0


def test_the_other_relays_of_a_pool_never_sweep() -> None:
    assert math.isinf(_relay(None, sweeps=False)._next_sweep)
