"""Time source passed to everything that schedules, so tests can move time by hand."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sceau_shared.events import utcnow

Clock = Callable[[], datetime]
"""Returns the current aware UTC time; production uses :func:`system_clock`."""


def system_clock() -> datetime:
    """Return the wall-clock time (aware, UTC)."""
    return utcnow()
