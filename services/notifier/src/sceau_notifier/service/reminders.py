"""Expiry reminders and the follow-up survey: scheduled when a credential is issued, sent when due.

Each reminder is one document keyed ``<source event id>.r<days before expiry>`` (``.r0`` is the
notice on expiry; ``.survey`` is the follow-up survey e-mail sent some days after issuance when the
achievement has a survey link, R75), so a replayed event schedules nothing new. When a reminder
is due the scheduler hands it to its channel under that same key — the e-mail ledger or the
webhook ledger — whose atomic claim makes it go out once even if two schedulers or a restart pick
it up.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sceau_notifier.clock import Clock
from sceau_notifier.mail.render import EmailKind
from sceau_notifier.reminder_repository import ReminderRepository
from sceau_notifier.service.emails import EmailJob, EmailService
from sceau_notifier.service.webhooks import WebhookEventType, WebhookService
from sceau_notifier.settings import ReminderSettings
from sceau_shared.events import CredentialIssuedV1, NotificationRequestedV1

_log = logging.getLogger(__name__)

EMAIL = "email"
WEBHOOK = "webhook"
SURVEY = "survey"


@dataclass(frozen=True)
class Slot:
    """One reminder time: ``days`` before expiry (0 = on expiry) at ``due_at``."""

    days: int
    due_at: datetime


def reminder_slots(
    *, issued_at: datetime, valid_until: datetime, settings: ReminderSettings
) -> list[Slot]:
    """When to remind, skipping reminders that would fall before the credential was issued."""
    slots = [
        Slot(days, valid_until - timedelta(days=days))
        for days in settings.offsets_days
        if valid_until - timedelta(days=days) > issued_at
    ]
    if settings.on_expiry and valid_until > issued_at:
        slots.append(Slot(0, valid_until))
    return slots


def survey_key(source_event_id: str) -> str:
    """Unique key of the follow-up survey e-mail of one issuance."""
    return f"{source_event_id}.survey"


def reminder_key(source_event_id: str, days: int) -> str:
    """Unique key of one reminder, also used as its e-mail key (dot-atom safe)."""
    return f"{source_event_id}.r{days}"


def days_left(valid_until: datetime, now: datetime) -> int:
    """Whole days until expiry, rounded up (a reminder 6.5 days ahead says 7 days)."""
    return max(0, math.ceil((valid_until - now).total_seconds() / 86400))


class ReminderService:
    """Schedules reminders and sends the due ones through the e-mail and webhook services."""

    def __init__(
        self,
        repo: ReminderRepository,
        emails: EmailService,
        webhooks: WebhookService,
        *,
        settings: ReminderSettings,
        clock: Clock,
    ) -> None:
        self._repo = repo
        self._emails = emails
        self._webhooks = webhooks
        self._settings = settings
        self._clock = clock

    async def _schedule(
        self,
        *,
        channel: str,
        source_event_id: str,
        credential_id: str,
        institution_id: str,
        issued_at: datetime,
        valid_until: datetime,
        payload: str,
    ) -> int:
        now = self._clock()
        docs: list[dict[str, Any]] = [
            {
                "_id": f"{channel}:{reminder_key(source_event_id, slot.days)}",
                "key": reminder_key(source_event_id, slot.days),
                "channel": channel,
                "days": slot.days,
                "due_at": slot.due_at,
                "valid_until": valid_until,
                "credential_id": credential_id,
                "institution_id": institution_id,
                "source_event_id": source_event_id,
                "status": "scheduled",
                "payload": payload,
                "created_at": now,
            }
            for slot in reminder_slots(
                issued_at=issued_at, valid_until=valid_until, settings=self._settings
            )
        ]
        return len(await self._repo.schedule(docs, now=now))

    async def schedule_email(self, request: NotificationRequestedV1) -> int:
        """Schedule the learner's expiry reminders and follow-up survey for an issuance."""
        scheduled = await self._schedule_survey(request) if request.survey_url else 0
        if request.valid_until is None:
            return scheduled
        return scheduled + await self._schedule(
            channel=EMAIL,
            source_event_id=str(request.event_id),
            credential_id=request.credential_id,
            institution_id=request.institution_id,
            issued_at=request.issued_at,
            valid_until=request.valid_until,
            payload=request.model_dump_json(),
        )

    async def _schedule_survey(self, request: NotificationRequestedV1) -> int:
        after = request.survey_after_days or self._settings.survey_after_days
        key = survey_key(str(request.event_id))
        doc: dict[str, Any] = {
            "_id": f"{EMAIL}:{key}",
            "key": key,
            "channel": EMAIL,
            "kind": SURVEY,
            "days": -after,
            "due_at": request.issued_at + timedelta(days=after),
            "valid_until": request.valid_until,
            "credential_id": request.credential_id,
            "institution_id": request.institution_id,
            "source_event_id": str(request.event_id),
            "status": "scheduled",
            "payload": request.model_dump_json(),
            "created_at": self._clock(),
        }
        return len(await self._repo.schedule([doc], now=self._clock()))

    async def schedule_webhook(self, event: CredentialIssuedV1) -> int:
        """Schedule the institution's ``credential.expiring`` webhooks."""
        if event.valid_until is None:
            return 0
        return await self._schedule(
            channel=WEBHOOK,
            source_event_id=str(event.event_id),
            credential_id=event.credential_id,
            institution_id=event.institution_id,
            issued_at=event.issued_at,
            valid_until=event.valid_until,
            payload=event.model_dump_json(),
        )

    async def cancel(self, credential_id: str) -> int:
        """Cancel reminders of a credential that was revoked or replaced."""
        return await self._repo.cancel_for(credential_id, at=self._clock())

    async def run_due(self) -> int:
        """Hand every due reminder to its channel; return how many were handed over."""
        now = self._clock()
        await self._repo.build(now)  # once per database (reminders stored before the index)
        due = await self._repo.due(now, self._settings.batch_size)
        jobs: list[EmailJob] = []
        handed: list[str] = []
        for doc in due:
            if doc.get("kind") == SURVEY:
                jobs.append(
                    EmailJob(
                        key=doc["key"],
                        request=NotificationRequestedV1.model_validate_json(doc["payload"]),
                        kind=EmailKind.SURVEY,
                        source_event_id=doc["source_event_id"],
                    )
                )
                handed.append(doc["_id"])
                continue
            left = days_left(doc["valid_until"], now)
            if doc["days"] > 0 and left == 0:
                # The service was down past expiry: the "expires in N days" text would be false.
                await self._repo.mark(doc["_id"], "skipped", at=now)
                continue
            if doc["channel"] == EMAIL:
                request = NotificationRequestedV1.model_validate_json(doc["payload"])
                kind = EmailKind.EXPIRED if doc["days"] == 0 else EmailKind.EXPIRING
                jobs.append(
                    EmailJob(
                        key=doc["key"],
                        request=request,
                        kind=kind,
                        days_left=left,
                        source_event_id=doc["source_event_id"],
                    )
                )
            else:
                event = CredentialIssuedV1.model_validate_json(doc["payload"])
                await self._webhooks.fan_out(
                    event_id=event.event_id,
                    institution_id=event.institution_id,
                    event_type=WebhookEventType.CREDENTIAL_EXPIRING,
                    occurred_at=doc["due_at"],
                    data={
                        "credential_id": event.credential_id,
                        "achievement_id": event.achievement_id,
                        "valid_until": event.valid_until,
                        "days_left": left,
                        "expired": doc["days"] == 0,
                    },
                    id_suffix=f"r{doc['days']}",
                )
            handed.append(doc["_id"])
        if jobs:
            await self._emails.submit(jobs)
        for reminder_id in handed:
            await self._repo.mark(reminder_id, "handed_over", at=now)
        if handed:
            _log.info("%d reminders handed over", len(handed))
        return len(handed)
