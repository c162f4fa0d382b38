"""Who may endorse what: pure rules, unit-tested without a database.

An endorsement carries weight only from a body the registry recognises as an endorser, so the
issuer applies before signing the rule a verifier applies after: the body is ``active`` at the
registry and an ``endorser`` scope in force now covers the endorsed achievement's type (and
level, when the scope lists levels). A body does not endorse its own achievements (an
institution vouching for itself adds nothing a verifier could rely on).
"""

from __future__ import annotations

from datetime import datetime

from sceau_credentials.ob3.authoring import Level
from sceau_issuer.errors import NotEndorser, SelfEndorsement
from sceau_issuer.tenants.accreditation import Accreditation, covers, describe
from sceau_shared.events import AccreditationScope

ENDORSER_ROLE = "endorser"


def endorser_scopes(accreditation: Accreditation, now: datetime) -> list[AccreditationScope]:
    """The ``endorser`` scopes in force at ``now``."""
    return [
        scope
        for scope in accreditation.scopes
        if scope.role == ENDORSER_ROLE
        and scope.valid_from <= now
        and (scope.valid_until is None or now < scope.valid_until)
    ]


def check_may_endorse(
    accreditation: Accreditation | None,
    *,
    endorser_id: str,
    owner_id: str,
    achievement_type: str,
    level: Level | None,
    now: datetime,
) -> None:
    """Refuse an endorsement the registry's standing does not allow.

    Raises:
        SelfEndorsement: (409) the body endorses its own achievement.
        NotEndorser: (403) not active, or no endorser scope in force covering the type.
    """
    if endorser_id == owner_id:
        raise SelfEndorsement("an institution cannot endorse its own achievement")
    if accreditation is None or accreditation.status != "active":
        status = accreditation.status if accreditation is not None else "not accredited"
        raise NotEndorser(
            f"institution {endorser_id!r} is {status} at the registry; only an active "
            "registered endorser may endorse",
            extra={"accreditation_status": accreditation.status if accreditation else None},
        )
    scopes = endorser_scopes(accreditation, now)
    if not any(covers(scope, achievement_type, level) for scope in scopes):
        raise NotEndorser(
            f"institution {endorser_id!r} holds no endorser role at the registry for "
            f"{achievement_type!r}; its endorser scopes cover: {describe(scopes)}",
            extra={"achievement_type": achievement_type, "accreditation_status": "active"},
        )
