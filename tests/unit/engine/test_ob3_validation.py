"""validate_for_signing: OB 3.0 required fields, every problem listed, and 1EdTech's JSON Schema."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest
from ob3_samples import LIST_URL, credential, with_fake_proof

from sceau_credentials.ob3 import (
    CredentialValidationError,
    schema_problems,
    structure_problems,
    validate_for_signing,
)
from sceau_credentials.ob3.validation import presentation_problems
from sceau_credentials.status import status_entry

SCHEMA_DIR = resources.files("sceau_credentials.ob3").joinpath("schema")


def example(name: str) -> dict[str, Any]:
    text = SCHEMA_DIR.joinpath(f"example-{name}-openbadgecredential.json").read_text("utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def paths(error: CredentialValidationError) -> set[str]:
    return {problem.path for problem in error.problems}


# --- the official examples and the schema copy ----------------------------------------------------


@pytest.mark.parametrize("name", ["minimal", "complete"])
def test_1edtech_examples_validate_against_the_copied_schema(name: str) -> None:
    assert schema_problems(example(name)) == []


@pytest.mark.parametrize("name", ["minimal", "complete"])
def test_1edtech_examples_pass_our_structure_checks(name: str) -> None:
    assert structure_problems(example(name)) == []
    validate_for_signing(example(name))


def test_schema_copy_is_the_official_one() -> None:
    schema = json.loads(
        SCHEMA_DIR.joinpath("ob_v3p0_achievementcredential_schema.json").read_text("utf-8")
    )
    assert schema["$schema"] == "https://json-schema.org/draft/2019-09/schema#"
    assert schema["required"] == [
        "@context",
        "id",
        "type",
        "credentialSubject",
        "issuer",
        "validFrom",
    ]
    readme = SCHEMA_DIR.joinpath("README.md").read_text("utf-8")
    assert "1EdTech" in readme
    assert "purl.imsglobal.org" in readme


# --- what we build is valid -----------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1", "jwt"])
def test_built_credentials_are_valid_for_signing(profile: str) -> None:
    validate_for_signing(credential(profile))


def test_built_ob3_v2_credential_satisfies_the_schema_with_a_one_element_proof_array() -> None:
    signed = with_fake_proof(credential("ob3-v2"))
    assert isinstance(signed["proof"], list)
    assert schema_problems(signed) == []


def test_a_proof_object_instead_of_an_array_breaks_the_schema() -> None:
    signed = with_fake_proof(credential("ob3-v2"))
    signed["proof"] = signed["proof"][0]
    assert [p.path for p in schema_problems(signed)] == ["proof"]


# --- refusal lists every problem ------------------------------------------------------------------


def test_every_problem_is_listed_with_its_path() -> None:
    broken = credential("ob3-v2")
    del broken["id"]
    broken["type"] = ["VerifiableCredential"]
    broken["validFrom"] = "yesterday"
    achievement = broken["credentialSubject"]["achievement"]
    del achievement["name"]
    achievement["description"] = ""
    achievement["criteria"] = {}
    achievement["alignment"][0]["targetUrl"] = "not a url"
    achievement["inLanguage"] = "French"
    del broken["credentialSubject"]["identifier"][0]["salt"]
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(broken)
    found = paths(caught.value)
    assert {
        "id",
        "type",
        "validFrom",
        "credentialSubject.achievement.name",
        "credentialSubject.achievement.description",
        "credentialSubject.achievement.criteria",
        "credentialSubject.achievement.alignment[0].targetUrl",
        "credentialSubject.achievement.inLanguage",
        "credentialSubject.identifier[0].salt",
    } <= found
    message = str(caught.value)
    assert "problem(s)" in message
    assert "credentialSubject.achievement.name: is required" in message


def test_subject_needs_id_or_identifier() -> None:
    broken = credential("ob3-v1")
    del broken["credentialSubject"]["id"]
    del broken["credentialSubject"]["identifier"]
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(broken)
    assert any(
        "needs an 'id' or at least one 'identifier'" in p.message for p in caught.value.problems
    )


@pytest.mark.parametrize(
    ("mutate", "path"),
    [
        (lambda c: c.update({"@context": ["https://example.com/ctx"]}), "@context[0]"),
        (lambda c: c["@context"].pop(1), "@context[1]"),
        (lambda c: c.update({"issuer": "not-a-uri"}), "issuer"),
        (lambda c: c["issuer"].update({"type": ["Organization"]}), "issuer.type"),
        (lambda c: c.update({"validUntil": "2020-01-01T00:00:00Z"}), "validUntil"),
        (lambda c: c["credentialSubject"].update({"type": ["Person"]}), "credentialSubject.type"),
        (
            lambda c: c["credentialSubject"]["achievement"].update({"achievementType": "Trophy"}),
            "credentialSubject.achievement.achievementType",
        ),
        (
            lambda c: c["credentialSubject"]["achievement"].update(
                {"image": "https://i.example/x.png"}
            ),
            "credentialSubject.achievement.image",
        ),
        (
            lambda c: c["credentialSubject"]["identifier"][0].update(
                {"identityHash": "sha256$abc"}
            ),
            "credentialSubject.identifier[0].identityHash",
        ),
        (lambda c: c["credentialStatus"].pop("statusListCredential"), "credentialStatus"),
        (lambda c: c["credentialStatus"].update({"statusListIndex": "-1"}), "credentialStatus"),
        (
            lambda c: c["credentialSubject"]["achievement"]["related"][0].pop("id"),
            "credentialSubject.achievement.related[0].id",
        ),
    ],
)
def test_single_defects_are_named(mutate: Any, path: str) -> None:
    broken = copy.deepcopy(credential("ob3-v2"))
    mutate(broken)
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(broken)
    assert path in paths(caught.value)


def test_vcdm_1_1_requires_issuance_date() -> None:
    broken = credential("ob3-v1")
    del broken["issuanceDate"]
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(broken)
    assert "issuanceDate" in paths(caught.value)


def test_non_ob_credentials_are_refused_for_signing() -> None:
    broken = credential("ob3-v2")
    broken["type"] = ["VerifiableCredential", "UniversityDegreeCredential"]
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(broken)
    assert "type" in paths(caught.value)


def test_schema_only_defects_are_reported_too() -> None:
    broken = credential("ob3-v2")
    broken["awardedDate"] = "15 January 2025"  # only the JSON Schema knows awardedDate's format
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(broken)
    assert "awardedDate" in paths(caught.value)


# --- status entries vs the schema -----------------------------------------------------------------


def test_several_status_entries_need_an_explicit_opt_in() -> None:
    entries = [
        status_entry("ob3-v2", "revocation", LIST_URL, 1),
        status_entry("ob3-v2", "suspension", LIST_URL, 1),
    ]
    built = credential("ob3-v2", status=entries)
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(built)
    (problem,) = caught.value.problems
    assert problem.path == "credentialStatus"
    assert "single status entry" in problem.message
    validate_for_signing(built, allow_status_array=True)
    built["credentialStatus"][1].pop("id")
    with pytest.raises(CredentialValidationError) as caught:
        validate_for_signing(built, allow_status_array=True)
    assert "credentialStatus[1]" in paths(caught.value)


@pytest.mark.parametrize("profile", ["ob3-v1"])
def test_vcdm_1_1_profiles_never_carry_several_status_entries(profile: str) -> None:
    entries = [
        status_entry(profile, "revocation", LIST_URL, 1),
        status_entry(profile, "suspension", LIST_URL, 1),
    ]
    with pytest.raises(CredentialValidationError, match="didkit") as caught:
        validate_for_signing(credential(profile, status=entries), allow_status_array=True)
    assert paths(caught.value) == {"credentialStatus"}


def test_other_status_methods_are_not_malformed() -> None:
    assert structure_problems(example("complete")) == []  # uses 1EdTechRevocationList


# --- generic credentials and presentations --------------------------------------------------------


def test_generic_vc_gets_only_data_model_checks() -> None:
    generic = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": "did:example:1",
        "credentialSubject": {"id": "did:example:2"},
    }
    assert structure_problems(generic) == []
    assert [p.path for p in structure_problems({**generic, "credentialSubject": 3})] == [
        "credentialSubject"
    ]


def test_presentation_envelope() -> None:
    presentation = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": "did:example:holder",
        "verifiableCredential": [credential()],
    }
    assert presentation_problems(presentation) == []
    broken = {**presentation, "type": ["Thing"], "holder": "nobody", "verifiableCredential": [3]}
    assert {p.path for p in presentation_problems(broken)} == {
        "type",
        "holder",
        "verifiableCredential[0]",
    }


@pytest.mark.parametrize("value", [None, [], "text", 42])
def test_non_objects_are_one_problem(value: object) -> None:
    assert len(structure_problems(value)) == 1
    with pytest.raises(CredentialValidationError):
        validate_for_signing(value)  # type: ignore[arg-type]
