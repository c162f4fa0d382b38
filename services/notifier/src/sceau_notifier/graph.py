"""Composition root of the notifier: its typed object graph, built before any consumer starts.

:func:`build_graph` only builds: repositories and their indexes, the SMTP pool, the webhook HTTP
client and the services. Nothing runs yet; the service skeleton starts the consumers and then the
loops :meth:`NotifierGraph.background` names, and calls :meth:`NotifierGraph.close` last.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from opentelemetry import trace
from opentelemetry.metrics import Counter
from opentelemetry.trace import Tracer, TracerProvider
from pymongo.asynchronous.database import AsyncDatabase

from sceau_notifier.clock import Clock, system_clock
from sceau_notifier.ledger_repository import Ledger
from sceau_notifier.logsafety import silence_contact_leaks
from sceau_notifier.loops import run_periodically, send_email_retries
from sceau_notifier.mail.render import EmailLinks, EmailRenderer
from sceau_notifier.mail.smtp import SmtpPool
from sceau_notifier.reminder_repository import ReminderRepository
from sceau_notifier.repository import DidDirectory, EndpointRepository
from sceau_notifier.service.deadletters import DeadLetterSink, KafkaDeadLetters
from sceau_notifier.service.emails import EmailService
from sceau_notifier.service.intake import Intake
from sceau_notifier.service.reminders import ReminderService
from sceau_notifier.service.webhooks import WebhookService
from sceau_notifier.settings import NotifierSettings
from sceau_notifier.webhooks.client import WebhookHttp, endpoint_url_checker
from sceau_notifier.webhooks.pseudonyms import CredentialPseudonyms
from sceau_notifier.webhooks.secretbox import SecretBox
from sceau_shared.mongo import ensure_all_indexes
from sceau_shared.runtime import Runtime
from sceau_shared.service.definition import BackgroundLoop

__all__ = ["NotifierGraph", "build_graph", "compose_graph"]


@dataclass
class NotifierGraph:
    """The live services of one notifier process and what they own.

    Attributes:
        intake: Routes consumed events to e-mails, reminders and webhooks (the consumers' entry).
        emails: Learner e-mails (ledger, SMTP sends, operator log and replay).
        webhooks: Institution endpoints, fan-out and signed deliveries.
        reminders: Expiry reminders (scheduling, and handing due ones to their channel).
        tracer: Tracer of the consumers' per-message spans of a notification batch.
        settings: The settings the graph was built from (loop intervals).
        smtp: The SMTP connection pool, closed with the graph.
        http: The webhook HTTP client, closed with the graph.
    """

    intake: Intake
    emails: EmailService
    webhooks: WebhookService
    reminders: ReminderService
    tracer: Tracer
    settings: NotifierSettings
    smtp: SmtpPool
    http: WebhookHttp

    def background(self) -> Sequence[tuple[str, BackgroundLoop]]:
        """E-mail retries, webhook deliveries and expiry reminders, each on its own interval."""
        sweep_s = self.settings.consumer.sweep_interval_s
        return (
            ("email retries", partial(send_email_retries, self.emails, interval_s=sweep_s)),
            (
                "webhook deliveries",
                partial(
                    run_periodically,
                    "webhook deliveries",
                    self.webhooks.run_due,
                    interval_s=sweep_s,
                    wakeup=self.webhooks.wakeup,
                ),
            ),
            (
                "expiry reminders",
                partial(
                    run_periodically,
                    "expiry reminders",
                    self.reminders.run_due,
                    interval_s=self.settings.reminders.poll_interval_s,
                ),
            ),
        )

    async def close(self) -> None:
        """Wait for e-mail batches still being sent, then close the SMTP pool and HTTP client."""
        await self.emails.drain()
        await self.smtp.close()
        await self.http.close()


async def build_graph(settings: NotifierSettings, runtime: Runtime) -> NotifierGraph:
    """The skeleton's composition root: the graph on the runtime's database and publisher."""
    silence_contact_leaks()
    return await compose_graph(
        settings,
        runtime.db,
        clock=system_clock,
        dead_letters=KafkaDeadLetters(runtime.publisher),
        deliveries=runtime.metrics.deliveries,
        tracer_provider=runtime.telemetry.tracer_provider,
    )


async def compose_graph(
    settings: NotifierSettings,
    db: AsyncDatabase[dict[str, Any]],
    *,
    clock: Clock,
    dead_letters: DeadLetterSink | None,
    deliveries: Counter | None = None,
    tracer_provider: TracerProvider | None = None,
) -> NotifierGraph:
    """Create repositories (with their indexes), clients and services; start nothing.

    Separate from :func:`build_graph` so tests can drive the services directly on a database,
    with a hand-moved clock and without a broker.
    """
    provider = tracer_provider or trace.get_tracer_provider()
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
    await reminder_repo.prepare(clock())  # a new database needs no reminder index build
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
        tracer=provider.get_tracer(EmailService.__module__),
    )
    webhooks = WebhookService(
        endpoints,
        delivery_ledger,
        http,
        box=SecretBox(key.get_secret_value()) if key is not None else None,
        check_url=endpoint_url_checker(settings.webhooks),
        retry=settings.webhooks.retry,
        clock=clock,
        concurrency=settings.webhooks.concurrency,
        dead_letters=dead_letters,
    )
    reminders = ReminderService(
        reminder_repo, emails, webhooks, settings=settings.reminders, clock=clock
    )
    return NotifierGraph(
        intake=Intake(
            emails=emails,
            webhooks=webhooks,
            reminders=reminders,
            dids=dids,
            pseudonyms=CredentialPseudonyms(key.get_secret_value()) if key is not None else None,
        ),
        emails=emails,
        webhooks=webhooks,
        reminders=reminders,
        tracer=provider.get_tracer("sceau_notifier.consumers"),
        settings=settings,
        smtp=pool,
        http=http,
    )
