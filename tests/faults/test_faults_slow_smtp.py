"""An SMTP relay slower than the e-mail lease: every e-mail arrives once (issue 18, item 5).

The notifier claims a batch of e-mails at once. With a relay that takes ``DELAY_S`` per message,
one connection and a 5-s lease, the batch's last e-mails wait far longer than the lease: before
the fix their lease ran out, the retry sweeper sent them as well, and e-mails already sent but
not yet marked (marking waited for the end of the batch) were sent again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import UTC, datetime

import pytest
from fault_support import SlowSmtp, figures, peak_memory_mb

from sceau_dev.testing.infrastructure import Endpoints
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack
from sceau_shared.events import BilingualText, NotificationRequestedV1
from sceau_shared.kafka import EventPublisher, create_broker
from sceau_shared.settings import KafkaSettings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DELAY_S = 2.0
COUNT = 8
"""8 e-mails x 2 s on one connection: the last waits more than 3 times the 5-s lease."""


def request(n: int, run: str) -> NotificationRequestedV1:
    return NotificationRequestedV1(
        producer="sceau-issuer",
        kind="issued",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        institution_id=f"slow-{run}",
        recipient_email=f"learner{n}.{run}@example.org",
        recipient_name=f"Learner {n}",
        language="fr",
        institution_name=BilingualText(fr="Cégep lent", en="Slow College"),
        institution_contact="registrariat@slow.example",
        achievement_name=BilingualText(fr="Secourisme", en="First aid"),
        achievement_description=BilingualText(fr="Intervenir.", en="Respond."),
        issued_at=datetime.now(UTC),
        claim_url="https://issuer.example/v1/claim/tok",
    )


async def test_a_slow_smtp_relay_sends_each_email_once(
    fault_stack: Stack, slow_smtp: SlowSmtp, real_endpoints: Endpoints
) -> None:
    run = uuid.uuid4().hex[:8]
    kafka = KafkaSettings(
        bootstrap_servers=real_endpoints.kafka_bootstrap,
        topic_prefix=fault_stack.config.topic_prefix,
        client_id=f"faults-{run}",
    )
    broker = create_broker(kafka, client_id=f"faults-{run}")
    slow_smtp.delay_s = DELAY_S
    try:
        await broker.connect()
        publisher = EventPublisher(broker, kafka, producer="sceau-issuer")
        started = time.monotonic()
        for n in range(COUNT):
            await publisher.publish(request(n, run))

        def arrived() -> dict[str, int]:
            return dict(slow_smtp.counts(recipient_containing=f".{run}@"))

        await eventually(
            lambda: len(arrived()) >= COUNT,
            timeout_s=90,
            message=f"{COUNT} e-mails through the slow relay",
            details=fault_stack.logs,
        )
        took = time.monotonic() - started
        await asyncio.sleep(5.0)  # past the lease and a few sweeps: any duplicate shows up now
        counts = arrived()
    finally:
        slow_smtp.delay_s = 0.0
        await broker.stop()
    duplicated = sum(times - 1 for times in counts.values())
    assert len(counts) == COUNT
    assert duplicated == 0, counts
    figures(
        "slow SMTP relay",
        emails=COUNT,
        relay_delay_s=DELAY_S,
        lease_s=5,
        delivered_in_s=round(took, 1),
        lost=COUNT - len(counts),
        duplicated=duplicated,
        peak_memory_mb=peak_memory_mb(fault_stack),
    )
