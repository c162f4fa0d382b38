"""The business metrics every operator dashboard starts from, and Kafka consumer lag.

Instruments are created from the service's own ``MeterProvider`` (see
:mod:`sceau_shared.telemetry`), never from a global one. Names follow OpenTelemetry conventions:

* ``sceau.credentials.issued`` — credentials signed and stored (attrs: ``profile``, ``mode``);
* ``sceau.credentials.status_changed`` — revocations, suspensions, ... (attr: ``change``);
* ``sceau.verifications`` — verifications answered (attr: ``outcome``);
* ``sceau.notifications.deliveries`` — e-mails and webhooks (attrs: ``channel``, ``result``);
* ``sceau.kafka.consumer.lag`` — messages not yet consumed, per topic, partition and group.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from faststream.kafka import KafkaBroker
from opentelemetry.metrics import CallbackOptions, Counter, MeterProvider, Observation

_log = logging.getLogger(__name__)


@dataclass
class BusinessMetrics:
    """Counters shared by the services (each service uses the ones that concern it)."""

    issued: Counter
    status_changed: Counter
    verifications: Counter
    deliveries: Counter
    events_dropped: Counter

    @classmethod
    def create(cls, meter_provider: MeterProvider, service: str) -> BusinessMetrics:
        """Create the instruments on ``meter_provider``."""
        meter = meter_provider.get_meter(f"sceau.{service}")
        return cls(
            issued=meter.create_counter(
                "sceau.credentials.issued", unit="{credential}", description="Credentials issued"
            ),
            status_changed=meter.create_counter(
                "sceau.credentials.status_changed",
                unit="{change}",
                description="Credential status changes (revoked, suspended, reinstated, ...)",
            ),
            verifications=meter.create_counter(
                "sceau.verifications", unit="{verification}", description="Verifications answered"
            ),
            deliveries=meter.create_counter(
                "sceau.notifications.deliveries",
                unit="{delivery}",
                description="Notification deliveries attempted (email, webhook)",
            ),
            events_dropped=meter.create_counter(
                "sceau.events.dropped",
                unit="{event}",
                description="Best-effort events not published (queue full: broker slow or down)",
            ),
        )


@dataclass
class ConsumerLag:
    """Samples the lag of a broker's subscribers and reports it as an observable gauge.

    Sampling runs as a background task (``run``) because reading a consumer's position is
    asynchronous, while metric callbacks are not; the gauge reports the latest sample.
    """

    broker: KafkaBroker
    group_of: dict[str, str] = field(default_factory=dict)
    interval_s: float = 5.0
    _latest: dict[tuple[str, int, str], int] = field(default_factory=dict)

    def register(self, meter_provider: MeterProvider, service: str) -> None:
        """Create the ``sceau.kafka.consumer.lag`` gauge on ``meter_provider``."""
        meter = meter_provider.get_meter(f"sceau.{service}")
        meter.create_observable_gauge(
            "sceau.kafka.consumer.lag",
            callbacks=[self._observe],
            unit="{message}",
            description="Messages in a partition not yet consumed by the group",
        )

    def _observe(self, _: CallbackOptions) -> Iterable[Observation]:
        for (topic, partition, group), lag in self._latest.items():
            yield Observation(
                lag, {"topic": topic, "partition": partition, "consumer_group": group}
            )

    async def sample(self) -> dict[tuple[str, int, str], int]:
        """Measure the lag of every started subscriber now."""
        latest: dict[tuple[str, int, str], int] = {}
        for subscriber in self.broker.subscribers:
            consumer: Any = getattr(subscriber, "consumer", None)
            if consumer is None:
                continue
            group = str(getattr(subscriber, "group_id", None) or "")
            assigned = list(consumer.assignment())
            if not assigned:
                continue
            # end_offsets asks the broker: the consumer's own high-water mark goes stale while a
            # slow handler keeps it from fetching, which is exactly when lag matters.
            with contextlib.suppress(Exception):
                ends = await consumer.end_offsets(assigned)
                for tp in assigned:
                    position = await consumer.position(tp)
                    lag = max(0, int(ends[tp]) - int(position))
                    latest[(tp.topic, tp.partition, group)] = lag
        self._latest = latest
        return latest

    async def run(self) -> None:
        """Sample forever (until cancelled)."""
        while True:
            try:
                await self.sample()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - metrics must never take a service down
                _log.debug("consumer lag sampling failed: %s", exc)
            await asyncio.sleep(self.interval_s)
