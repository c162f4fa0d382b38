"""The OB 3.0 EndorsementCredential builder and reader (sceau_credentials.ob3.endorsement)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sceau_credentials.conformance.inspector import inspect_credential, offline_resolver
from sceau_credentials.conformance.rules import endorsement_schema_findings
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.ob3.endorsement import (
    build_endorsement,
    endorsement_comment,
    endorsements_of,
    is_endorsement,
)
from sceau_credentials.ob3.validation import structure_problems
from sceau_dev.testing.credentials import Issuer, achievement

MOMENT = datetime(2026, 1, 5, 9, 30, tzinfo=UTC)
ENDORSER = IssuerProfile(id="did:example:ordre", name={"fr": "Ordre", "en": "Order"})


def built(comment: dict[str, str], **extra: Any) -> dict[str, Any]:
    return build_endorsement(
        endorser=ENDORSER,
        subject_id="https://issuer.example/v1/public/achievements/a1/versions/1",
        subject_name={"fr": "Soudage", "en": "Welding"},
        comment=comment,
        credential_id="urn:uuid:6c1f0f56-7a4b-4a57-9f0d-1b2c3d4e5f60",
        issued_at=MOMENT,
        **extra,
    )


def test_bilingual_endorsement_shape_and_official_schema() -> None:
    document = built({"en": "Good", "fr": "Bien"}, valid_until=MOMENT + timedelta(days=365))
    assert document["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert document["name"] == "Approbation de « Soudage » par Ordre"
    subject = document["credentialSubject"]
    assert subject["type"] == ["EndorsementSubject"]
    assert subject["endorsementComment"] == "Bien"  # French first, for plain OB readers
    assert subject["endorsementCommentMap"] == {"fr": "Bien", "en": "Good"}
    assert (document["validFrom"], document["validUntil"]) == (
        "2026-01-05T09:30:00Z",
        "2027-01-05T09:30:00Z",
    )
    assert endorsement_schema_findings(document) == []
    assert structure_problems(document) == []
    assert is_endorsement(document)


def test_english_only_comment_and_reading_back() -> None:
    document = built({"en": "  Good  ", "fr": " "})
    assert document["name"] == "Endorsement of “Welding” by Order"
    assert document["credentialSubject"]["endorsementCommentMap"] == {"en": "Good"}
    assert endorsement_comment(document, "en") == "Good"
    # No French text: the plain comment stands in.
    assert endorsement_comment(document, "fr") == "Good"
    assert endorsement_comment({"credentialSubject": "x"}, "fr") is None


def test_a_comment_is_required() -> None:
    with pytest.raises(ValueError, match="comment"):
        built({"fr": "  "})


def test_endorsements_are_found_where_ob_puts_them() -> None:
    credential = {
        "id": "urn:uuid:c1",
        "credentialSubject": {"achievement": {"id": "https://a.example/1", "endorsement": [1]}},
        "endorsement": {"type": ["EndorsementCredential"]},
    }
    assert endorsements_of(credential) == [
        ("achievement", "https://a.example/1", 1),
        ("credential", "urn:uuid:c1", {"type": ["EndorsementCredential"]}),
    ]
    assert endorsements_of({"credentialSubject": [None, {"achievement": "x"}]}) == []
    assert not is_endorsement({"type": ["VerifiableCredential"]})


async def test_signed_endorsement_verifies_and_conforms() -> None:
    key = SigningKey.generate()
    document = build_endorsement(
        endorser=IssuerProfile(id=key.controller, name={"fr": "Ordre", "en": "Order"}),
        subject_id="https://issuer.example/v1/public/achievements/a1/versions/1",
        subject_name={"fr": "Soudage"},
        comment={"fr": "Bien", "en": "Good"},
        credential_id="urn:uuid:6c1f0f56-7a4b-4a57-9f0d-1b2c3d4e5f60",
        issued_at=MOMENT,
    )
    signed = await sign_credential(document, key, Profile.OB3_V2, created=MOMENT)
    assert isinstance(signed, dict)
    resolver = offline_resolver()
    assert (await verify_proof(signed, resolver)).verified
    assert await inspect_credential(signed, resolver=resolver, now=MOMENT + timedelta(days=1)) == []
    signed["credentialSubject"]["endorsementCommentMap"]["en"] = "Great"
    assert not (await verify_proof(signed, resolver)).verified


async def test_only_endorsements_of_the_credentials_data_model_are_embedded() -> None:
    body, college = Issuer(), SigningKey.generate()
    version = achievement()
    v2 = await body.endorse(version.id)
    v1 = {**v2, "@context": ["https://www.w3.org/2018/credentials/v1"]}  # shape only
    endorsed = version.model_copy(update={"endorsements": [v2, v1]})
    issuer = IssuerProfile(id=college.controller, name={"fr": "C"})
    learner = Recipient(email="a@b.example")
    for profile, kept in (("ob3-v2", [v2]), ("ob3-v1", [v1]), ("jwt", [v2])):
        credential = build_credential(
            endorsed, learner, issuer, profile, credential_id="urn:uuid:1", issued_at=MOMENT
        )
        assert credential["credentialSubject"]["achievement"]["endorsement"] == kept, profile
    only_v2 = version.model_copy(update={"endorsements": [v2]})
    credential = build_credential(
        only_v2, learner, issuer, "ob3-v1", credential_id="urn:uuid:1", issued_at=MOMENT
    )
    assert "endorsement" not in credential["credentialSubject"]["achievement"]
    # What is left signs and verifies (a VCDM 2.0 endorsement inside VCDM 1.1 would not).
    signed = await sign_credential(credential, college, Profile.OB3_V1, created=MOMENT)
    assert (await verify_proof(signed, offline_resolver())).verified
