"""The registry of the notifier's hot queries: every database call on a request or event path.

Each entry runs a path through the notifier's own services (``compose_graph`` on the test
database, a hand-moved clock, real SMTP sink and HTTP receiver, no loop in the background);
``test_notifier_hot_queries.py`` records every command they send and has the server ``explain``
each filter (see ``sceau_dev.testing.hot_queries``). ``bounded`` names the collections a path may
read whole because their size does not grow with the notifications: the ledgers' state
collections (``emails_state``, ``webhook_deliveries_state``: in-flight and failed work only).

docs/mongodb-features.md ("Hot queries", notifier) lists the same names.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from notifier_events import request
from notifier_support import Receiver

from sceau_dev.testing.hot_queries import HotQuery
from sceau_notifier.graph import NotifierGraph
from sceau_notifier.mail.message import recipient_hash
from sceau_shared.events import (
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    IssuerKeyPublishedV1,
    KeyAction,
    NotificationRequestedV1,
    StatusChange,
    VerificationCompletedV1,
    VerificationOutcome,
)

EMAIL_STATE = frozenset({"emails_state"})
DELIVERY_STATE = frozenset({"webhook_deliveries_state"})
"""In-flight and failed work only."""

DID = "did:web:hot.college.example"


class Clock:
    """A hand-moved clock (reminders come due when the test says)."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class World:
    """What the hot queries act on (filled by the fixture, then by the queries in order)."""

    graph: NotifierGraph
    db: Any
    clock: Clock
    receiver: Receiver
    institution_id: str = field(default_factory=lambda: f"inst-{uuid.uuid4().hex[:8]}")
    credential_id: str = field(default_factory=lambda: f"urn:uuid:{uuid.uuid4()}")
    endpoint_id: str = ""
    email: str = "ada.lovelace@example.org"
    issued: NotificationRequestedV1 | None = None

    @property
    def valid_until(self) -> datetime:
        return self.clock.now + timedelta(days=120)


def issued_event(world: World, **over: Any) -> CredentialIssuedV1:
    values: dict[str, Any] = {
        "producer": "tests",
        "credential_id": world.credential_id,
        "institution_id": world.institution_id,
        "issuer_did": DID,
        "achievement_id": "ach-1",
        "achievement_version": 1,
        "achievement_type": "Certificate",
        "profile": "ob3",
        "issued_at": world.clock.now,
        "valid_until": world.valid_until,
    }
    values.update(over)
    return CredentialIssuedV1(**values)


def status_event(world: World, change: StatusChange) -> CredentialStatusChangedV1:
    return CredentialStatusChangedV1(
        producer="tests",
        credential_id=world.credential_id,
        institution_id=world.institution_id,
        issuer_did=DID,
        change=change,
        reason_code="hot",
        effective_at=world.clock.now,
    )


async def key_published(world: World) -> None:
    await world.graph.intake.key_published(
        IssuerKeyPublishedV1(
            producer="tests",
            institution_id=world.institution_id,
            did=DID,
            verification_method=f"{DID}#key-1",
            public_key_multibase="z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
            action=KeyAction.ADDED,
            active_from=world.clock.now,
        )
    )


async def webhook_endpoints(world: World) -> None:
    webhooks = world.graph.webhooks
    doc, _ = await webhooks.create_endpoint(
        world.institution_id,
        url=world.receiver.url,
        event_types=[
            "credential.issued",
            "credential.status_changed",
            "credential.expiring",
            "verification.completed",
        ],
        description="hot",
    )
    world.endpoint_id = str(doc["_id"])
    assert len(await webhooks.list_endpoints(world.institution_id)) == 1
    await webhooks.get_endpoint(world.institution_id, world.endpoint_id)
    await webhooks.update_endpoint(world.institution_id, world.endpoint_id, {"description": "h"})
    world.clock.now += timedelta(seconds=1)  # events from now on come after the endpoint


async def email_intake(world: World) -> None:
    world.issued = request(
        email=world.email,
        credential_id=world.credential_id,
        institution_id=world.institution_id,
        issued_at=world.clock.now,
        valid_until=world.valid_until,
        survey_url="https://survey.college.example/s/1",
    )
    assert await world.graph.intake.notification_requests([world.issued]) == 1


async def email_intake_pipelined(world: World) -> None:
    events = [request(email=f"learner{n}@example.org", issued_at=world.clock.now) for n in range(3)]
    await world.graph.intake.notification_requests(events, pipelined=True)
    await world.graph.emails.drain()


async def email_replayed_event(world: World) -> None:
    assert world.issued is not None
    assert await world.graph.intake.notification_requests([world.issued]) == 0


async def webhook_fan_out(world: World) -> None:
    intake = world.graph.intake
    await intake.credential_issued(issued_event(world))
    await intake.verification_completed(
        VerificationCompletedV1(
            producer="tests",
            credential_id_hash="ab" * 32,
            issuer_did=DID,
            issuer_proven=True,
            outcome=VerificationOutcome.VERIFIED,
            verified_at=world.clock.now,
        )
    )


async def webhook_deliveries(world: World) -> None:
    assert await world.graph.webhooks.run_due() == 2


async def reminder_cancel(world: World) -> None:
    other = World(world.graph, world.db, world.clock, world.receiver, world.institution_id)
    await world.graph.intake.credential_issued(issued_event(other))  # reminders to cancel
    await world.graph.intake.credential_status_changed(status_event(other, StatusChange.REVOKED))
    revoked = request(
        kind="revoked", credential_id=other.credential_id, institution_id=world.institution_id
    )
    await world.graph.intake.notification_requests([revoked])


