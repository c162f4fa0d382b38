"""Who may endorse what, before the issuer signs an endorsement (pure functions)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sceau_credentials.ob3.authoring import Level
from sceau_issuer.endorsements.rules import check_may_endorse, endorser_scopes
from sceau_issuer.errors import NotEndorser, SelfEndorsement
from sceau_issuer.tenants.accreditation import Accreditation
from sceau_shared.events import AccreditationChangedV1, AccreditationScope, InstitutionStatus

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
DAY = timedelta(days=1)
LEVEL = Level(
    name={"fr": "Avancé", "en": "Advanced"}, definition_url="https://x.example/3", code="3"
)


def scope(types: list[str], **changes: Any) -> AccreditationScope:
    values: dict[str, Any] = {
        "achievement_types": types,
        "valid_from": NOW - DAY,
        "role": "endorser",
    }
    values.update(changes)
    return AccreditationScope(**values)


def record(*scopes: AccreditationScope, status: str = "active") -> Accreditation:
    return Accreditation.of(
        AccreditationChangedV1(
            producer="registry",
            institution_id="ordre",
            status=InstitutionStatus(status),
            scopes=list(scopes),
            effective_at=NOW - DAY,
        )
    )


def check(accreditation: Accreditation | None, *, owner: str = "college", **extra: Any) -> None:
    values: dict[str, Any] = {"achievement_type": "MicroCredential", "level": None, "now": NOW}
    values.update(extra)
    check_may_endorse(accreditation, endorser_id="ordre", owner_id=owner, **values)


def test_an_active_endorser_covering_the_type_may_endorse() -> None:
    check(record(scope(["MicroCredential"])))
    check(record(scope(["MicroCredential"], levels=["3"])), level=LEVEL)


@pytest.mark.parametrize(
    "accreditation",
    [
        None,
        record(scope(["MicroCredential"]), status="suspended"),
        record(scope(["MicroCredential"]), status="pending"),
        record(scope(["MicroCredential"], role="issuer")),  # an issuer is not an endorser
        record(scope(["Badge"])),  # another type
        record(scope(["MicroCredential"], valid_from=NOW + DAY)),  # not yet
        record(scope(["MicroCredential"], valid_until=NOW)),  # ended (exclusive)
        record(scope(["MicroCredential"], levels=["1"])),  # another level
    ],
)
def test_refused_without_standing(accreditation: Accreditation | None) -> None:
    with pytest.raises(NotEndorser):
        check(accreditation, level=LEVEL)


def test_no_self_endorsement_even_for_an_endorser() -> None:
    with pytest.raises(SelfEndorsement):
        check(record(scope(["MicroCredential"])), owner="ordre")


def test_only_endorser_scopes_in_force_count() -> None:
    accreditation = record(
        scope(["MicroCredential"]),
        scope(["Badge"], role="issuer"),
        scope(["Course"], valid_from=NOW + DAY),
    )
    assert [s.achievement_types for s in endorser_scopes(accreditation, NOW)] == [
        ["MicroCredential"]
    ]
