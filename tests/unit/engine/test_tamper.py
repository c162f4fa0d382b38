"""Tampering with any claim, key, date, proof value or context fails, and says why."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest
from engine_samples import (
    CREATED,
    did_key_signer,
    did_web_signer,
    ob3_v1_credential,
    ob3_v2_credential,
    resolver_for,
)

from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.proofs.errors import (
    PARSING_ERROR,
    PROOF_TRANSFORMATION_ERROR,
    PROOF_VERIFICATION_ERROR,
)

Mutation = Callable[[dict[str, Any]], None]
MISMATCH = "signature"  # our reason says "signature does not match"; didkit's "signature error"


def proof_of(doc: dict[str, Any]) -> dict[str, Any]:
    proof = doc["proof"]
    return proof[0] if isinstance(proof, list) else proof


def achievement(doc: dict[str, Any]) -> dict[str, Any]:
    return doc["credentialSubject"]["achievement"]


def set_date(doc: dict[str, Any]) -> None:
    doc["validFrom" if "validFrom" in doc else "issuanceDate"] = "2020-01-01T00:00:00Z"


def flip_proof_value(doc: dict[str, Any]) -> None:
    value = proof_of(doc)["proofValue"]
    proof_of(doc)["proofValue"] = value[:-4] + ("1111" if not value.endswith("1111") else "2222")


def other_key(doc: dict[str, Any]) -> None:
    intruder = did_key_signer(99)
    proof_of(doc)["verificationMethod"] = intruder.verification_method


def other_key_and_issuer(doc: dict[str, Any]) -> None:
    intruder = did_key_signer(99)
    proof_of(doc)["verificationMethod"] = intruder.verification_method
    doc["issuer"]["id"] = intruder.controller


def replace_context(url: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["@context"] = [doc["@context"][0], url, *doc["@context"][2:]]

    return mutate


MUTATIONS: dict[str, tuple[Mutation, str, str]] = {
    "claim: achievement name": (
        lambda d: achievement(d).update(name="Doctorate in Physics"),
        PROOF_VERIFICATION_ERROR,
        MISMATCH,
    ),
    "claim: credits": (
        lambda d: achievement(d).update(creditsAvailable=30),
        PROOF_VERIFICATION_ERROR,
        MISMATCH,
    ),
    "claim: recipient hash": (
        lambda d: d["credentialSubject"]["identifier"][0].update(identityHash="sha256$00"),
        PROOF_VERIFICATION_ERROR,
        MISMATCH,
    ),
    "claim: status index": (
        lambda d: d["credentialStatus"].update(statusListIndex="1"),
        PROOF_VERIFICATION_ERROR,
        MISMATCH,
    ),
    "claim: issuer name": (
        lambda d: d["issuer"].update(name="Université Contrefaite"),
        PROOF_VERIFICATION_ERROR,
        MISMATCH,
    ),
    "claim: undefined property added": (
        lambda d: d["credentialSubject"].update(grade="A+"),
        PROOF_TRANSFORMATION_ERROR,
        "not defined",
    ),
    "date: validity start": (set_date, PROOF_VERIFICATION_ERROR, MISMATCH),
    "date: proof created": (
        lambda d: proof_of(d).update(created="2030-01-01T00:00:00Z"),
        PROOF_VERIFICATION_ERROR,
        MISMATCH,
    ),
    "date: malformed proof created": (
        lambda d: proof_of(d).update(created="yesterday"),
        PROOF_VERIFICATION_ERROR,
        "created",
    ),
    "proof value: changed": (flip_proof_value, PROOF_VERIFICATION_ERROR, MISMATCH),
    "proof value: not multibase": (
        lambda d: proof_of(d).update(proofValue="not-base58!"),
        PROOF_VERIFICATION_ERROR,
        "proofValue",
    ),
    "proof value: removed": (
        lambda d: proof_of(d).pop("proofValue"),
        PROOF_VERIFICATION_ERROR,
        "proofValue",
    ),
    "proof: removed": (lambda d: d.pop("proof"), PROOF_VERIFICATION_ERROR, "no proof"),
    "proof: purpose": (
        lambda d: proof_of(d).update(proofPurpose="authentication"),
        PROOF_VERIFICATION_ERROR,
        "proofPurpose",
    ),
    "proof: type": (
        lambda d: proof_of(d).update(type="RsaSignature2018"),
        PROOF_VERIFICATION_ERROR,
        "not supported",
    ),
    "key: another did:key": (other_key, PROOF_VERIFICATION_ERROR, "issuer"),
    "key: another did:key and issuer": (other_key_and_issuer, PROOF_VERIFICATION_ERROR, MISMATCH),
    "key: unresolvable did:web": (
        lambda d: (
            proof_of(d).update(verificationMethod="did:web:nowhere.example#key-1"),
            d["issuer"].update(id="did:web:nowhere.example"),
        ),
        PROOF_VERIFICATION_ERROR,
        "not found",
    ),
    "context: unknown URL": (
        replace_context("https://evil.example/ob.json"),
        PROOF_TRANSFORMATION_ERROR,
        "evil.example",
    ),
    "context: meaning changed": (
        replace_context("https://www.w3.org/ns/credentials/examples/v2"),
        PROOF_VERIFICATION_ERROR,
        MISMATCH,
    ),
    "context: removed": (
        lambda d: d.update({"@context": d["@context"][:1]}),
        PROOF_TRANSFORMATION_ERROR,
        "not defined",
    ),
}

SIGNERS: dict[str, tuple[Profile, Callable[[], SigningKey]]] = {
    "ob3-v2 did:key": (Profile.OB3_V2, did_key_signer),
    "ob3-v2 did:web": (Profile.OB3_V2, did_web_signer),
    "ob3-v1 did:key (didkit)": (Profile.OB3_V1, did_key_signer),
    "ob3-v1 did:web (ours)": (Profile.OB3_V1, lambda: did_web_signer(legacy=True)),
}


async def signed(profile: Profile, key: SigningKey) -> dict[str, Any]:
    build = ob3_v2_credential if profile is Profile.OB3_V2 else ob3_v1_credential
    document = await sign_credential(build(key.controller), key, profile, created=CREATED)
    assert isinstance(document, dict)
    return document


@pytest.mark.parametrize("signer", list(SIGNERS))
async def test_untouched_credential_verifies(signer: str) -> None:
    profile, make_key = SIGNERS[signer]
    key = make_key()
    result = await verify_proof(await signed(profile, key), resolver_for(did_web_signer()))
    assert result.verified, result.reason
    assert result.problem_type is None


@pytest.mark.parametrize("signer", list(SIGNERS))
@pytest.mark.parametrize("mutation", list(MUTATIONS))
async def test_tampering_fails_with_the_right_reason(signer: str, mutation: str) -> None:
    profile, make_key = SIGNERS[signer]
    key = make_key()
    document = await signed(profile, key)
    mutate, problem_type, reason = MUTATIONS[mutation]
    tampered = copy.deepcopy(document)
    mutate(tampered)
    result = await verify_proof(tampered, resolver_for(did_web_signer()))
    assert not result.verified
    assert result.problem_type == problem_type, result.reason
    assert reason in result.reason, result.reason


@pytest.mark.parametrize(
    "document", [None, 42, [], {}, {"proof": "x"}, {"@context": [], "proof": {}}]
)
async def test_malformed_input_is_a_result_not_an_exception(document: Any) -> None:
    result = await verify_proof(document, resolver_for())
    assert not result.verified
    assert result.problem_type in (PARSING_ERROR, PROOF_VERIFICATION_ERROR)
    assert result.reason
