"""One trace: an institution's revoke request → issuer → Kafka → notifier's e-mail and registry.

The issuer, registry and notifier run as their real apps in this process (real Kafka, real
FerretDB, a real SMTP server, real HTTP to the issuer's ASGI app), each with its own tracer
provider exporting to one in-memory exporter. Revoking a credential makes the issuer write
``CredentialStatusChangedV1`` and ``NotificationRequestedV1`` in the request, and re-sign the
status list in a debounced background loop; the notifier e-mails the learner and the registry
stores the new list. Every one of those steps must hang, parent by parent, below the request's
server span.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind
from system_trace_support import (
    MICRO,
    OPERATOR,
    System,
    chain_to_root,
    databases,
    describe,
    producer_hops,
    running_system,
    service_of,
    smtp_server,
)

from sceau_dev.testing.polling import eventually
from sceau_issuer.apikeys.service import Scope
from sceau_issuer.errors import InstitutionNotFound
from sceau_shared.events import (
    NotificationRequestedV1,
    StatusListPublishedV1,
)
from sceau_shared.settings import KafkaSettings, MongoSettings

pytestmark = pytest.mark.integration

REVOKE_ROUTE = "POST /v1/credentials/{credential_id}/revoke"


async def _onboard(system: System) -> dict[str, str]:
    """Register, activate and accredit a college at the registry; an issuer API key for it.

    The real flow: the registry's events create the issuer's tenant and its accreditation.
    """
    since = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    registry = system.registry_http
    created = await registry.post(
        "/v1/admin/institutions",
        headers=OPERATOR,
        json={
            "legal_name": {"fr": "Collège de la Rivière", "en": "River College"},
            "category": "public-college",
            "jurisdiction": "QC",
            "did_method": "key",
            "effective_at": since,
        },
    )
    assert created.status_code == 201, created.text
    institution_id = created.json()["institution_id"]
    admin = f"/v1/admin/institutions/{institution_id}"
    activated = await registry.post(
        f"{admin}/status",
        headers=OPERATOR,
        json={"status": "active", "reason": "approved", "effective_at": since},
    )
    assert activated.status_code == 200, activated.text
    scope = await registry.post(
        f"{admin}/scopes",
        headers=OPERATOR,
        json={"achievement_types": ["MicroCredential"], "valid_from": since, "reason": "QA"},
    )
    assert scope.status_code == 201, scope.text
    tenants = system.issuer.state.graph.tenants

    async def accredited() -> bool:
        try:
            await tenants.get(institution_id)
        except InstitutionNotFound:
            return False
        accreditation = await tenants.accreditation(institution_id)
        return bool(accreditation and accreditation.status == "active" and accreditation.scopes)

    await eventually(accredited, timeout_s=20, message="the issuer's tenant, active and accredited")
    created_key = await system.issuer.state.graph.api_keys.create(
        institution_id, "system-trace", list(Scope)
    )
    return {"Authorization": f"Bearer {created_key.token}"}


async def _issue_one(system: System, headers: dict[str, str]) -> dict[str, Any]:
    http = system.issuer_http
    achievement = await http.post("/v1/achievements", json=MICRO, headers=headers)
    assert achievement.status_code == 201, achievement.text
    achievement_id = achievement.json()["achievement_id"]
    published = await http.post(f"/v1/achievements/{achievement_id}/publish", headers=headers)
    assert published.status_code == 200, published.text
    issued = await http.post(
        "/v1/credentials",
        json={
            "achievement_id": achievement_id,
            "recipient": {"email": "leanne@example.org", "name": "Léanne Roy", "language": "fr"},
        },
        headers={**headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert issued.status_code == 201, issued.text
    body: dict[str, Any] = issued.json()
    return body


def _in_trace(system: System, trace_id: int) -> list[ReadableSpan]:
    return [s for s in system.spans() if s.context.trace_id == trace_id]


def _smtp_sends(spans: list[ReadableSpan]) -> list[ReadableSpan]:
    return [s for s in spans if s.name == "smtp send" and service_of(s) == "sceau-notifier"]


def _registry_list_consumers(spans: list[ReadableSpan], topic: str) -> list[ReadableSpan]:
    return [
        s
        for s in spans
        if service_of(s) == "sceau-registry"
        and s.kind is SpanKind.CONSUMER
        and s.name == f"{topic} process"
    ]


async def test_one_trace_links_revoke_request_to_email_and_registry_update(
    kafka_settings: KafkaSettings,
    mongo_settings: MongoSettings,
    mongo_client: Any,
    unique_id: str,
) -> None:
    notification_topic = kafka_settings.topic(NotificationRequestedV1.TOPIC)
    status_list_topic = kafka_settings.topic(StatusListPublishedV1.TOPIC)
    try:
        with smtp_server() as smtp:
            async with running_system(
                kafka_settings, mongo_settings, smtp, group=f"notifier-{unique_id}"
            ) as system:
                headers = await _onboard(system)
                issued = await _issue_one(system, headers)
                credential_id = issued["credential_id"]
                list_url = issued["document"]["credentialStatus"]["statusListCredential"]
                list_path = list_url.removeprefix("http://registry.test:8002")

                # Let the issuance settle first (its e-mail sent, the new list at the registry)
                # so the revocation's re-sign is a publication of its own.
                await eventually(smtp.count, timeout_s=20, message="the 'issued' e-mail")

                async def list_served() -> bool:
                    return (await system.registry_http.get(list_path)).status_code == 200

                await eventually(list_served, timeout_s=20, message="the new list at the registry")

                revoked = await system.issuer_http.post(
                    f"/v1/credentials/{credential_id}/revoke",
                    json={"reason_code": "misconduct"},
                    headers=headers,
                )
                assert revoked.status_code == 200, revoked.text
                roots = [
                    s
                    for s in system.spans()
                    if s.name == REVOKE_ROUTE and s.kind is SpanKind.SERVER
                ]
                assert len(roots) == 1, [s.name for s in system.spans()]
                root = roots[0]
                trace_id = root.context.trace_id

                # Wait for the far ends of the trace: the e-mail's SMTP send and the registry's
                # consumer of the re-signed list (spans are exported when they end).
                try:
                    await eventually(
                        lambda: (
                            _smtp_sends(_in_trace(system, trace_id))
                            and _registry_list_consumers(
                                _in_trace(system, trace_id), status_list_topic
                            )
                        ),
                        timeout_s=20,
                        message="the notifier's send and the registry's update in the trace",
                    )
                except AssertionError as missing:
                    seen = _in_trace(system, trace_id)
                    lines = "\n".join(describe(chain_to_root(s, seen)) for s in seen)
                    raise AssertionError(f"{missing}; the trace holds:\n{lines}") from None
                assert smtp.count() == 2
                spans = _in_trace(system, trace_id)
    finally:
        for name in databases(mongo_settings):
            await mongo_client.drop_database(name)

    # The root: the institution's HTTP request, served by the issuer.
    assert root.parent is None
    assert service_of(root) == "sceau-issuer"
    attributes = dict(root.attributes or {})
    assert attributes.get("http.response.status_code", attributes.get("http.status_code")) == 200

    # The issuer relayed and published this request's events in this trace (the status list's
    # too, although it was re-signed later by the debounced background publisher).
    issuer_producers = {
        s.name for s in spans if service_of(s) == "sceau-issuer" and s.kind is SpanKind.PRODUCER
    }
    for logical, physical in (
        (NotificationRequestedV1.TOPIC, notification_topic),
        (StatusListPublishedV1.TOPIC, status_list_topic),
    ):
        assert f"outbox relay {logical}" in issuer_producers, issuer_producers
        assert f"{physical} publish" in issuer_producers, issuer_producers

    # The notifier: its consumer span of this message → the SMTP send, up to the request.
    (send,) = _smtp_sends(spans)
    assert send.status.is_ok, send.status
    send_chain = chain_to_root(send, spans)
    assert send_chain[-1] is root, describe(send_chain)
    consumer = send_chain[1]
    assert consumer.kind is SpanKind.CONSUMER, describe(send_chain)
    assert service_of(consumer) == "sceau-notifier", describe(send_chain)
    assert consumer.name == f"{notification_topic} process message", describe(send_chain)
    _assert_kafka_hop(send_chain, "sceau-notifier", NotificationRequestedV1.TOPIC)

    # The registry: its consumer span of the re-signed list → the MongoDB update, up to the
    # request (one publication per purpose: revocation and suspension).
    registry_consumers = _registry_list_consumers(spans, status_list_topic)
    for registry_consumer in registry_consumers:
        chain = chain_to_root(registry_consumer, spans)
        assert chain[-1] is root, describe(chain)
        _assert_kafka_hop(chain, "sceau-registry", StatusListPublishedV1.TOPIC)
    updates = [
        s
        for s in spans
        if s.kind is SpanKind.CLIENT
        and s.name.endswith(".update")
        and chain_to_root(s, spans)[1] in registry_consumers
    ]
    assert updates, [describe(chain_to_root(s, spans)) for s in spans]


def _assert_kafka_hop(chain: list[ReadableSpan], consumer_service: str, logical: str) -> None:
    """Exactly one Kafka hop in ``chain``: the consumer's span is a child of the issuer's
    producer span, which descends from the issuer's outbox relay span of that topic."""
    hops = producer_hops(chain)
    assert [(service_of(c), service_of(p)) for c, p in hops] == [
        (consumer_service, "sceau-issuer")
    ], describe(chain)
    above = chain[chain.index(hops[0][1]) :]
    assert any(s.name == f"outbox relay {logical}" for s in above), describe(chain)
