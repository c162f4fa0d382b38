"""What the notifier does with each consumed event (called by :mod:`sceau_notifier.consumers`)."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass

from sceau_notifier.mail.render import EmailKind
from sceau_notifier.repository import DidDirectory
from sceau_notifier.service.emails import EmailJob, EmailService
from sceau_notifier.service.reminders import ReminderService
from sceau_notifier.service.webhooks import WebhookEventType, WebhookService
from sceau_notifier.webhooks.pseudonyms import CredentialPseudonyms
from sceau_shared.events import (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    IssuerKeyPublishedV1,
    NotificationKind,
    NotificationRequestedV1,
    StatusChange,
    VerificationCompletedV1,
)

_log = logging.getLogger(__name__)

_ENDS_LIFE = {NotificationKind.REVOKED, NotificationKind.SUPERSEDED}


@dataclass
class Intake:
    """Routes events to e-mails, reminders and webhooks."""

    emails: EmailService
    webhooks: WebhookService
    reminders: ReminderService
    dids: DidDirectory
    #: Keyed names of credentials for verification webhooks; None while no webhook secret key
    #: is set (then no endpoint can be registered either).
    pseudonyms: CredentialPseudonyms | None = None

    async def notification_requests(
        self,
        events: list[NotificationRequestedV1],
        *,
        pipelined: bool = False,
        origins: Mapping[str, Mapping[str, str]] | None = None,
    ) -> int:
        """Schedule reminders, cancel them when a credential ends, and send the e-mails.

        ``pipelined`` returns once the e-mails are recorded and claimed (the Kafka consumer
        uses it); otherwise it returns after sending, with the number sent. ``origins`` maps an
        event id to the W3C trace context its e-mail's send span continues (the consumer's span
        of that message), so the send stays in the trace of the request that caused it.
        """
        jobs: list[EmailJob] = []
        for event in events:
            if event.kind is NotificationKind.ISSUED:
                await self.reminders.schedule_email(event)
            elif event.kind in _ENDS_LIFE:
                await self.reminders.cancel(event.credential_id)
            jobs.append(
                EmailJob(
                    key=str(event.event_id),
                    request=event,
                    kind=EmailKind(event.kind.value),
                    source_event_id=str(event.event_id),
                    trace_context=(origins or {}).get(str(event.event_id)),
                )
            )
        if pipelined:
            await self.emails.submit_pipelined(jobs)
            return 0
        return await self.emails.submit(jobs)

    async def credential_issued(self, event: CredentialIssuedV1) -> None:
        """Tell subscribed endpoints and schedule ``credential.expiring`` webhooks."""
        await self.reminders.schedule_webhook(event)
        await self.webhooks.fan_out(
            event_id=event.event_id,
            institution_id=event.institution_id,
            event_type=WebhookEventType.CREDENTIAL_ISSUED,
            occurred_at=event.occurred_at,
            data={
                "credential_id": event.credential_id,
                "issuer_did": event.issuer_did,
                "achievement_id": event.achievement_id,
                "achievement_version": event.achievement_version,
                "achievement_type": event.achievement_type,
                "issued_at": event.issued_at,
                "valid_until": event.valid_until,
                "supersedes": event.supersedes,
            },
        )

    async def credential_status_changed(self, event: CredentialStatusChangedV1) -> None:
        """Tell subscribed endpoints; a revoked or replaced credential gets no more reminders."""
        if event.change in {StatusChange.REVOKED, StatusChange.SUPERSEDED}:
            await self.reminders.cancel(event.credential_id)
        await self.webhooks.fan_out(
            event_id=event.event_id,
            institution_id=event.institution_id,
            event_type=WebhookEventType.CREDENTIAL_STATUS_CHANGED,
            occurred_at=event.occurred_at,
            data={
                "credential_id": event.credential_id,
                "issuer_did": event.issuer_did,
                "change": event.change.value,
                "reason_code": event.reason_code,
                "effective_at": event.effective_at,
                "superseded_by": event.superseded_by,
            },
        )

    async def verification_completed(self, event: VerificationCompletedV1) -> None:
        """Route a verification to the issuer's institution (DID → institution map).

        Only a verification whose proof verified against the issuer's key is the institution's:
        an unsigned submission that merely names its DID creates no webhook and no delivery row
        (issue 18: thousands per batch request before).
        """
        if not event.issuer_did or not event.issuer_proven:
            return
        institution_id = await self.dids.institution_of(event.issuer_did)
        if institution_id is None:
            _log.info("verification %s: issuer DID not one of ours", event.event_id)
            return
        if self.pseudonyms is None:
            _log.info("verification %s: no webhook secret key, no webhook", event.event_id)
            return
        await self.webhooks.fan_out(
            event_id=event.event_id,
            institution_id=institution_id,
            event_type=WebhookEventType.VERIFICATION_COMPLETED,
            occurred_at=event.occurred_at,
            data={
                # Keyed: the institution cannot hash its credential ids to find the learner.
                "credential_id_hash": self.pseudonyms.of(institution_id, event.credential_id_hash),
                "issuer_did": event.issuer_did,
                "achievement_id": event.achievement_id,
                "outcome": event.outcome.value,
                "failed_checks": list(event.failed_checks),
                "verified_at": event.verified_at,
            },
        )

    async def key_published(self, event: IssuerKeyPublishedV1) -> None:
        """Learn which institution a DID belongs to."""
        await self.dids.put(event.did, event.institution_id, at=event.occurred_at)
