"""Endorsements with the Digital Bazaar stack: an OB 3.0 EndorsementCredential (with its
bilingual comment as a JSON-LD language map) signed here verifies there, and the credential that
embeds it too; one signed there verifies here. A tampered comment fails in both stacks.
"""

from __future__ import annotations

import copy
import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from interop_js import DigitalBazaar

from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.ob3.endorsement import build_endorsement
from sceau_dev.testing.credentials import achievement

pytestmark = pytest.mark.interop

ACHIEVEMENT = "https://cegep.example.edu/v1/public/achievements/soudage/versions/2"
MOMENT = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def endorsement(endorser: str) -> dict[str, Any]:
    return build_endorsement(
        endorser=IssuerProfile(
            id=endorser, name={"fr": "Ordre des soudeurs", "en": "Welders' Guild"}
        ),
        subject_id=ACHIEVEMENT,
        subject_name={"fr": "Soudage avancé", "en": "Advanced welding"},
        comment={
            "fr": "Reconnu par l'**Ordre** — « formation continue ».",
            "en": "Recognised by the **Guild** for continuing education.",
        },
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=MOMENT,
    )


def tamper(document: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(document)
    changed["credentialSubject"]["endorsementCommentMap"]["en"] = "Best course ever."
    return changed


async def test_our_endorsement_and_its_credential_verify_there(
    digital_bazaar: DigitalBazaar,
) -> None:
    body, college = SigningKey.generate(), SigningKey.generate()
    signed = await sign_credential(endorsement(body.controller), body, Profile.OB3_V2)
    assert isinstance(signed, dict)
    result = digital_bazaar.verify(signed)
    assert result.verified, result.errors
    assert not digital_bazaar.verify(tamper(signed)).verified

    version = achievement(achievement_id=ACHIEVEMENT).model_copy(update={"endorsements": [signed]})
    credential = build_credential(
        version,
        Recipient(email="apprenant@example.edu", name="Camille Roy"),
        IssuerProfile(id=college.controller, name={"fr": "Cégep Exemple", "en": "Example College"}),
        "ob3-v2",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=MOMENT,
    )
    issued = await sign_credential(credential, college, Profile.OB3_V2)
    assert isinstance(issued, dict)
    embedded = digital_bazaar.verify(issued)
    assert embedded.verified, embedded.errors


async def test_their_endorsement_verifies_here(digital_bazaar: DigitalBazaar) -> None:
    seed = secrets.token_bytes(32)
    key = SigningKey.from_seed(seed)
    theirs = digital_bazaar.sign(endorsement(key.controller), "eddsa-rdfc-2022", seed)
    assert theirs.did == key.controller
    resolver = CompositeResolver({"key": DidKeyResolver()})
    assert (await verify_proof(theirs.credential, resolver)).verified
    assert not (await verify_proof(tamper(theirs.credential), resolver)).verified
