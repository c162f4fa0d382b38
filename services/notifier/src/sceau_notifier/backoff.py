"""Exponential backoff with jitter, shared by e-mail and webhook retries."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

from sceau_notifier.settings import RetrySettings


class Backoff:
    """Computes when the next attempt may run after ``attempts`` failures.

    The delay grows geometrically (``base * factor**(attempts-1)``, capped at ``max_delay_s``) and a
    random fraction (``jitter``) of it is drawn, so endpoints that failed together (an outage) are
    not all retried in the same second when they come back.
    """

    def __init__(self, settings: RetrySettings, *, rng: random.Random | None = None) -> None:
        self._settings = settings
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not cryptography

    @property
    def max_attempts(self) -> int:
        """Attempts made before a delivery is declared failed."""
        return self._settings.max_attempts

    def nominal_delay(self, attempts: int) -> float:
        """Delay in seconds after ``attempts`` failed attempts, before jitter."""
        s = self._settings
        exponent = max(attempts - 1, 0)
        # Cap the exponent first so a large attempt count cannot overflow the float.
        delay = s.base_delay_s * (s.factor ** min(exponent, 64))
        return float(min(delay, s.max_delay_s))

    def delay(self, attempts: int) -> float:
        """Jittered delay: uniformly drawn in ``[nominal * (1 - jitter), nominal]``."""
        nominal = self.nominal_delay(attempts)
        spread = nominal * self._settings.jitter
        return nominal - spread * self._rng.random()

    def next_attempt(self, attempts: int, now: datetime) -> datetime | None:
        """When to try again after ``attempts`` failures, or None once attempts are exhausted."""
        if attempts >= self._settings.max_attempts:
            return None
        return now + timedelta(seconds=self.delay(attempts))
