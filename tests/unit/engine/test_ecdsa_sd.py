"""ecdsa-sd-2023: base proof, derived disclosure, verification, tampering (no Node.js here)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from engine_samples import ob3_v2_credential

from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.proofs.ecdsa_sd import (
    DerivedProofValue,
    add_base_proof,
    derive,
    parse_base_proof_value,
    parse_derived_proof_value,
    serialize_derived_proof_value,
    verify_derived_proofs,
)
from sceau_credentials.proofs.errors import (
    PROOF_GENERATION_ERROR,
    PROOF_VERIFICATION_ERROR,
    ProofError,
)
from sceau_credentials.proofs.sd_primitives import pointers_except
from sceau_credentials.results import CheckName, CheckStatus
from sceau_credentials.verification import verify

VECTORS = Path(__file__).parent / "vectors" / "ecdsa-sd-2023"
MANDATORY = ["/issuer", "/validFrom"]
HIDDEN = ["/credentialSubject/result", "/evidence"]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def resolver() -> CompositeResolver:
    return CompositeResolver({"key": DidKeyResolver()})


def graded_badge(issuer: str) -> dict[str, Any]:
    """An OB 3.0 credential with a grade (``result``) and ``evidence`` a holder may hide."""
    credential = ob3_v2_credential(issuer)
    del credential["credentialStatus"]
    credential["credentialSubject"]["result"] = [
        {
            "type": ["Result"],
            "value": "A",
            "resultDescription": "urn:uuid:9d1c2a8e-6d0b-4f5e-9a31-7c2b5e8f0a14",
        }
    ]
    credential["evidence"] = [
        {
            "id": "https://college.example/evidence/42",
            "type": ["Evidence"],
            "name": "Final project",
            "narrative": "A command-line todo manager with tests.",
        }
    ]
    return credential


@pytest.fixture(scope="module")
def issued() -> tuple[P256SigningKey, dict[str, Any]]:
    key = P256SigningKey.generate()
    return key, add_base_proof(graded_badge(key.controller), key, mandatory_pointers=MANDATORY)


async def test_hiding_the_grade_and_evidence(issued: tuple[P256SigningKey, dict[str, Any]]) -> None:
    key, secured = issued
    disclosed = derive(secured, pointers_except(secured, HIDDEN))
    assert "result" not in disclosed["credentialSubject"]
    assert "evidence" not in disclosed
    assert disclosed["credentialSubject"]["achievement"]["name"] == "Introduction to Python"
    assert disclosed["issuer"]["id"] == key.controller
    assert "result" not in json.dumps(disclosed)
    outcome = await verify_proof(disclosed, resolver())
    assert outcome.verified, outcome.reason
    assert outcome.issuer == key.controller
    assert outcome.verification_method == key.verification_method


async def test_full_disclosure_verifies(issued: tuple[P256SigningKey, dict[str, Any]]) -> None:
    _, secured = issued
    disclosed = derive(secured, pointers_except(secured, []))
    unsecured = {name: value for name, value in secured.items() if name != "proof"}
    assert {name: value for name, value in disclosed.items() if name != "proof"} == unsecured
    assert (await verify_proof(disclosed, resolver())).verified


async def test_mandatory_only(issued: tuple[P256SigningKey, dict[str, Any]]) -> None:
    _, secured = issued
    disclosed = derive(secured, [])
    assert set(disclosed) == {"@context", "id", "type", "issuer", "validFrom", "proof"}
    assert parse_derived_proof_value(disclosed["proof"]["proofValue"]).signatures == []
    assert (await verify_proof(disclosed, resolver())).verified


async def test_base_proof_is_not_for_verifiers(
    issued: tuple[P256SigningKey, dict[str, Any]],
) -> None:
    _, secured = issued
    outcome = await verify_proof(secured, resolver())
    assert not outcome.verified
    assert "base proof" in outcome.reason
    base = parse_base_proof_value(secured["proof"]["proofValue"])
    assert base.mandatory_pointers == MANDATORY
    assert len(base.hmac_key) == 32


def _disclosed(issued: tuple[P256SigningKey, dict[str, Any]]) -> dict[str, Any]:
    return derive(issued[1], pointers_except(issued[1], HIDDEN))


@pytest.mark.parametrize(
    "change",
    [
        "disclosed value",
        "mandatory value",
        "removed statement",
        "added statement",
        "proof option",
    ],
)
async def test_tampering_is_detected(
    issued: tuple[P256SigningKey, dict[str, Any]], change: str
) -> None:
    disclosed = _disclosed(issued)
    if change == "disclosed value":
        disclosed["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    elif change == "mandatory value":
        disclosed["validFrom"] = "2020-01-01T00:00:00Z"
    elif change == "removed statement":
        del disclosed["credentialSubject"]["achievement"]["description"]
    elif change == "added statement":
        disclosed["credentialSubject"]["result"] = [{"type": ["Result"], "value": "A+"}]
    else:
        disclosed["proof"]["created"] = "2020-01-01T00:00:00Z"
    outcome = await verify_proof(disclosed, resolver())
    assert not outcome.verified
    assert outcome.problem_type == PROOF_VERIFICATION_ERROR


async def test_another_issuer_key_fails(issued: tuple[P256SigningKey, dict[str, Any]]) -> None:
    other = P256SigningKey.generate()
    disclosed = _disclosed(issued)
    disclosed["issuer"]["id"] = other.controller
    disclosed["proof"]["verificationMethod"] = other.verification_method
    outcome = await verify_proof(disclosed, resolver())
    assert not outcome.verified


async def test_derive_refuses_bad_input(issued: tuple[P256SigningKey, dict[str, Any]]) -> None:
    _, secured = issued
    with pytest.raises(ProofError) as caught:
        derive(secured, ["/credentialSubject/nothing"])
    assert caught.value.problem_type == PROOF_GENERATION_ERROR
    changed = copy.deepcopy(secured)
    changed["name"] = "Something else"
    changed["description"] = "A statement the issuer never signed."
    with pytest.raises(ProofError):
        derive(changed, pointers_except(changed, HIDDEN))
    with pytest.raises(ProofError) as caught:
        derive({k: v for k, v in secured.items() if k != "proof"}, [])
    assert caught.value.problem_type == PROOF_VERIFICATION_ERROR  # no proof at all


async def test_proof_as_array_keeps_its_form() -> None:
    key = P256SigningKey.generate()
    secured = add_base_proof(graded_badge(key.controller), key, as_array=True)
    disclosed = derive(secured, ["/credentialSubject/achievement"])
    assert isinstance(disclosed["proof"], list)
    assert (await verify_derived_proofs(disclosed, resolver()))[0].controller == key.controller


async def test_digital_bazaar_derived_proof_verifies_here() -> None:
    disclosed = _load("ob3-derived-digitalbazaar.json")
    outcome = await verify_proof(disclosed, resolver())
    assert outcome.verified, outcome.reason
    assert "result" not in disclosed["credentialSubject"]
    disclosed["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    assert not (await verify_proof(disclosed, resolver())).verified


async def test_we_derive_from_a_digital_bazaar_base_proof() -> None:
    base = _load("ob3-base-digitalbazaar.json")
    pointers: list[str] = json.loads((VECTORS / "ob3-selective-pointers.json").read_text())
    disclosed = derive(base, pointers)
    reference = _load("ob3-derived-digitalbazaar.json")
    without_proof = {name: value for name, value in disclosed.items() if name != "proof"}
    assert without_proof == {name: value for name, value in reference.items() if name != "proof"}
    ours = parse_derived_proof_value(disclosed["proof"]["proofValue"])
    theirs = parse_derived_proof_value(reference["proof"]["proofValue"])
    assert ours == theirs  # same signatures kept, same label map, same mandatory indexes
    assert (await verify_proof(disclosed, resolver())).verified


async def test_full_verification_pipeline_passes_a_disclosure() -> None:
    key = P256SigningKey.generate()
    secured = add_base_proof(
        graded_badge(key.controller), key, mandatory_pointers=MANDATORY, as_array=True
    )
    disclosed = derive(secured, pointers_except(secured, HIDDEN))
    result = await verify(disclosed, resolver=resolver())
    assert result.verified
    statuses = {check.name: check.status for check in result.checks}
    assert statuses[CheckName.PROOF] is CheckStatus.PASSED
    assert statuses[CheckName.STRUCTURE] is CheckStatus.PASSED
    assert not result.warnings  # proof as an array: valid against the OB 3.0 JSON Schema


def test_a_label_map_merging_blank_nodes_is_refused(
    issued: tuple[P256SigningKey, dict[str, Any]],
) -> None:
    disclosed = _disclosed(issued)
    value = parse_derived_proof_value(disclosed["proof"]["proofValue"])
    assert len(value.label_map) >= 2
    first = next(iter(value.label_map.values()))
    merged = DerivedProofValue(
        value.base_signature,
        value.public_key,
        value.signatures,
        dict.fromkeys(value.label_map, first),
        value.mandatory_indexes,
    )
    with pytest.raises(ProofError, match="same label"):
        parse_derived_proof_value(serialize_derived_proof_value(merged))
