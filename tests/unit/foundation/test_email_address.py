"""``EmailAddress`` checks as pydantic's ``EmailStr`` does, once per distinct valid address."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError

from sceau_shared.emails import EmailAddress, normalized_email
from sceau_shared.events import NotificationRequestedV1

SAMPLES = [
    "learner@example.org",
    "Learner.Name+tag@Example.ORG",
    "  spaced@example.org  ",
    "élève@collège.example",
    "Jane Doe <jane@example.org>",
    "not-an-address",
    "two@@example.org",
    "no-domain@",
    "dot.@example.org",
    "user@[127.0.0.1]",
    "a" * 300 + "@example.org",
    "line\nbreak@example.org",
]


class Ours(BaseModel):
    email: EmailAddress


class Theirs(BaseModel):
    email: EmailStr


def outcome(model: type[BaseModel], value: str) -> tuple[str, object]:
    try:
        return "ok", model.model_validate({"email": value}).model_dump()["email"]
    except ValidationError as exc:
        return "error", [(e["type"], e["msg"]) for e in exc.errors()]


@pytest.mark.parametrize("value", SAMPLES)
def test_same_answer_as_email_str(value: str) -> None:
    assert outcome(Ours, value) == outcome(Theirs, value)


def test_same_json_schema_as_email_str() -> None:
    assert TypeAdapter(EmailAddress).json_schema() == TypeAdapter(EmailStr).json_schema()


def test_an_address_seen_before_is_not_checked_again() -> None:
    normalized_email.cache_clear()
    for _ in range(3):
        Ours.model_validate({"email": "again@example.org"})
    info = normalized_email.cache_info()
    assert (info.misses, info.hits) == (1, 2)


def test_invalid_addresses_are_never_remembered() -> None:
    normalized_email.cache_clear()
    for _ in range(2):
        with pytest.raises(ValidationError):
            Ours.model_validate({"email": "nope"})
    assert normalized_email.cache_info().currsize == 0


def test_the_notification_event_keeps_its_email_format() -> None:
    schema = NotificationRequestedV1.model_json_schema()
    assert schema["properties"]["recipient_email"]["format"] == "email"
