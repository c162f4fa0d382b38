"""Open Badges 3.0 models, hashed recipient identities and the one-call credential builder."""

from __future__ import annotations

import hashlib
from datetime import timedelta
from typing import Any

import pytest
from ob3_samples import (
    ISSUED,
    LEARNER_DID,
    LIST_URL,
    achievement_version,
    credential,
    issuer,
    recipient,
)
from pydantic import ValidationError

from sceau_credentials.ob3 import (
    Achievement,
    Alignment,
    Criteria,
    EndorsementCredential,
    EndorsementSubject,
    Evidence,
    IdentityObject,
    Image,
    Profile,
    Recipient,
    Result,
    ResultDescription,
    build_achievement,
    build_credential,
    email_identity,
    identity_matches,
    to_json,
)
from sceau_credentials.ob3.builder import (
    AchievementMemo,
    format_datetime,
    hours_to_duration,
    language_variant_id,
)
from sceau_credentials.ob3.constants import (
    ED25519_2020_CONTEXT,
    OB_V3P0_3_CONTEXT,
    OB_V3P0_CONTEXT,
    STATUS_LIST_2021_CONTEXT,
    VC_V1_CONTEXT,
    VC_V2_CONTEXT,
)
from sceau_credentials.status import status_entry

# --- models ---------------------------------------------------------------------------------------


def test_models_dump_camel_case_without_nulls() -> None:
    alignment = Alignment(
        target_name="Design", target_url="https://f.example/1", target_type="ceasn:Competency"
    )
    assert to_json(alignment) == {
        "type": ["Alignment"],
        "targetName": "Design",
        "targetUrl": "https://f.example/1",
        "targetType": "ceasn:Competency",
    }


def test_models_accept_wire_names_too() -> None:
    parsed = ResultDescription.model_validate(
        {"id": "urn:uuid:1", "name": "Exam", "resultType": "Percent", "valueMax": "100"}
    )
    assert parsed.result_type == "Percent"
    assert parsed.value_max == "100"


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: Image(id="not a uri"), "absolute URI"),
        (lambda: Alignment(target_name="x", target_url="x y"), "absolute URI"),
        (
            lambda: Alignment(target_name="x", target_url="https://a", target_type="Bogus"),
            "targetType",
        ),
        (lambda: ResultDescription(id="urn:x", name="n", result_type="Grade"), "resultType"),
        (lambda: Result(status="Passed"), "result status"),
        (
            lambda: IdentityObject(hashed=False, identity_hash="a", identity_type="phone"),
            "identityType",
        ),
        (
            lambda: Achievement(
                id="urn:a", name="n", description="d", criteria=Criteria(), achievement_type="Foo"
            ),
            "achievementType",
        ),
        (
            lambda: Achievement(
                id="urn:a", name="n", description="d", criteria=Criteria(), in_language="French"
            ),
            "pattern",
        ),
    ],
)
def test_models_refuse_values_ob_does_not_allow(factory: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        factory()


def test_ext_prefixed_enumerations_are_allowed() -> None:
    alignment = Alignment(target_name="L2", target_url="https://a.example", target_type="ext:Level")
    assert alignment.target_type == "ext:Level"


def test_achievement_requires_ob_required_fields() -> None:
    with pytest.raises(ValidationError) as caught:
        Achievement.model_validate({"id": "urn:a"})
    missing = {error["loc"][0] for error in caught.value.errors()}
    assert {"name", "description", "criteria"} <= missing


def test_endorsement_credential_and_evidence_models() -> None:
    endorsement = EndorsementCredential.model_validate(
        {
            "@context": [VC_V2_CONTEXT, OB_V3P0_3_CONTEXT],
            "id": "urn:uuid:e1",
            "name": "Endorsed by the Association",
            "issuer": {"id": "did:web:association.example", "type": ["Profile"]},
            "validFrom": "2025-01-01T00:00:00Z",
            "credentialSubject": EndorsementSubject(
                id="https://college.example/achievements/ai", endorsement_comment="Sound"
            ),
        }
    )
    dumped = to_json(endorsement)
    assert dumped["@context"][0] == VC_V2_CONTEXT
    assert dumped["type"] == ["VerifiableCredential", "EndorsementCredential"]
    assert dumped["credentialSubject"]["endorsementComment"] == "Sound"
    evidence = to_json(
        Evidence(id="https://github.com/jane/capstone", name="Capstone", genre="code")
    )
    assert evidence == {
        "id": "https://github.com/jane/capstone",
        "type": ["Evidence"],
        "name": "Capstone",
        "genre": "code",
    }


def test_profile_nests_parent_org() -> None:
    profile = Profile(id="did:web:c.example", name="C", parent_org=Profile(id="did:web:u.example"))
    assert to_json(profile)["parentOrg"] == {"id": "did:web:u.example", "type": ["Profile"]}


# --- identity -------------------------------------------------------------------------------------


def test_email_identity_is_salted_sha256_of_the_normalised_address() -> None:
    identity = email_identity("  Jane.Doe@College.Example ", salt="s4lt")
    expected = hashlib.sha256(b"jane.doe@college.examples4lt").hexdigest()
    assert to_json(identity) == {
        "type": "IdentityObject",
        "hashed": True,
        "identityHash": f"sha256${expected}",
        "identityType": "emailAddress",
        "salt": "s4lt",
    }


def test_email_identity_uses_a_fresh_salt_each_time() -> None:
    first, second = email_identity("a@b.example"), email_identity("a@b.example")
    assert first.salt != second.salt
    assert first.identity_hash != second.identity_hash


def test_identity_matches_hashed_and_plain_identities() -> None:
    hashed = to_json(email_identity("jane@college.example", salt="x"))
    assert identity_matches(hashed, "JANE@college.example")
    assert not identity_matches(hashed, "john@college.example")
    plain = {"identityType": "emailAddress", "hashed": False, "identityHash": "a@b.example"}
    assert identity_matches(plain, "A@b.example")
    assert not identity_matches({**hashed, "identityType": "name"}, "jane@college.example")
    assert not identity_matches({**hashed, "identityHash": "sha256$nothex"}, "jane@college.example")


# --- builder helpers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("hours", "duration"), [(15, "PT15H"), (7.5, "PT7H30M"), (0.25, "PT15M"), (200, "PT200H")]
)
def test_hours_become_iso_8601_durations(hours: float, duration: str) -> None:
    assert hours_to_duration(hours) == duration


