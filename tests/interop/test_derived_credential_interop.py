"""A learner's share that withholds the grade and the evidence serves a *derived* credential the
institution signs at share creation (sceau_issuer.learners.derived): it must verify in the
Digital Bazaar stack (Learner Credential Wallet, VerifierPlus) like any credential we issue.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from interop_js import DigitalBazaar

from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import Evidence, Result, validate_for_signing
from sceau_credentials.ob3.authoring import AchievementVersion, IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_issuer.learners.derived import derive

pytestmark = pytest.mark.interop

ACHIEVEMENT = AchievementVersion(
    id="https://badges.example.edu/achievements/soudage-201",
    version="2",
    default_language="fr",
    name={"fr": "Soudage avancé", "en": "Advanced welding"},
    description={"fr": "Techniques de soudage TIG.", "en": "TIG welding techniques."},
    criteria={"fr": "Réussir l'épreuve pratique.", "en": "Pass the practical test."},
    hours=45,
)


def graded(issuer: str, profile: str) -> dict[str, Any]:
    return build_credential(
        ACHIEVEMENT,
        Recipient(email="apprenant@example.edu", name="Camille Roy"),
        IssuerProfile(id=issuer, name={"fr": "Cégep Exemple", "en": "Example College"}),
        profile,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
        language="fr",
        results=[Result(result_description=f"{ACHIEVEMENT.id}#assessment-1", value="92 %")],
        evidence=[Evidence(id="https://portfolio.example.edu/tig", name="Pièce soudée")],
    )


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1"])
async def test_derived_credential_verifies_there(
    digital_bazaar: DigitalBazaar, profile: str
) -> None:
    key = SigningKey.generate()
    original = await sign_credential(graded(key.controller, profile), key, Profile(profile))
    assert isinstance(original, dict)
    derived = derive(
        original,
        hidden=["result", "evidence"],
        new_id=f"urn:uuid:{uuid.uuid4()}",
        issuer_did=key.controller,
    )
    validate_for_signing(derived)
    signed = await sign_credential(derived, key, Profile(profile))
    assert isinstance(signed, dict)
    assert "92 %" not in json.dumps(signed)
    result = digital_bazaar.verify(signed)
    assert result.verified, result.errors
