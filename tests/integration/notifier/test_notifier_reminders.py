"""Expiry reminders and crash recovery, driven by a hand-moved clock (real Mongo and SMTP)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from notifier_events import request
from notifier_support import Receiver, SmtpSink, graph_on
from pymongo import AsyncMongoClient

from sceau_notifier.settings import NotifierSettings
from sceau_notifier.webhooks.signatures import verify
from sceau_shared.events import CredentialIssuedV1, NotificationKind

pytestmark = pytest.mark.integration

START = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def test_reminders_go_out_once_each_at_their_offsets(
    notifier_settings: NotifierSettings,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    smtp_sink: SmtpSink,
) -> None:
    db = mongo_client[notifier_settings.mongo.database]
    clock = FakeClock(START)
    valid_until = START + timedelta(days=200)
    event = request(issued_at=START, valid_until=valid_until, language="en")
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        await notifier.intake.notification_requests([event])
        await smtp_sink.wait_for(1)  # the issuance e-mail
        assert await notifier.reminders.run_due() == 0
        expected = [
            (90, "expires in 90 days"),
            (30, "expires in 30 days"),
            (7, "expires in 7 days"),
        ]
        for days, subject_part in expected:
            clock.now = valid_until - timedelta(days=days) + timedelta(minutes=1)
            assert await notifier.reminders.run_due() == 1
            messages = await smtp_sink.wait_for(smtp_sink.count())
            assert subject_part in str(messages[-1]["Subject"])
            assert await notifier.reminders.run_due() == 0  # not twice
        # The same event replayed schedules nothing new.
        await notifier.intake.notification_requests([event])
    # A restart (new services, same database) sends nothing already sent.
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        assert await notifier.reminders.run_due() == 0
        clock.now = valid_until + timedelta(hours=1)
        assert await notifier.reminders.run_due() == 1
    messages = await smtp_sink.wait_for(5)
    assert smtp_sink.count() == 5
    assert "has expired" in str(messages[-1]["Subject"])
    assert len({m["Message-ID"] for m in messages}) == 5


async def test_a_revoked_credential_gets_no_more_reminders(
    notifier_settings: NotifierSettings,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    smtp_sink: SmtpSink,
) -> None:
    db = mongo_client[notifier_settings.mongo.database]
    clock = FakeClock(START)
    valid_until = START + timedelta(days=120)
    issued = request(issued_at=START, valid_until=valid_until)
    revoked = request(kind=NotificationKind.REVOKED, issued_at=START, reason_code="misconduct")
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        await notifier.intake.notification_requests([issued])
        await notifier.intake.notification_requests([revoked])
        clock.now = valid_until + timedelta(days=1)
        assert await notifier.reminders.run_due() == 0
    assert smtp_sink.count() == 2


async def test_crash_between_send_and_record_resends_with_the_same_message_id(
    notifier_settings: NotifierSettings,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    smtp_sink: SmtpSink,
) -> None:
    db = mongo_client[notifier_settings.mongo.database]
    clock = FakeClock(START)
    event = request(issued_at=START)

    class Crash(Exception):
        pass

    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        ledger = notifier.emails._ledger

        async def crash(*args: object, **kwargs: object) -> None:
            raise Crash

        ledger.succeed = crash  # type: ignore[method-assign]
        with pytest.raises(Crash):
            await notifier.intake.notification_requests([event])
    assert smtp_sink.count() == 1  # it went out, but was never recorded as sent
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        # Kafka redelivers the event: the claim is still leased, so nothing is sent yet.
        await notifier.intake.notification_requests([event])
        assert await notifier.emails.run_due() == 0
        clock.now = START + timedelta(seconds=notifier_settings.email_retry.lease_s + 1)
        assert await notifier.emails.run_due() == 1
        assert await notifier.emails.run_due() == 0
        log = await notifier.emails.log(recipient_hash=None, status=None, limit=10)
    messages = await smtp_sink.wait_for(2)
    assert smtp_sink.count() == 2
    assert messages[0]["Message-ID"] == messages[1]["Message-ID"]
    assert messages[0]["Date"] == messages[1]["Date"]
    assert log[0]["status"] == "sent"
    assert log[0]["attempts"] == 1


async def test_smtp_outage_is_retried_with_backoff_then_sent(
    notifier_settings: NotifierSettings,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    smtp_sink: SmtpSink,
) -> None:
    db = mongo_client[notifier_settings.mongo.database]
    clock = FakeClock(START)
    down = notifier_settings.model_copy(
        update={"smtp": notifier_settings.smtp.model_copy(update={"port": 1, "timeout_s": 1})}
    )
    async with graph_on(down, db, clock=clock) as n:
        assert await n.intake.notification_requests([request(issued_at=START)]) == 0
        log = await n.emails.log(recipient_hash=None, status="retrying", limit=10)
        assert log[0]["attempts"] == 1
        assert log[0]["last_error"]
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        assert await notifier.emails.run_due() == 0  # backoff not elapsed
        clock.now = START + timedelta(seconds=5)
        assert await notifier.emails.run_due() == 1
    assert smtp_sink.count() == 1


async def test_a_late_duplicate_cannot_resend_after_the_sender_marked_it_done(
    notifier_settings: NotifierSettings,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    smtp_sink: SmtpSink,
) -> None:
    # The race: a duplicate checks "done?" (no), the first sender then marks done and drops its
    # claim, and the duplicate's claim insert succeeds. Checking after claiming closes it.
    db = mongo_client[notifier_settings.mongo.database]
    clock = FakeClock(START)
    event = request(issued_at=START)
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        assert await notifier.intake.notification_requests([event]) == 1
        ledger = notifier.emails._ledger
        key = str(event.event_id)
        claims = await ledger.claim_new(
            [key], now=clock.now, lease_until=clock.now + timedelta(seconds=60), extra={}
        )
        assert [c.key for c in claims] == [key]  # the late claim wins the insert...
        assert await ledger.already_done(key)  # ...but sees the done marker and backs off
        assert await ledger.states.find_one({"_id": key}) is None
        assert await notifier.intake.notification_requests([event]) == 0
        clock.now = START + timedelta(hours=1)
        assert await notifier.emails.run_due() == 0
    assert smtp_sink.count() == 1


async def test_expiring_webhooks_follow_the_same_schedule(
    notifier_settings: NotifierSettings,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    receiver: Receiver,
) -> None:
    db = mongo_client[notifier_settings.mongo.database]
    clock = FakeClock(START)
    valid_until = START + timedelta(days=60)
    event = CredentialIssuedV1(
        producer="tests",
        credential_id="urn:uuid:2f1c",
        institution_id="cegep-test",
        issuer_did="did:web:cegep.example",
        achievement_id="ach-cpr",
        achievement_type="Certification",
        profile="ob3",
        achievement_version=1,
        issued_at=START,
        valid_until=valid_until,
        occurred_at=START + timedelta(seconds=1),
    )
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        endpoint, secret = await notifier.webhooks.create_endpoint(
            "cegep-test", url=receiver.url, event_types=["credential.expiring"], description=""
        )
        await notifier.intake.credential_issued(event)
        await notifier.intake.credential_issued(event)  # replayed: nothing new
        assert await notifier.webhooks.run_due() == 0  # not subscribed to credential.issued
        for days in (30, 7, 0):
            clock.now = valid_until - timedelta(days=days) + timedelta(minutes=1)
            assert await notifier.reminders.run_due() == 1
            assert await notifier.webhooks.run_due() == 1
            assert await notifier.reminders.run_due() == 0
    bodies = [json.loads(r["body"]) for r in receiver.requests]
    assert [b["type"] for b in bodies] == ["credential.expiring"] * 3
    assert [b["data"]["days_left"] for b in bodies] == [30, 7, 0]
    assert [b["data"]["expired"] for b in bodies] == [False, False, True]
    ids = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert ids == [f"msg_{event.event_id.hex}r{d}" for d in (30, 7, 0)]
    assert all(
        verify(
            secret,
            r["headers"]["webhook-id"],
            int(r["headers"]["webhook-timestamp"]),
            r["body"],
            r["headers"]["webhook-signature"],
        )
        for r in receiver.requests
    )
    assert endpoint["event_types"] == ["credential.expiring"]


SURVEY = "https://survey.cegep.example/s/exit?cohort=2026"


@pytest.mark.parametrize(("language", "words"), [("fr", "sondage"), ("en", "survey")])
async def test_the_follow_up_survey_goes_out_once_n_days_after_issuance(
    notifier_settings: NotifierSettings,
    mongo_client: AsyncMongoClient[dict[str, Any]],
    smtp_sink: SmtpSink,
    language: str,
    words: str,
) -> None:
    """R75: the achievement's survey link is e-mailed N days after issuance, once, in FR/EN.

    An issuance without a link gets no survey, and neither does a credential revoked before
    the survey was due.
    """
    db = mongo_client[notifier_settings.mongo.database]
    clock = FakeClock(START)
    after = notifier_settings.reminders.survey_after_days
    event = request(issued_at=START, language=language, survey_url=SURVEY)
    plain = request(issued_at=START, credential_id="urn:uuid:1")
    revoked_later = request(issued_at=START, credential_id="urn:uuid:2", survey_url=SURVEY)
    revocation = request(kind=NotificationKind.REVOKED, issued_at=START, credential_id="urn:uuid:2")
    async with graph_on(notifier_settings, db, clock=clock) as notifier:
        await notifier.intake.notification_requests([event, plain, revoked_later])
        await notifier.intake.notification_requests([revocation])
        await smtp_sink.wait_for(4)  # three issuance e-mails and the revocation
        clock.now = START + timedelta(days=after) - timedelta(minutes=1)
        assert await notifier.reminders.run_due() == 0
        clock.now = START + timedelta(days=after, minutes=1)
        assert await notifier.reminders.run_due() == 1
        messages = await smtp_sink.wait_for(5)
        assert await notifier.reminders.run_due() == 0  # not twice
        await notifier.intake.notification_requests([event])  # replayed: nothing new
    async with graph_on(notifier_settings, db, clock=clock) as notifier:  # a restart
        clock.now = START + timedelta(days=after + 10)
        assert await notifier.reminders.run_due() == 0
    assert smtp_sink.count() == 5  # one survey: not for "plain", not for the revoked one
    survey = messages[-1]
    assert words in str(survey["Subject"]).lower()
    text = survey.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = survey.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert SURVEY in text
    assert SURVEY.replace("&", "&amp;") in html
    assert "Sainte-Foy" in text
