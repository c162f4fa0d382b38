"""Each e-mail is sent once even when the SMTP relay is slower than the claim's lease (item 5).

A batch used to be claimed with one lease that nobody renewed, and marked sent only when the whole
batch had gone out: with a slow relay the lease of the batch's last e-mails ran out while they
waited their turn, the sweeper sent them too, and e-mails already sent but not yet marked were
sent again. Here the real ledger (real MongoDB-protocol server) meets a relay that takes 0.4 s per
message, a 1-s lease, and a sweeper running beside the batch, as another replica's would.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import pytest
from notifier_events import request

from sceau_notifier.ledger_repository import Ledger
from sceau_notifier.mail.message import Outgoing
from sceau_notifier.mail.render import EmailKind, EmailLinks, EmailRenderer
from sceau_notifier.service.emails import EmailJob, EmailService
from sceau_notifier.settings import RetrySettings, SmtpSettings
from sceau_shared.settings import MongoSettings

pytestmark = pytest.mark.integration

SEND_S = 0.4
LEASE_S = 1.0
COUNT = 8


class SlowRelay:
    """An SMTP relay that answers each message after ``SEND_S`` (one connection)."""

    size = 1

    def __init__(self) -> None:
        self.received: Counter[str] = Counter()

    async def send(self, message: Outgoing) -> None:
        await asyncio.sleep(SEND_S)
        self.received[message.recipient] += 1


def now() -> datetime:
    return datetime.now(UTC)


def service(db: Any, relay: SlowRelay) -> EmailService:
    return EmailService(
        Ledger(db, "emails"),
        relay,
        renderer=EmailRenderer(),
        links=EmailLinks(
            verifier_url="https://verify.example", wallet_help_url="https://help.example"
        ),
        smtp=SmtpSettings(),
        retry=RetrySettings(lease_s=LEASE_S, base_delay_s=0.2, jitter=0),
        clock=now,
    )


async def test_a_slow_relay_sends_each_email_once(
    mongo_client: Any, mongo_settings: MongoSettings
) -> None:
    db = mongo_client[mongo_settings.database]
    relay = SlowRelay()
    batch = service(db, relay)
    sweeper = service(db, relay)  # another replica's retry loop, same ledger
    jobs = [
        EmailJob(
            key=f"slow-{n}",
            request=request(email=f"learner{n}@example.org"),
            kind=EmailKind.ISSUED,
        )
        for n in range(COUNT)
    ]

    async def sweep() -> None:
        while True:
            await sweeper.run_due()
            await asyncio.sleep(0.1)

    sweeping = asyncio.create_task(sweep())
    try:
        await batch.submit(jobs)  # COUNT x SEND_S = 3.2 s, past the 1-s lease
        await asyncio.sleep(LEASE_S + 1.0)  # let the sweeper find anything left behind
    finally:
        sweeping.cancel()
    assert sorted(relay.received) == sorted(f"learner{n}@example.org" for n in range(COUNT))
    assert [address for address, times in relay.received.items() if times > 1] == []
    assert await db["emails_done"].count_documents({}) == COUNT
    assert await db["emails_state"].count_documents({}) == 0