def test_format_datetime_is_utc_seconds() -> None:
    assert format_datetime(ISSUED + timedelta(microseconds=5)) == "2025-01-15T12:00:00Z"
    with pytest.raises(ValueError, match="timezone-aware"):
        format_datetime(ISSUED.replace(tzinfo=None))


def test_language_variant_ids() -> None:
    version = achievement_version()
    assert language_variant_id(version, "en") == f"{version.id}?lang=en"
    urn = achievement_version(id="urn:uuid:0b5e", language_ids={"en": "https://c.example/en/ai"})
    assert language_variant_id(urn, "en") == "https://c.example/en/ai"
    assert language_variant_id(achievement_version(id="urn:uuid:0b5e"), "en") == "urn:uuid:0b5e#en"


def test_achievement_version_refuses_half_translations() -> None:
    with pytest.raises(ValidationError, match=r"description covers \['fr'\]"):
        achievement_version(description={"fr": "Seulement en français"})
    with pytest.raises(ValidationError, match="default_language"):
        achievement_version(default_language="es")


def test_recipient_needs_an_email_or_a_did() -> None:
    with pytest.raises(ValidationError, match="email or a DID"):
        Recipient(name="Nobody")


# --- the built credential -------------------------------------------------------------------------


def test_ob3_v2_envelope() -> None:
    built = credential("ob3-v2", valid_until=ISSUED + timedelta(days=730))
    assert built["@context"][:2] == [VC_V2_CONTEXT, OB_V3P0_3_CONTEXT]
    assert isinstance(built["@context"][2], dict)  # the inline extension context
    assert built["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert built["validFrom"] == "2025-01-15T12:00:00Z"
    assert built["validUntil"] == "2027-01-15T12:00:00Z"
    assert "issuanceDate" not in built
    assert built["issuer"] == {
        "id": issuer().id,
        "type": ["Profile"],
        "name": "Collège Exemple",
        "url": "https://college.example",
    }
    assert built["credentialStatus"] == {
        "id": f"{LIST_URL}#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "94567",
        "statusListCredential": LIST_URL,
    }


def test_jwt_content_is_the_ob3_v2_content() -> None:
    """The jwt profile carries VCDM 2.0 + OB 3.0.3 (VC-JOSE-COSE), not VCDM 1.1 any more."""
    assert credential("jwt") == credential("ob3-v2")


@pytest.mark.parametrize("profile", ["ob3-v1"])
def test_vcdm_1_1_envelopes(profile: str) -> None:
    built = credential(profile, valid_until=ISSUED + timedelta(days=1))
    contexts = built["@context"]
    assert contexts[:2] == [VC_V1_CONTEXT, OB_V3P0_CONTEXT]
    assert STATUS_LIST_2021_CONTEXT in contexts
    assert (ED25519_2020_CONTEXT in contexts) is (profile == "ob3-v1")
    inline = contexts[-1]
    assert inline["inLanguage"] == {"@id": "https://schema.org/inLanguage"}
    assert built["issuanceDate"] == "2025-01-15T12:00:00Z"
    assert built["expirationDate"] == "2025-01-16T12:00:00Z"
    assert "validFrom" not in built
    assert built["credentialStatus"]["type"] == "StatusList2021Entry"


def test_no_status_context_without_status() -> None:
    built = credential("ob3-v1", status=[])
    assert STATUS_LIST_2021_CONTEXT not in built["@context"]
    assert "credentialStatus" not in built


def test_two_status_entries_become_an_array() -> None:
    entries = [
        status_entry("ob3-v2", "revocation", LIST_URL, 5),
        status_entry("ob3-v2", "suspension", LIST_URL, 5),
    ]
    built = credential("ob3-v2", status=entries)
    assert [e["statusPurpose"] for e in built["credentialStatus"]] == ["revocation", "suspension"]


def test_subject_carries_did_name_and_hashed_email() -> None:
    subject = credential()["credentialSubject"]
    assert subject["id"] == LEARNER_DID
    assert subject["name"] == "Jane Doe"
    (identity,) = subject["identifier"]
    expected = hashlib.sha256(b"jane.doe@college.example0f1e2d3c").hexdigest()
    assert identity["identityHash"] == f"sha256${expected}"
    assert "Jane.Doe@College.example" not in repr(credential())


def test_primary_language_fields_and_related_translation() -> None:
    achievement = credential()["credentialSubject"]["achievement"]
    assert achievement["inLanguage"] == "fr"
    assert achievement["name"] == "Enseigner avec l'IA"
    assert achievement["criteria"]["narrative"].startswith("Réussir")
    assert achievement["alignment"][0]["targetName"] == "Concevoir une activité"
    (related,) = achievement["related"]
    assert related["type"] == ["Related", "Achievement"]
    assert related["inLanguage"] == "en"
    assert related["version"] == "2"
    assert related["id"] == f"{achievement['id']}?lang=en"
    assert related["name"] == "Teaching with AI"
    assert related["criteria"]["narrative"].startswith("Pass the capstone")
    assert related["alignment"][0]["targetName"] == "Design an activity"
    assert related["image"]["caption"] == "Teaching with AI badge"
    assert related["resultDescription"][0]["name"] == "Capstone project"


def test_learner_language_chooses_the_primary_language() -> None:
    built = credential(language="en")
    achievement = built["credentialSubject"]["achievement"]
    assert built["name"] == "Teaching with AI"
    assert built["issuer"]["name"] == "Example College"
    assert achievement["inLanguage"] == "en"
    assert [r["inLanguage"] for r in achievement["related"]] == ["fr"]
    with pytest.raises(ValueError, match="not authored in 'es'"):
        build_achievement(achievement_version(), "es")


def test_monolingual_achievement_has_no_related() -> None:
    version = achievement_version(
        name={"en": "Only English"},
        description={"en": "d"},
        criteria={"en": "c"},
        default_language="en",
        image_caption=None,
        competencies=[],
        level=None,
        assessments=[],
        field_of_study=None,
        quality_assurance=[],
    )
    assert "related" not in to_json(build_achievement(version))


def test_micro_credential_metadata_mapping() -> None:
    achievement = credential()["credentialSubject"]["achievement"]
    assert achievement["achievementType"] == "MicroCredential"
    assert achievement["creditsAvailable"] == 1.5
    assert achievement["timeRequired"] == "PT15H"
    assert achievement["courseMode"] == "online"
    assert achievement["pacing"] == "cohort"
    assert achievement["appliedLearning"] is True
    assert achievement["instructionLanguage"] == ["en"]
    assert achievement["fieldOfStudy"] == "Éducation"
    assert achievement["humanCode"] == "AI-201"
    assert achievement["tag"] == ["ai", "teaching"]
    competency, level = achievement["alignment"]
    assert competency == {
        "type": ["Alignment"],
        "targetName": "Concevoir une activité",
        "targetUrl": "https://framework.example/items/D-1",
        "targetDescription": "Conçoit une activité.",
        "targetFramework": "Cadre numérique",
        "targetCode": "D-1",
        "targetType": "ext:TechnicalSkill",
    }
    assert level["targetType"] == "ext:Level"
    assert level["targetUrl"] == "https://college.example/levels#2"
    assert level["targetName"] == "Niveau 2"
    (assessment,) = achievement["resultDescription"]
    assert assessment["assessmentMethod"] == "project"
    assert assessment["resultType"] == "Status"
    assert assessment["requiredValue"] == "Passed"
    (qa,) = achievement["recognizedBy"]
    assert qa == {
        "id": "https://qa.example.ca",
        "type": ["Profile"],
        "name": "Conseil de la qualité",
        "url": "https://qa.example.ca",
    }


def test_extension_context_only_when_extensions_are_used() -> None:
    plain = achievement_version(
        hours=None,
        delivery_mode=None,
        pacing=None,
        applied_learning=None,
        assessments=[],
        instruction_languages=[],
        quality_assurance=[],
    )
    built = build_credential(
        plain, Recipient(did=LEARNER_DID), issuer(), "ob3-v2", credential_id="urn:uuid:1",
        issued_at=ISSUED,
    )  # fmt: skip
    assert built["@context"] == [VC_V2_CONTEXT, OB_V3P0_3_CONTEXT]


def test_results_evidence_and_credits_earned() -> None:
    built = credential(
        results=[Result(result_description="urn:rd:1", value="Passed", status="Completed")],
        evidence=[Evidence(id="https://github.com/jane/capstone", name="Capstone")],
        credits_earned=1.5,
    )
    subject = built["credentialSubject"]
    assert subject["result"] == [
        {
            "type": ["Result"],
            "resultDescription": "urn:rd:1",
            "value": "Passed",
            "status": "Completed",
        }
    ]
    assert subject["creditsEarned"] == 1.5
    assert built["evidence"][0]["type"] == ["Evidence"]


def test_builder_refuses_bad_arguments() -> None:
    with pytest.raises(ValueError, match="unknown credential profile"):
        credential("ob3-v3", status=[])
    with pytest.raises(ValueError, match="valid_until must be after"):
        credential(valid_until=ISSUED)


def test_builder_accepts_the_engine_profile_enum() -> None:
    from sceau_credentials.engine import Profile as EngineProfile

    built = credential(EngineProfile.OB3_V1, status=[])
    assert built["@context"][0] == VC_V1_CONTEXT


def _built(version: Any, memo: AchievementMemo | None) -> dict[str, Any]:
    return build_credential(
        version,
        recipient(),
        issuer(),
        "ob3-v2",
        credential_id="urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d",
        issued_at=ISSUED,
        salt="0f1e2d3c",
        memo=memo,
    )


def test_a_memo_decides_the_extension_context_as_a_build_without_it() -> None:
    """The achievement's use of Sceau's terms is looked at once per memo entry, same answer."""
    without_terms = achievement_version(
        hours=None,
        delivery_mode=None,
        pacing=None,
        applied_learning=None,
        assessments=[],
        instruction_languages=[],
        quality_assurance=[],
    )
    for version, extended in ((achievement_version(), True), (without_terms, False)):
        memo: AchievementMemo = {}
        alone, first, again = _built(version, None), _built(version, memo), _built(version, memo)
        assert alone == first == again
        assert any(isinstance(c, dict) for c in alone["@context"]) is extended
