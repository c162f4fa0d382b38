"""Learner e-mails end to end: Kafka → notifier → real SMTP server (aiosmtpd)."""

from __future__ import annotations

import asyncio
import hashlib
import logging
from email.message import EmailMessage

import pytest
from aiokafka import AIOKafkaConsumer
from notifier_events import later, request
from notifier_support import SmtpSink, eventually, make_settings, running

from sceau_notifier.settings import NotifierSettings
from sceau_shared.events import DeadLetterV1
from sceau_shared.kafka import EventPublisher
from sceau_shared.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration


def _parts(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(preferencelist=("plain",))
    html = msg.get_body(preferencelist=("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


async def test_issued_emails_arrive_in_each_language_with_links(
    notifier_settings: NotifierSettings,
    smtp_sink: SmtpSink,
    publisher: EventPublisher,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fr = request(email="zoe.tremblay@example.org", language="fr", valid_until=later(700))
    en = request(email="sam.lee@example.org", language="en", recipient_name="Sam Lee")
    await publisher.publish(fr)
    await publisher.publish(en)
    # Capture everything the notifier logs while it consumes and sends (not the test's producer).
    caplog.clear()
    caplog.set_level(logging.DEBUG)
    async with running(notifier_settings):
        messages = await smtp_sink.wait_for(2)
    by_to = {str(m["To"]): m for m in messages}
    fr_msg = next(m for t, m in by_to.items() if "zoe.tremblay@example.org" in t)
    en_msg = next(m for t, m in by_to.items() if "sam.lee@example.org" in t)

    subject = "Votre titre de compétence numérique : Secourisme en milieu de travail"
    assert fr_msg["Subject"] == subject
    assert fr_msg["Content-Language"] == "fr"
    assert fr_msg["Message-ID"] == f"<notif.{fr.event_id}@sceau.local>"
    text, html = _parts(fr_msg)
    for part in (text, html):
        assert "https://issuer.sceau.example/v1/claim/tok123" in part
        assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in part
        assert "https://verify.sceau.example/" in part
        assert "Cégep de Sainte-Foy" in part
    assert "portefeuille numérique" in text

    assert en_msg["Subject"] == "Your digital credential: Workplace First Aid"
    text, html = _parts(en_msg)
    assert "Sainte-Foy College" in text
    assert "digital wallet" in text
    assert "https://issuer.sceau.example/v1/claim/tok123" in html

    # No learner contact detail in any log record, formatted or raw.
    # mail.log is the test's own SMTP server (the receiving side), not the notifier.
    records = [r for r in caplog.records if not r.name.startswith("mail.log")]
    for address in ("zoe.tremblay@example.org", "sam.lee@example.org"):
        for rec in records:
            assert address not in rec.getMessage(), (rec.name, rec.getMessage()[:300])
            assert address not in repr(rec.args)


async def test_status_change_email_has_reason_and_contact(
    notifier_settings: NotifierSettings, smtp_sink: SmtpSink, publisher: EventPublisher
) -> None:
    revoked = request(kind="revoked", reason_code="issued_in_error", language="fr")
    suspended = request(
        kind="suspended", language="en", email="sam.lee@example.org", reason_code="under_review"
    )
    async with running(notifier_settings):
        await publisher.publish(revoked)
        await publisher.publish(suspended)
        messages = await smtp_sink.wait_for(2)
    fr_msg = next(m for m in messages if m["Content-Language"] == "fr")
    en_msg = next(m for m in messages if m["Content-Language"] == "en")
    assert fr_msg["Subject"] == "Votre titre « Secourisme en milieu de travail » a été révoqué"
    text, _ = _parts(fr_msg)
    assert "Motif : émis par erreur" in text
    assert "registrariat@cegep-ste-foy.example" in text
    assert en_msg["Subject"] == 'Your credential "Workplace First Aid" is suspended'
    text, _ = _parts(en_msg)
    assert "Reason: under review" in text


async def test_replaying_the_topic_from_the_start_sends_nothing_twice(
    kafka_settings: KafkaSettings,
    mongo_settings: MongoSettings,
    smtp_sink: SmtpSink,
    publisher: EventPublisher,
    unique_id: str,
) -> None:
    events = [request(email=f"learner{i}@example.org") for i in range(5)]
    first = make_settings(kafka_settings, mongo_settings, smtp_sink, group=f"a-{unique_id}")
    async with running(first):
        for event in events:
            await publisher.publish(event)
        # The same events published again (a producer retry or an outbox re-send).
        for event in events[:2]:
            await publisher.publish(event)
        await smtp_sink.wait_for(5)
    assert smtp_sink.count() == 5
    # A new consumer group reads the whole topic again from offset 0: nothing new is sent.
    again = make_settings(kafka_settings, mongo_settings, smtp_sink, group=f"b-{unique_id}")
    async with running(again) as app:
        resp = None

        async def all_seen() -> bool:
            nonlocal resp
            resp = await app.client.get("/v1/emails", headers=app.auth, params={"limit": 50})
            return resp.status_code == 200 and len(resp.json()) == 5

        await eventually(all_seen)
        # Give the replaying consumer time to go through all 7 messages.
        await asyncio.sleep(3)
    assert smtp_sink.count() == 5
    ids = [m["Message-ID"] for m in smtp_sink.parsed()]
    assert len(set(ids)) == 5


async def test_delivery_log_by_recipient_hash_never_shows_the_address(
    notifier_settings: NotifierSettings, smtp_sink: SmtpSink, publisher: EventPublisher
) -> None:
    event = request(email="Zoe.Tremblay@Example.org")
    async with running(notifier_settings) as app:
        await publisher.publish(event)
        await smtp_sink.wait_for(1)
        digest = hashlib.sha256(b"zoe.tremblay@example.org").hexdigest()

        async def sent() -> list[dict[str, object]] | None:
            resp = await app.client.get(
                "/v1/emails", headers=app.auth, params={"recipient_hash": digest}
            )
            body = resp.json()
            return body if body and body[0]["status"] == "sent" else None

        log = await eventually(sent)
        assert log[0]["attempts"] == 1
        assert log[0]["id"] == str(event.event_id)
        assert "zoe" not in str(log).lower()
        unauthorised = await app.client.get("/v1/emails")
        assert unauthorised.status_code == 401
        assert unauthorised.headers["content-type"].startswith("application/problem+json")


async def test_a_poison_message_is_dead_lettered_and_the_rest_still_goes_out(
    notifier_settings: NotifierSettings,
    smtp_sink: SmtpSink,
    publisher: EventPublisher,
    kafka_settings: KafkaSettings,
    unique_id: str,
) -> None:
    good = request()
    await publisher.publish_raw(
        topic=good.TOPIC,
        key=b"bad",
        payload=b'{"kind": "issued", "recipient_email": "not-an-address"}',
        event_id="bad",
        event_type=good.event_type,
    )
    await publisher.publish(good)
    dlq = AIOKafkaConsumer(
        kafka_settings.topic(good.TOPIC) + ".dlq",
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"dlq-{unique_id}",
    )
    async with running(notifier_settings):
        await smtp_sink.wait_for(1)
        await dlq.start()
        try:
            record = await asyncio.wait_for(dlq.getone(), timeout=20)
        finally:
            await dlq.stop()
    letter = DeadLetterV1.model_validate_json(record.value or b"")
    assert letter.original_key == "bad"
    assert letter.consumer_group.endswith(".emails")
    assert smtp_sink.count() == 1
