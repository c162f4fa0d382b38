"""What the registry accredited an institution to issue, and the rule applied before issuing.

The registry is the authority on accreditation: verifiers check that the signer was an active
institution accredited for the credential's ``achievementType`` *on the issuance date*. The issuer
applies the same rule before it signs, so it never produces a credential that every verifier would
flag as issued outside the institution's accreditation:

* no accreditation received from the registry yet → refused (the registry registers institutions
  as ``pending`` and accredits them with a later ``AccreditationChangedV1``);
* status other than ``active`` → refused;
* otherwise the achievement's type must be listed by an ``issuer`` scope valid now, and when that
  scope lists levels, the achievement's level (its code, a name in any language, or its definition
  URL) must be one of them.

Pure functions and a plain model, so the rule is unit-tested without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from sceau_credentials.ob3.authoring import Level
from sceau_issuer.errors import NotAccredited
from sceau_shared.events import AccreditationChangedV1, AccreditationScope

ISSUER_ROLE = "issuer"


class Accreditation(BaseModel):
    """The latest accreditation the registry announced for one institution."""

    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    institution_id: str = Field(alias="_id")
    status: str
    scopes: list[AccreditationScope] = Field(default_factory=list)
    effective_at: AwareDatetime
    occurred_at: AwareDatetime
    event_id: str

    @classmethod
    def of(cls, event: AccreditationChangedV1) -> Accreditation:
        """The record an ``AccreditationChangedV1`` sets (each event carries the full scope set)."""
        return cls.model_validate(
            {
                "_id": event.institution_id,
                "status": str(event.status),
                "scopes": list(event.scopes),
                "effective_at": event.effective_at,
                "occurred_at": event.occurred_at,
                "event_id": str(event.event_id),
            }
        )

    def to_doc(self) -> dict[str, Any]:
        """The stored document (``_id`` is the institution id)."""
        return self.model_dump(mode="python", by_alias=True)


def valid_scopes(accreditation: Accreditation, now: datetime) -> list[AccreditationScope]:
    """The ``issuer`` scopes in force at ``now`` (``valid_from <= now < valid_until``)."""
    return [
        scope
        for scope in accreditation.scopes
        if scope.role == ISSUER_ROLE
        and scope.valid_from <= now
        and (scope.valid_until is None or now < scope.valid_until)
    ]


def level_labels(level: Level | None) -> set[str]:
    """Every label a scope may use to name ``level``: its code, names and definition URL."""
    if level is None:
        return set()
    labels = {level.definition_url, *level.name.values()}
    if level.code:
        labels.add(level.code)
    return {label.strip().casefold() for label in labels if label.strip()}


def level_label(level: Level | None) -> str | None:
    """A short name of ``level`` for messages: its code, else its first name."""
    if level is None:
        return None
    return level.code or next(iter(level.name.values()), level.definition_url)


def covers(scope: AccreditationScope, achievement_type: str, level: Level | None) -> bool:
    """Whether one scope covers an achievement of this type and level."""
    if achievement_type not in scope.achievement_types:
        return False
    if not scope.levels:
        return True
    wanted = {label.strip().casefold() for label in scope.levels}
    return bool(wanted & level_labels(level))


def describe(scopes: Iterable[AccreditationScope]) -> str:
    """Human-readable list of what the scopes allow (for problem details)."""
    parts = []
    for scope in scopes:
        text = ", ".join(scope.achievement_types) or "(no type)"
        if scope.levels:
            text += f" (levels {', '.join(scope.levels)})"
        if scope.valid_until is not None:
            text += f" until {scope.valid_until.isoformat()}"
        parts.append(text)
    return "; ".join(parts) or "nothing"


def scope_view(scope: AccreditationScope) -> dict[str, Any]:
    """A scope as JSON for problem details and the institution profile."""
    return scope.model_dump(mode="json")


def check_accredited(
    accreditation: Accreditation | None,
    *,
    institution_id: str,
    achievement_type: str,
    level: Level | None,
    now: datetime,
) -> None:
    """Refuse issuing an achievement outside the institution's accreditation.

    Raises:
        NotAccredited: (403) naming the achievement type (and level) and what the institution is
            accredited for now.
    """
    label = level_label(level)
    level_text = f" at level {label!r}" if label else ""
    if accreditation is None:
        raise NotAccredited(
            f"institution {institution_id!r} has no accreditation from the registry yet; it may "
            f"not issue {achievement_type!r}{level_text}",
            extra={
                "achievement_type": achievement_type,
                "level": label,
                "accreditation_status": None,
                "accredited_for": [],
            },
        )
    in_force = valid_scopes(accreditation, now)
    extra: dict[str, object] = {
        "achievement_type": achievement_type,
        "level": label,
        "accreditation_status": accreditation.status,
        "accredited_for": [scope_view(s) for s in in_force],
    }
    if accreditation.status != "active":
        raise NotAccredited(
            f"institution {institution_id!r} is {accreditation.status} at the registry; it may "
            f"not issue {achievement_type!r}{level_text}",
            extra=extra,
        )
    if not any(covers(scope, achievement_type, level) for scope in in_force):
        raise NotAccredited(
            f"institution {institution_id!r} is not accredited to issue {achievement_type!r}"
            f"{level_text}; it is accredited for: {describe(in_force)}",
            extra=extra,
        )
