"""Builds the notifier's services from settings and live connections (used by the lifespan)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.metrics import Counter
from opentelemetry.trace import TracerProvider
from pymongo.asynchronous.database import AsyncDatabase

from sceau_notifier.clock import Clock
from sceau_notifier.ledger import Ledger
from sceau_notifier.mail.render import EmailLinks, EmailRenderer
from sceau_notifier.mail.smtp import SmtpPool
from sceau_notifier.repository import DidDirectory, EndpointRepository, ReminderRepository
from sceau_notifier.service.deadletters import DeadLetterSink
from sceau_notifier.service.emails import EmailService
from sceau_notifier.service.intake import Intake
from sceau_notifier.service.reminders import ReminderService
from sceau_notifier.service.webhooks import WebhookService
from sceau_notifier.settings import NotifierSettings
from sceau_notifier.webhooks.client import WebhookHttp, url_policy
from sceau_notifier.webhooks.secretbox import SecretBox
from sceau_notifier.workers import run_periodically
from sceau_shared.errors import InvalidInput
from sceau_shared.mongo import ensure_all_indexes
from sceau_shared.ssrf import FetchError, UnsafeUrlError, check_url


@dataclass
class Notifier:
    """The live services of one notifier process."""

    intake: Intake
    emails: EmailService
    webhooks: WebhookService
    reminders: ReminderService


def endpoint_url_checker(settings: NotifierSettings) -> Any:
    """Return the registration-time check of endpoint URLs (scheme, host, resolved addresses)."""
    policy = url_policy(settings.webhooks)

    async def check(url: str) -> None:
        try:
            await check_url(url, policy)
        except (UnsafeUrlError, FetchError) as exc:
            raise InvalidInput(
                f"endpoint URL refused: {exc}", errors=[{"loc": ["url"], "msg": str(exc)}]
            ) from exc

    return check


@asynccontextmanager
async def open_notifier(
    settings: NotifierSettings,
    db: AsyncDatabase[dict[str, Any]],
    *,
    clock: Clock,
    dead_letters: DeadLetterSink | None,
    run_workers: bool = True,
    deliveries: Counter | None = None,
    tracer_provider: TracerProvider | None = None,
) -> AsyncIterator[Notifier]:
    """Create repositories, clients and services; run the background loops until exit."""
    email_ledger = Ledger(
        db, "emails", indexed=("recipient_hash",), deliveries=deliveries, channel="email"
    )
    delivery_ledger = Ledger(
        db,
        "webhook_deliveries",
        indexed=("endpoint_id", "institution_id"),
        deliveries=deliveries,
        channel="webhook",
    )
    endpoints = EndpointRepository(db)
    dids = DidDirectory(db)
    reminder_repo = ReminderRepository(db)
    await ensure_all_indexes(email_ledger, delivery_ledger, endpoints, dids, reminder_repo)
    pool = SmtpPool(settings.smtp)
    http = WebhookHttp(settings.webhooks)
    key = settings.webhooks.secret_key
    emails = EmailService(
        email_ledger,
        pool,
        renderer=EmailRenderer(),
        links=EmailLinks(
            verifier_url=settings.verifier_public_url, wallet_help_url=settings.wallet_help_url
        ),
        smtp=settings.smtp,
        retry=settings.email_retry,
        clock=clock,
        dead_letters=dead_letters,
        max_inflight=settings.consumer.max_inflight_batches,
        tracer=tracer_provider.get_tracer(EmailService.__module__) if tracer_provider else None,
    )
    webhooks = WebhookService(
        endpoints,
        delivery_ledger,
        http,
        box=SecretBox(key.get_secret_value()) if key is not None else None,
        check_url=endpoint_url_checker(settings),
        retry=settings.webhooks.retry,
        clock=clock,
        concurrency=settings.webhooks.concurrency,
        dead_letters=dead_letters,
    )
    reminders = ReminderService(
        reminder_repo, emails, webhooks, settings=settings.reminders, clock=clock
    )
    notifier = Notifier(
        intake=Intake(emails=emails, webhooks=webhooks, reminders=reminders, dids=dids),
        emails=emails,
        webhooks=webhooks,
        reminders=reminders,
    )
    tasks: list[asyncio.Task[None]] = []
    if run_workers:
        tasks = [
            asyncio.create_task(
                run_periodically(
                    "email retries", emails.run_due, interval_s=settings.consumer.sweep_interval_s
                )
            ),
            asyncio.create_task(
                run_periodically(
                    "webhook deliveries",
                    webhooks.run_due,
                    interval_s=settings.consumer.sweep_interval_s,
                    wakeup=webhooks.wakeup,
                )
            ),
            asyncio.create_task(
                run_periodically(
                    "expiry reminders",
                    reminders.run_due,
                    interval_s=settings.reminders.poll_interval_s,
                )
            ),
        ]
    try:
        yield notifier
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await emails.drain()
        await pool.close()
        await http.close()