async def webhook_retries(world: World) -> None:
    world.receiver.behaviour = lambda n: 500
    await world.graph.webhooks.run_due()  # the revocation's deliveries: first failure
    for _ in range(5):
        world.clock.now += timedelta(hours=1)
        await world.graph.webhooks.run_due()  # until the attempts are exhausted: failed
    world.receiver.behaviour = lambda n: 200


async def delivery_log(world: World) -> None:
    webhooks = world.graph.webhooks
    failed = await webhooks.deliveries(
        status="failed", institution_id=None, endpoint_id=None, limit=10
    )
    assert failed
    key = str(failed[0]["_id"])
    await webhooks.deliveries(
        status=None, institution_id=world.institution_id, endpoint_id=None, limit=10
    )
    await webhooks.deliveries(
        status=None, institution_id=None, endpoint_id=world.endpoint_id, limit=10
    )
    await webhooks.delivery(key)
    await webhooks.replay(key)
    assert await webhooks.run_due() >= 1


async def reminders_due(world: World) -> None:
    reminders = world.graph.reminders
    assert await reminders.run_due() == 0
    world.clock.now = world.valid_until - timedelta(days=90) + timedelta(minutes=1)
    assert await reminders.run_due() >= 3  # survey e-mail, expiring e-mail and webhook
    assert await reminders.run_due() == 0


async def email_retries(world: World) -> None:
    world.clock.now += timedelta(hours=1)
    await world.graph.emails.run_due()


async def email_log(world: World) -> None:
    emails = world.graph.emails
    views = await emails.log(recipient_hash=recipient_hash(world.email), status=None, limit=10)
    assert views
    await emails.log(recipient_hash=None, status="failed", limit=10)
    key = str(views[0]["_id"])
    assert await emails.exists(key)
    assert not await emails.replay(key)  # sent, not failed: nothing to replay


HOT_QUERIES: dict[str, HotQuery] = {
    "key published": HotQuery(
        "consumer of issuer.key-published.v1", "issuer_dids._id (upsert)", key_published
    ),
    "webhook endpoints": HotQuery(
        "POST/GET/PATCH /v1/institutions/{id}/webhooks[/{endpoint}]",
        "webhook_endpoint_index._id (the institution's slots), webhook_endpoints._id",
        webhook_endpoints,
        bounded=DELIVERY_STATE,
    ),
    "email intake": HotQuery(
        "consumer of issuer.notification-requested.v1 (issued: e-mail, reminders, survey)",
        "emails._id insert, emails_done._id, emails_state._id insert (the claim), reminders",
        email_intake,
        bounded=EMAIL_STATE,
    ),
    "email intake pipelined": HotQuery(
        "the same, as the Kafka consumer sends (batch claimed, sent in the background)",
        "as above; leases renewed on emails_state (bounded)",
        email_intake_pipelined,
        bounded=EMAIL_STATE,
    ),
    "email replayed event": HotQuery(
        "the same event delivered again",
        "emails._id, emails_done._id",
        email_replayed_event,
        bounded=EMAIL_STATE,
    ),
    "webhook fan-out": HotQuery(
        "consumers of credential-issued, verification-completed (and status-changed)",
        "issuer_dids._id, webhook_endpoint_index._id, webhook_endpoints._id, "
        "webhook_deliveries._id insert, "
        "webhook_deliveries_done._id, webhook_deliveries_state._id insert",
        webhook_fan_out,
        bounded=DELIVERY_STATE,
    ),
    "webhook deliveries": HotQuery(
        "delivery loop",
        "webhook_deliveries_state (bounded), webhook_deliveries._id, webhook_endpoints._id, "
        "webhook_deliveries_done._id insert",
        webhook_deliveries,
        bounded=DELIVERY_STATE,
    ),
    "reminder cancel": HotQuery(
        "consumers of credential-status-changed (revoked) and notification-requested (revoked)",
        "reminder_index._id (the credential's numbered slots), reminders._id",
        reminder_cancel,
        bounded=DELIVERY_STATE | EMAIL_STATE,
    ),
    "webhook retries": HotQuery(
        "delivery loop: failures, back-off, attempts exhausted (dead letter)",
        "webhook_deliveries_state (bounded), records and endpoints by _id",
        webhook_retries,
        bounded=DELIVERY_STATE,
    ),
    "delivery log": HotQuery(
        "GET /v1/deliveries (?status, ?institution_id, ?endpoint_id), GET/replay one",
        "webhook_deliveries_state (bounded), webhook_deliveries._id; without ?status a scan "
        "of webhook_deliveries by field (operator look-up; indexed on MongoDB)",
        delivery_log,
        bounded=DELIVERY_STATE,
        scans=frozenset({"webhook_deliveries"}),  # by institution or endpoint, no status
    ),
    "reminders due": HotQuery(
        "expiry reminders and survey loop",
        "reminder_index._id (hour buckets' numbered slots), reminders._id, then the channels",
        reminders_due,
        bounded=DELIVERY_STATE | EMAIL_STATE,
    ),
    "email retries": HotQuery(
        "e-mail retry loop",
        "emails_state (bounded), emails._id",
        email_retries,
        bounded=EMAIL_STATE,
    ),
    "email log": HotQuery(
        "GET /v1/emails (?recipient_hash, ?status), POST /v1/emails/{id}/replay",
        "emails_state (bounded), emails._id; ?recipient_hash without ?status a scan of "
        "emails by field (operator look-up; indexed on MongoDB)",
        email_log,
        bounded=EMAIL_STATE,
        scans=frozenset({"emails"}),  # by recipient hash, no status
    ),
}
