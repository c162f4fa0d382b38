"""The accreditation rule applied before issuing (pure functions, no database)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sceau_credentials.ob3.authoring import Level
from sceau_issuer.errors import NotAccredited
from sceau_issuer.tenants.accreditation import (
    Accreditation,
    check_accredited,
    covers,
    level_labels,
    valid_scopes,
)
from sceau_shared.events import AccreditationChangedV1, AccreditationScope, InstitutionStatus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
LEVEL_2 = Level(
    name={"fr": "Intermédiaire", "en": "Intermediate"},
    definition_url="https://example.edu/levels/2",
    code="L2",
)


def scope(types: list[str], **changes: Any) -> AccreditationScope:
    values: dict[str, Any] = {"achievement_types": types, "valid_from": NOW - DAY}
    values.update(changes)
    return AccreditationScope(**values)


def record(*scopes: AccreditationScope, status: str = "active") -> Accreditation:
    return Accreditation.of(
        AccreditationChangedV1(
            producer="registry",
            institution_id="c1",
            status=InstitutionStatus(status),
            scopes=list(scopes),
            effective_at=NOW,
        )
    )


def check(accreditation: Accreditation | None, kind: str, level: Level | None = None) -> None:
    check_accredited(
        accreditation, institution_id="c1", achievement_type=kind, level=level, now=NOW
    )


def test_type_within_a_valid_scope_is_allowed() -> None:
    check(record(scope(["MicroCredential", "Badge"])), "Badge")


def test_nothing_before_the_first_accreditation() -> None:
    with pytest.raises(NotAccredited) as refused:
        check(None, "MicroCredential")
    assert "no accreditation from the registry" in refused.value.detail
    assert refused.value.extra["accredited_for"] == []
    assert refused.value.status == 403


def test_other_type_is_refused_naming_what_is_accredited() -> None:
    with pytest.raises(NotAccredited) as refused:
        check(record(scope(["MicroCredential"], valid_until=NOW + 30 * DAY)), "Certificate")
    detail = refused.value.detail
    assert "'Certificate'" in detail
    assert "accredited for: MicroCredential until 2026-07-01" in detail
    assert refused.value.extra["achievement_type"] == "Certificate"
    [listed] = refused.value.extra["accredited_for"]  # type: ignore[misc]
    assert listed["achievement_types"] == ["MicroCredential"]


@pytest.mark.parametrize(
    "changes",
    [
        {"valid_from": NOW + DAY},  # not yet
        {"valid_from": NOW - 10 * DAY, "valid_until": NOW - DAY},  # lapsed (or withdrawn)
        {"valid_from": NOW - 10 * DAY, "valid_until": NOW},  # valid_until is exclusive
        {"role": "endorser"},  # may endorse, not issue
    ],
)
def test_scope_out_of_force_or_of_another_role(changes: dict[str, Any]) -> None:
    accreditation = record(scope(["MicroCredential"], **changes))
    assert valid_scopes(accreditation, NOW) == []
    with pytest.raises(NotAccredited):
        check(accreditation, "MicroCredential")


@pytest.mark.parametrize("status", ["pending", "suspended", "former"])
def test_only_an_active_institution_issues(status: str) -> None:
    with pytest.raises(NotAccredited) as refused:
        check(record(scope(["MicroCredential"]), status=status), "MicroCredential")
    assert f"is {status} at the registry" in refused.value.detail
    assert refused.value.extra["accreditation_status"] == status


@pytest.mark.parametrize(
    "label", ["L2", "l2", "Intermediate", "intermédiaire", LEVEL_2.definition_url]
)
def test_levels_match_code_name_or_definition(label: str) -> None:
    assert covers(scope(["Certificate"], levels=[label]), "Certificate", LEVEL_2)
    check(record(scope(["Certificate"], levels=[label])), "Certificate", LEVEL_2)


def test_scope_with_levels_refuses_other_or_missing_level() -> None:
    accreditation = record(scope(["Certificate"], levels=["L1"]))
    with pytest.raises(NotAccredited) as refused:
        check(accreditation, "Certificate", LEVEL_2)
    assert "at level 'L2'" in refused.value.detail
    assert "(levels L1)" in refused.value.detail
    with pytest.raises(NotAccredited):
        check(accreditation, "Certificate", None)
    # Another scope without levels covers every level of its types.
    check(record(scope(["Certificate"], levels=["L1"]), scope(["Certificate"])), "Certificate")


def test_level_labels() -> None:
    assert level_labels(None) == set()
    assert level_labels(LEVEL_2) == {
        "l2",
        "intermédiaire",
        "intermediate",
        "https://example.edu/levels/2",
    }
