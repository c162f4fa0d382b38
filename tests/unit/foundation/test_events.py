from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from sceau_shared.events import (
    ALL_EVENTS,
    CredentialIssuedV1,
    CredentialStatusChangedV1,
    DeadLetterV1,
    NotificationRequestedV1,
    StatusChange,
    dead_letter_topic,
)

NOW = datetime(2026, 1, 1, tzinfo=UTC)


class TestEventContracts:
    def test_each_event_binds_one_distinct_versioned_topic(self):
        # The dead-letter envelope has no topic of its own: it goes to ``<topic>.dlq``.
        bound = [e for e in ALL_EVENTS if e is not DeadLetterV1]
        topics = [e.TOPIC for e in bound]
        assert len(topics) == len(set(topics))
        for event in bound:
            assert event.TOPIC.endswith(f".v{event.VERSION}")
        for event in ALL_EVENTS:
            assert event.KEY_FIELD in event.model_fields
        assert DeadLetterV1.TOPIC == "<topic>.dlq"
        assert dead_letter_topic("issuer.credential-issued.v1") == "issuer.credential-issued.v1.dlq"

    def test_round_trip_stamps_type_and_version(self):
        event = CredentialStatusChangedV1(
            producer="issuer",
            credential_id="c-1",
            institution_id="i-1",
            issuer_did="did:key:z",
            change=StatusChange.REVOKED,
            reason_code="misconduct",
            effective_at=NOW,
        )
        parsed = CredentialStatusChangedV1.model_validate_json(event.to_bytes())
        assert parsed == event
        assert parsed.event_type == "credential-status-changed"
        assert parsed.event_version == 1
        assert event.key == b"c-1"

    def test_consumers_tolerate_added_fields(self):
        event = CredentialStatusChangedV1(
            producer="issuer",
            credential_id="c-1",
            institution_id="i-1",
            issuer_did="did:key:z",
            change="suspended",
            reason_code="holder-request",
            effective_at=NOW,
        )
        raw = event.model_dump(mode="json") | {"a_field_from_the_future": 42}
        assert CredentialStatusChangedV1.model_validate(raw).credential_id == "c-1"

    def test_a_message_of_another_type_is_refused(self):
        raw = {
            "event_type": "credential-issued",
            "producer": "x",
            "credential_id": "c",
            "institution_id": "i",
            "issuer_did": "d",
            "change": "revoked",
            "reason_code": "r",
            "effective_at": NOW.isoformat(),
        }
        with pytest.raises(ValidationError):
            CredentialStatusChangedV1.model_validate(raw)

    def test_naive_times_are_refused(self):
        with pytest.raises(ValidationError):
            CredentialIssuedV1(
                producer="issuer",
                credential_id="c",
                institution_id="i",
                issuer_did="d",
                achievement_id="a",
                achievement_version=1,
                achievement_type="Badge",
                profile="ob3-v2",
                issued_at=datetime(2026, 1, 1),
            )

    def test_only_the_notification_event_carries_contact_details(self):
        contact_words = ("email", "phone", "recipient", "name")
        for event in ALL_EVENTS:
            if event is NotificationRequestedV1:
                continue
            personal = [
                f
                for f in event.model_fields
                if any(w in f for w in contact_words)
                and f not in {"institution_name", "legal_name", "contact_email"}
            ]
            assert personal == [], f"{event.__name__} carries {personal}"
        assert "recipient_email" in NotificationRequestedV1.model_fields

    def test_dead_letter_topic_name(self):
        assert dead_letter_topic("issuer.credential-issued.v1") == "issuer.credential-issued.v1.dlq"
