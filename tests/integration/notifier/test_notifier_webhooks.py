"""Institution webhooks end to end: Kafka → notifier → real HTTP receivers on loopback."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
from datetime import UTC, datetime

import pytest
from aiokafka import AIOKafkaConsumer
from notifier_support import Receiver, SmtpSink, eventually, make_settings, running

from sceau_notifier.settings import NotifierSettings, WebhookSettings
from sceau_notifier.webhooks.pseudonyms import CredentialPseudonyms
from sceau_notifier.webhooks.signatures import verify
from sceau_shared.events import (
    CredentialIssuedV1,
    DeadLetterV1,
    IssuerKeyPublishedV1,
    KeyAction,
    VerificationCompletedV1,
    VerificationOutcome,
)
from sceau_shared.kafka import EventPublisher
from sceau_shared.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration

INSTITUTION = "cegep-test"


def issued(**over: object) -> CredentialIssuedV1:
    values: dict[str, object] = {
        "producer": "tests",
        "credential_id": "urn:uuid:0b8e7c52-8a55-4a43-93f5-2b6c6f1c0d11",
        "institution_id": INSTITUTION,
        "issuer_did": "did:web:cegep.example",
        "achievement_id": "ach-1",
        "achievement_version": 1,
        "achievement_type": "Certificate",
        "profile": "ob3",
        "issued_at": datetime.now(UTC),
    }
    values.update(over)
    return CredentialIssuedV1(**values)


async def register(app, url: str, types: list[str]) -> dict[str, object]:  # type: ignore[no-untyped-def]
    resp = await app.client.post(
        f"/v1/institutions/{INSTITUTION}/webhooks",
        headers=app.auth,
        json={"url": url, "event_types": types, "description": "tests"},
    )
    assert resp.status_code == 201, resp.text
    body: dict[str, object] = resp.json()
    return body


def with_retries(
    settings: NotifierSettings, *, timeout_s: float | None = None, **retry: object
) -> NotifierSettings:
    """``settings`` with other webhook retry values (and request timeout)."""
    webhooks: dict[str, object] = {"retry": settings.webhooks.retry.model_copy(update=retry)}
    if timeout_s is not None:
        webhooks["timeout_s"] = timeout_s
    return settings.model_copy(update={"webhooks": settings.webhooks.model_copy(update=webhooks)})


async def delivery_once(app, key: str, status: str) -> dict[str, object]:  # type: ignore[no-untyped-def]
    """Wait until delivery ``key`` has ``status``; return its view."""

    async def reached() -> dict[str, object] | None:
        resp = await app.client.get(f"/v1/deliveries/{key}", headers=app.auth)
        body: dict[str, object] = resp.json()
        return body if body.get("status") == status else None

    view: dict[str, object] = await eventually(reached)
    return view


async def enable(app, endpoint_id: object, enabled: bool) -> None:  # type: ignore[no-untyped-def]
    """Turn an endpoint on or off through the operator API."""
    resp = await app.client.patch(
        f"/v1/institutions/{INSTITUTION}/webhooks/{endpoint_id}",
        headers=app.auth,
        json={"enabled": enabled},
    )
    assert resp.status_code == 200, resp.text


async def test_flaky_receiver_gets_signed_delivery_after_retries(
    notifier_settings: NotifierSettings, receiver: Receiver, publisher: EventPublisher
) -> None:
    receiver.behaviour = lambda n: 503 if n <= 2 else 200
    async with running(notifier_settings) as app:
        endpoint = await register(app, receiver.url, ["credential.issued"])
        event = issued()  # events older than an endpoint are never sent to it
        secret = str(endpoint["secret"])
        assert secret.startswith("whsec_")
        listed = await app.client.get(f"/v1/institutions/{INSTITUTION}/webhooks", headers=app.auth)
        assert "secret" not in listed.json()[0]
        await publisher.publish(event)
        await eventually(lambda: len(receiver.requests) >= 3)
        key = f"msg_{event.event_id.hex}:{endpoint['id']}"
        view = await delivery_once(app, key, "sent")
    assert view["attempts"] == 3
    ids = {r["headers"]["webhook-id"] for r in receiver.requests}
    assert ids == {f"msg_{event.event_id.hex}"}  # same id on every retry
    for req in receiver.requests:
        headers = req["headers"]
        assert verify(
            secret,
            headers["webhook-id"],
            int(headers["webhook-timestamp"]),
            req["body"],
            headers["webhook-signature"],
        )
    payload = json.loads(receiver.requests[-1]["body"])
    assert payload["type"] == "credential.issued"
    assert payload["data"]["credential_id"] == event.credential_id


async def test_silent_receiver_dead_letters_then_operator_replays(
    kafka_settings: KafkaSettings,
    mongo_settings: MongoSettings,
    smtp_sink: SmtpSink,
    receiver: Receiver,
    publisher: EventPublisher,
    unique_id: str,
) -> None:
    answering = False
    receiver.behaviour = lambda n: 204 if answering else None  # None: never answers
    settings = with_retries(
        make_settings(kafka_settings, mongo_settings, smtp_sink, group=f"n-{unique_id}"),
        timeout_s=0.3,
        max_attempts=2,
    )
    dlq = AIOKafkaConsumer(
        kafka_settings.topic("notifier.webhook-deliveries.v1.dlq"),
        bootstrap_servers=kafka_settings.bootstrap_servers,
        auto_offset_reset="earliest",
        group_id=f"dlq-{unique_id}",
    )
    async with running(settings) as app:
        await register(app, receiver.url, ["credential.issued", "credential.status_changed"])
        await publisher.publish(issued())

        async def failed() -> list[dict[str, object]] | None:
            resp = await app.client.get(
                "/v1/deliveries", headers=app.auth, params={"status": "failed"}
            )
            body: list[dict[str, object]] = resp.json()
            return body or None

        failures = await eventually(failed)
        assert failures[0]["attempts"] == 2
        assert "no answer" in str(failures[0]["last_error"])
        await dlq.start()
        try:
            record = await asyncio.wait_for(dlq.getone(), timeout=20)
        finally:
            await dlq.stop()
        letter = DeadLetterV1.model_validate_json(record.value or b"")
        assert letter.original_key == failures[0]["id"]
        assert json.loads(letter.payload)["type"] == "credential.issued"

        answering = True
        replay = await app.client.post(
            f"/v1/deliveries/{failures[0]['id']}/replay", headers=app.auth
        )
        assert replay.status_code == 202

        async def sent() -> bool:
            resp = await app.client.get(f"/v1/deliveries/{failures[0]['id']}", headers=app.auth)
            return bool(resp.json()["status"] == "sent")

        await eventually(sent)
        again = await app.client.post(
            f"/v1/deliveries/{failures[0]['id']}/replay", headers=app.auth
        )
        assert again.status_code == 409


async def test_a_disabled_endpoint_gets_no_queued_delivery(
    notifier_settings: NotifierSettings, receiver: Receiver, publisher: EventPublisher
) -> None:
    """Issue 18: a delivery queued before the endpoint was disabled was still sent to it."""
    receiver.behaviour = lambda n: 503 if n == 1 else 204
    # The retry waits 2 s: time to disable the endpoint after the first failure.
    settings = with_retries(notifier_settings, base_delay_s=2.0, jitter=0.0)
    async with running(settings) as app:
        endpoint = await register(app, receiver.url, ["credential.issued"])
        event = issued()
        await publisher.publish(event)
        await eventually(lambda: len(receiver.requests) >= 1)  # failed once: retry queued
        await enable(app, endpoint["id"], False)
        key = f"msg_{event.event_id.hex}:{endpoint['id']}"
        view = await delivery_once(app, key, "failed")
        assert view["last_error"] == "endpoint disabled"
        assert len(receiver.requests) == 1
        # Enabled again, the operator can replay it.
        await enable(app, endpoint["id"], True)
        replayed = await app.client.post(f"/v1/deliveries/{key}/replay", headers=app.auth)
        assert replayed.status_code == 202
        await eventually(lambda: len(receiver.requests) >= 2)


PLAIN_HASH = hashlib.sha256(b"urn:uuid:0b6c3d0e-5f7a-4e21-8d9c-1a2b3c4d5e6f").hexdigest()


async def test_verification_is_routed_to_the_issuers_institution(
    notifier_settings: NotifierSettings, receiver: Receiver, publisher: EventPublisher
) -> None:
    did = "did:web:cegep.example"
    async with running(notifier_settings) as app:
        await register(app, receiver.url, ["verification.completed"])
        await publisher.publish(
            IssuerKeyPublishedV1(
                producer="tests",
                institution_id=INSTITUTION,
                did=did,
                verification_method=f"{did}#key-1",
                public_key_multibase="z6Mk",
                action=KeyAction.ADDED,
                active_from=datetime.now(UTC),
            )
        )
        await asyncio.sleep(1.0)
        # Issue 18, item 10: a submission that only names the DID (its proof did not verify
        # against the institution's key) is not the institution's: no webhook, no delivery.
        await publisher.publish(
            VerificationCompletedV1(
                producer="tests",
                credential_id_hash="cd" * 32,
                issuer_did=did,
                issuer_proven=False,
                outcome=VerificationOutcome.NOT_VERIFIED,
                failed_checks=["proof"],
                verified_at=datetime.now(UTC),
            )
        )
        await publisher.publish(
            VerificationCompletedV1(
                producer="tests",
                credential_id_hash=PLAIN_HASH,
                issuer_did=did,
                issuer_proven=True,
                outcome=VerificationOutcome.VERIFIED,
                verified_at=datetime.now(UTC),
            )
        )
        await publisher.publish(issued())  # not subscribed: must not arrive
        await eventually(lambda: len(receiver.requests) >= 1)
        await asyncio.sleep(1.0)
    assert len(receiver.requests) == 1
    body = json.loads(receiver.requests[0]["body"])
    assert body["type"] == "verification.completed"
    assert body["data"]["outcome"] == "verified"
    # R56/R69: the institution could reverse a plain hash of its own credential ids; it gets a
    # pseudonym keyed with the deployment's secret instead (stable, so checks can be counted).
    sent = body["data"]["credential_id_hash"]
    assert sent != PLAIN_HASH
    key = notifier_settings.webhooks.secret_key
    assert key is not None
    assert sent == CredentialPseudonyms(key.get_secret_value()).of(INSTITUTION, PLAIN_HASH)


async def test_loopback_endpoint_is_refused_unless_allowed(
    notifier_settings: NotifierSettings, receiver: Receiver
) -> None:
    strict = notifier_settings.model_copy(
        update={
            "webhooks": WebhookSettings(
                secret_key=base64.b64encode(os.urandom(32)).decode(),
                allowed_schemes=frozenset({"http", "https"}),
            )
        }
    )
    async with running(strict) as app:
        for url in (receiver.url, "https://169.254.169.254/latest", "https://10.0.0.5/hook"):
            resp = await app.client.post(
                f"/v1/institutions/{INSTITUTION}/webhooks",
                headers=app.auth,
                json={"url": url, "event_types": ["credential.issued"]},
            )
            assert resp.status_code == 422, resp.text
            assert resp.headers["content-type"].startswith("application/problem+json")
        listed = await app.client.get(f"/v1/institutions/{INSTITUTION}/webhooks", headers=app.auth)
        assert listed.json() == []
        bad_type = await app.client.post(
            f"/v1/institutions/{INSTITUTION}/webhooks",
            headers=app.auth,
            json={"url": "https://hooks.example.org/x", "event_types": ["nope"]},
        )
        assert bad_type.status_code == 422


async def test_endpoints_are_isolated_per_institution_and_need_the_operator_token(
    notifier_settings: NotifierSettings, receiver: Receiver
) -> None:
    async with running(notifier_settings) as app:
        endpoint = await register(app, receiver.url, ["credential.issued"])
        other = await app.client.get(
            f"/v1/institutions/another-college/webhooks/{endpoint['id']}", headers=app.auth
        )
        assert other.status_code == 404
        assert (
            await app.client.get("/v1/institutions/another-college/webhooks", headers=app.auth)
        ).json() == []
        wrong = await app.client.get(
            f"/v1/institutions/{INSTITUTION}/webhooks", headers={"authorization": "Bearer nope"}
        )
        assert wrong.status_code == 401
        patched = await app.client.patch(
            f"/v1/institutions/{INSTITUTION}/webhooks/{endpoint['id']}",
            headers=app.auth,
            json={"event_types": ["verification.completed"], "enabled": False},
        )
        assert patched.status_code == 200
        assert patched.json()["event_types"] == ["verification.completed"]
        assert patched.json()["enabled"] is False
        gone = await app.client.delete(
            f"/v1/institutions/{INSTITUTION}/webhooks/{endpoint['id']}", headers=app.auth
        )
        assert gone.status_code == 204
        assert (
            await app.client.get(
                f"/v1/institutions/{INSTITUTION}/webhooks/{endpoint['id']}", headers=app.auth
            )
        ).status_code == 404
        bad_id = await app.client.get("/v1/institutions/bad%20id/webhooks", headers=app.auth)
        assert bad_id.status_code == 422
