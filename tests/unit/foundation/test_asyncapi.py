"""A service's AsyncAPI document comes from its consumer router and its produced events."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from faststream.kafka import KafkaRouter

from sceau_dev.testing.asyncapi import (
    ServiceTopics,
    asyncapi_topics,
    documented_topics,
    read_topic_table,
)
from sceau_shared.events import (
    CredentialIssuedV1,
    NotificationRequestedV1,
    StatusListPublishedV1,
)
from sceau_shared.kafka import consume_event
from sceau_shared.runtime import Runtime, ServiceSettings
from sceau_shared.service.asyncapi import build_asyncapi
from sceau_shared.service.definition import ServiceDefinition
from sceau_shared.settings import KafkaSettings

ARCHITECTURE = Path(__file__).resolve().parents[3] / "docs" / "architecture.md"


def create_router(settings: ServiceSettings) -> KafkaRouter:
    router = KafkaRouter()

    @consume_event(router, CredentialIssuedV1, settings=settings.kafka, group_id="fake.issued")
    async def on_credential_issued(event: CredentialIssuedV1, graph: Any) -> None:
        """Tell the learner."""

    @consume_event(
        router, StatusListPublishedV1, settings=settings.kafka, group_id="fake.status-lists"
    )
    async def on_status_list(event: StatusListPublishedV1, graph: Any) -> None:
        """Drop the cached list."""

    return router


async def build_graph(settings: ServiceSettings, runtime: Runtime) -> Any:
    raise AssertionError("never built for a document")


FAKE: ServiceDefinition[ServiceSettings, Any] = ServiceDefinition(
    name="fake",
    title="Fake service",
    description="Consumes two events, produces one.",
    version="1.2.3",
    build_graph=build_graph,
    routers=(),
    consumers=create_router,
    publishes=(NotificationRequestedV1,),
)


def _settings(prefix: str = "") -> ServiceSettings:
    return ServiceSettings(kafka=KafkaSettings(topic_prefix=prefix))


def _operations(document: dict[str, Any], action: str) -> dict[str, dict[str, Any]]:
    """Topic -> message component of each operation with ``action``."""
    channels = document["channels"]
    messages = document["components"]["messages"]
    found = {}
    for operation in document["operations"].values():
        if operation["action"] != action:
            continue
        channel = channels[operation["channel"]["$ref"].rsplit("/", 1)[-1]]
        (reference,) = channel["messages"].values()
        found[channel["address"]] = messages[reference["$ref"].rsplit("/", 1)[-1]]
    return found


def test_document_header() -> None:
    document = build_asyncapi(FAKE, _settings())
    assert document["asyncapi"] == "3.0.0"
    assert document["info"]["title"] == "Fake service"
    assert document["info"]["version"] == "1.2.3"
    assert document["info"]["description"] == "Consumes two events, produces one."


def test_consumed_events_are_receive_operations_with_the_event_schema() -> None:
    document = build_asyncapi(FAKE, _settings())
    received = _operations(document, "receive")
    assert set(received) == {CredentialIssuedV1.TOPIC, StatusListPublishedV1.TOPIC}
    payload = received[CredentialIssuedV1.TOPIC]["payload"]
    assert payload == {"$ref": "#/components/schemas/CredentialIssuedV1"}
    schema = document["components"]["schemas"]["CredentialIssuedV1"]
    assert {"event_id", "credential_id"} <= set(schema["properties"])
    # FastStream's placeholder for the raw-message handlers is gone.
    assert "EmptyPayload" not in document["components"]["schemas"]


def test_produced_events_and_dead_letters_are_send_operations() -> None:
    document = build_asyncapi(FAKE, _settings())
    sent = _operations(document, "send")
    assert set(sent) == {
        NotificationRequestedV1.TOPIC,
        f"{CredentialIssuedV1.TOPIC}.dlq",
        f"{StatusListPublishedV1.TOPIC}.dlq",
    }
    assert sent[NotificationRequestedV1.TOPIC]["payload"] == {
        "$ref": "#/components/schemas/NotificationRequestedV1"
    }
    assert sent[f"{CredentialIssuedV1.TOPIC}.dlq"]["payload"] == {
        "$ref": "#/components/schemas/DeadLetterV1"
    }
    # Nested models of the event schemas are in the components too.
    assert "BilingualText" in document["components"]["schemas"]


def test_topics_carry_the_configured_prefix_and_compare_without_it() -> None:
    document = build_asyncapi(FAKE, _settings("staging."))
    assert f"staging.{CredentialIssuedV1.TOPIC}" in _operations(document, "receive")
    assert asyncapi_topics(document, topic_prefix="staging.") == ServiceTopics(
        sends=frozenset({NotificationRequestedV1.TOPIC}),
        receives=frozenset({CredentialIssuedV1.TOPIC, StatusListPublishedV1.TOPIC}),
    )


def test_a_service_without_consumers_or_events_has_an_empty_document() -> None:
    idle: ServiceDefinition[ServiceSettings, Any] = ServiceDefinition(
        name="idle", title="Idle", description="", version="0", build_graph=build_graph, routers=()
    )
    assert asyncapi_topics(build_asyncapi(idle, _settings())) == ServiceTopics(
        frozenset(), frozenset()
    )


def test_the_architecture_topic_table_is_read() -> None:
    rows = read_topic_table(ARCHITECTURE)
    by_topic = {topic: row for row in rows for topic in row.topics}
    key_published = by_topic["issuer.key-published.v1"]
    assert key_published.event == "IssuerKeyPublishedV1"
    assert key_published.producer == "issuer"
    assert key_published.consumers == ("registry", "notifier")
    assert "notifier.emails.v1.dlq" in by_topic
    issuer = documented_topics(rows, "issuer")
    assert issuer.receives == {
        "registry.institution-registered.v1",
        "registry.accreditation-changed.v1",
        "verifier.share-opened.v1",
        "issuer.notification-requested.v1",
        # Insights: the issuer counts its own issues and status changes, and verifications.
        "issuer.credential-issued.v1",
        "issuer.credential-status-changed.v1",
        "verifier.verification-completed.v1",
    }
    assert "issuer.credential-issued.v1" in issuer.sends
    assert documented_topics(rows, "verifier").receives == {
        "registry.accreditation-changed.v1",
        "issuer.status-list-published.v1",
    }
