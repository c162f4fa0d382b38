"""eddsa-rdfc-2022: every intermediate of the W3C vc-di-eddsa vectors, signing and verifying."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sceau_credentials.canonical import (
    Canonicalizer,
    OxigraphCanonicalizer,
    PyldCanonicalizer,
)
from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.keys import SigningKey, public_key_from_did_key
from sceau_credentials.proofs.data_integrity import (
    EDDSA_RDFC_2022,
    add_proof,
    create_proof,
    verify_document_proofs,
    verify_proof_with_key,
)
from sceau_credentials.proofs.errors import PROOF_VERIFICATION_ERROR, ProofError

W3C = Path(__file__).parent / "vectors" / "w3c-vc-di-eddsa"
CREATED = datetime(2023, 2, 24, 23, 36, 38, tzinfo=UTC)
ENGINES = [PyldCanonicalizer(), OxigraphCanonicalizer()]
CASES = {
    "alumni": ("unsigned.json", "eddsa-rdfc-2022"),
    "employ": ("employmentAuth.json", "eddsa-rdfc-2022/employ"),
}


def text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def load(path: Path) -> Any:
    return json.loads(text(path))


def vector_key() -> SigningKey:
    return SigningKey.from_secret_multibase(load(W3C / "keyPair.json")["privateKeyMultibase"])


def resolver() -> CompositeResolver:
    return CompositeResolver({"key": DidKeyResolver()})


def test_key_pair_is_the_vectors_did_key() -> None:
    key = vector_key()
    assert key.public_key_multibase == load(W3C / "keyPair.json")["publicKeyMultibase"]
    assert (
        key.verification_method
        == load(W3C / "eddsa-rdfc-2022/proofConfigDataInt.json")["verificationMethod"]
    )


@pytest.mark.parametrize("engine", ENGINES, ids=[e.name for e in ENGINES])
@pytest.mark.parametrize("case", list(CASES))
def test_signing_reproduces_every_intermediate(engine: Canonicalizer, case: str) -> None:
    source, folder = CASES[case]
    directory = W3C / folder
    proof, data = create_proof(load(W3C / source), vector_key(), engine, created=CREATED)

    assert data.canonical_document == text(directory / "canonDocDataInt.txt")
    assert data.canonical_proof_config == text(directory / "proofCanonDataInt.txt")
    assert data.document_hash.hex() == text(directory / "docHashDataInt.txt")
    assert data.proof_config_hash.hex() == text(directory / "proofHashDataInt.txt")
    assert data.hash_data.hex() == text(directory / "combinedHashDataInt.txt")
    assert vector_key().sign(data.hash_data).hex() == text(directory / "sigHexDataInt.txt")
    assert proof["proofValue"] == text(directory / "sigBTC58DataInt.txt")

    config = {k: v for k, v in proof.items() if k != "proofValue"}
    expected_config = load(directory / "proofConfigDataInt.json")
    assert {**config, "@context": load(W3C / source)["@context"]} == expected_config
    assert add_proof(load(W3C / source), vector_key(), engine, created=CREATED) == load(
        directory / "signedDataInt.json"
    )


@pytest.mark.parametrize("engine", ENGINES, ids=[e.name for e in ENGINES])
@pytest.mark.parametrize("case", list(CASES))
async def test_published_signed_vectors_verify(engine: Canonicalizer, case: str) -> None:
    _, folder = CASES[case]
    signed = load(W3C / folder / "signedDataInt.json")
    verified = await verify_document_proofs(signed, resolver(), engine)
    assert len(verified) == 1
    assert verified[0].verification_method == signed["proof"]["verificationMethod"]
    assert verified[0].created == CREATED
    assert verified[0].signing_input.canonical_document == text(
        W3C / folder / "canonDocDataInt.txt"
    )


def test_verify_with_the_raw_key() -> None:
    signed = load(W3C / "eddsa-rdfc-2022/signedDataInt.json")
    raw = public_key_from_did_key(signed["proof"]["verificationMethod"])
    data = verify_proof_with_key(
        signed, signed["proof"], Ed25519PublicKey.from_public_bytes(raw), ENGINES[0]
    )
    assert data.hash_data.hex() == text(W3C / "eddsa-rdfc-2022/combinedHashDataInt.txt")


async def test_proof_as_one_element_array_verifies() -> None:
    signed = load(W3C / "eddsa-rdfc-2022/signedDataInt.json")
    signed["proof"] = [signed["proof"]]
    assert len(await verify_document_proofs(signed, resolver(), ENGINES[0])) == 1


async def test_changed_claim_fails() -> None:
    signed = load(W3C / "eddsa-rdfc-2022/signedDataInt.json")
    signed["credentialSubject"]["alumniOf"] = "The School of Forgeries"
    with pytest.raises(ProofError) as caught:
        await verify_document_proofs(signed, resolver(), ENGINES[0])
    assert caught.value.problem_type == PROOF_VERIFICATION_ERROR
    assert "signature does not match" in caught.value.reason


async def test_wrong_purpose_fails() -> None:
    signed = load(W3C / "eddsa-rdfc-2022/signedDataInt.json")
    with pytest.raises(ProofError, match="proofPurpose"):
        await verify_document_proofs(
            signed, resolver(), ENGINES[0], expected_purpose="authentication"
        )


def test_suite_constants() -> None:
    assert EDDSA_RDFC_2022.proof_type == "DataIntegrityProof"
    assert EDDSA_RDFC_2022.cryptosuite == "eddsa-rdfc-2022"


def test_signing_ignores_an_existing_proof_and_never_mutates_input() -> None:
    document = load(W3C / "eddsa-rdfc-2022/signedDataInt.json")
    before = copy.deepcopy(document)
    proof, _ = create_proof(document, vector_key(), ENGINES[0], created=CREATED)
    assert proof["proofValue"] == text(W3C / "eddsa-rdfc-2022/sigBTC58DataInt.txt")
    assert document == before
