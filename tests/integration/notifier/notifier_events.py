"""Event factories for notifier tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sceau_shared.events import BilingualText, NotificationRequestedV1


def request(
    *,
    email: str = "zoe.tremblay@example.org",
    language: str = "fr",
    kind: str = "issued",
    issued_at: datetime | None = None,
    valid_until: datetime | None = None,
    **over: Any,
) -> NotificationRequestedV1:
    values: dict[str, Any] = {
        "producer": "tests",
        "kind": kind,
        "credential_id": "urn:uuid:8c1f0d4e-3d7a-4f51-9a0b-6f0c2e1d9a77",
        "institution_id": "cegep-test",
        "recipient_email": email,
        "recipient_name": "Zoé Tremblay",
        "language": language,
        "institution_name": BilingualText(fr="Cégep de Sainte-Foy", en="Sainte-Foy College"),
        "institution_contact": "registrariat@cegep-ste-foy.example",
        "achievement_name": BilingualText(
            fr="Secourisme en milieu de travail", en="Workplace First Aid"
        ),
        "achievement_description": BilingualText(
            fr="Intervenir lors d'une urgence au travail.",
            en="Respond to a workplace emergency.",
        ),
        "issued_at": issued_at or datetime.now(UTC),
        "valid_until": valid_until,
        "claim_url": "https://issuer.sceau.example/v1/claim/tok123",
    }
    values.update(over)
    return NotificationRequestedV1(**values)


def later(days: float) -> datetime:
    return datetime.now(UTC) + timedelta(days=days)
