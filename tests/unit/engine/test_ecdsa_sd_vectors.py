"""ecdsa-sd-2023 against the W3C vc-di-ecdsa test vectors (see vectors/w3c-vc-di-ecdsa)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.proofs.ecdsa_sd import (
    create_base_proof,
    derive,
    parse_base_proof_value,
    parse_derived_proof_value,
)
from sceau_credentials.proofs.rdfc import parse_datetime

VECTORS = Path(__file__).parent / "vectors" / "w3c-vc-di-ecdsa" / "ecdsa-sd-2023"
SELECTIVE = ["/credentialSubject/boards/0", "/credentialSubject/boards/1"]


def _load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((VECTORS / name).read_text(encoding="utf-8"))
    return data


def _resolver() -> CompositeResolver:
    return CompositeResolver({"key": DidKeyResolver()})


async def test_w3c_derived_document_verifies() -> None:
    revealed = _load("derivedRevealDocument.json")
    outcome = await verify_proof(revealed, _resolver())
    assert outcome.verified, outcome.reason
    tampered = copy.deepcopy(revealed)
    tampered["credentialSubject"]["boards"][1]["year"] = 2021
    assert not (await verify_proof(tampered, _resolver())).verified


def test_we_derive_the_w3c_disclosure_byte_for_byte() -> None:
    assert derive(_load("addSignedSDBase.json"), SELECTIVE) == _load("derivedRevealDocument.json")


async def test_base_proof_with_the_vector_keys() -> None:
    keys = _load("SDKeyMaterial.json")
    issuer = P256SigningKey.from_secret_multibase(keys["baseKeyPair"]["privateKeyMultibase"])
    assert issuer.public_key_multibase == keys["baseKeyPair"]["publicKeyMultibase"]
    proof_key = P256SigningKey.from_secret_multibase(keys["proofKeyPair"]["privateKeyMultibase"])
    assert proof_key.public_key_multibase == keys["proofKeyPair"]["publicKeyMultibase"]
    vector = _load("addSignedSDBase.json")
    theirs = parse_base_proof_value(vector["proof"]["proofValue"])
    document = {name: value for name, value in vector.items() if name != "proof"}
    proof = create_base_proof(
        document,
        issuer,
        mandatory_pointers=theirs.mandatory_pointers,
        created=parse_datetime(vector["proof"]["created"], "created"),
        hmac_key=bytes.fromhex(keys["hmacKeyString"]),
        proof_key=proof_key.ec_key,
    )
    ours = parse_base_proof_value(proof["proofValue"])
    assert {k: v for k, v in proof.items() if k != "proofValue"} == {
        k: v for k, v in vector["proof"].items() if k != "proofValue"
    }
    # ECDSA signatures are randomised; everything else is determined by the inputs.
    assert ours.public_key == theirs.public_key
    assert ours.hmac_key == theirs.hmac_key
    assert len(ours.signatures) == len(theirs.signatures)
    secured = {**document, "proof": proof}
    disclosed = derive(secured, SELECTIVE)
    reference = _load("derivedRevealDocument.json")
    assert {k: v for k, v in disclosed.items() if k != "proof"} == {
        k: v for k, v in reference.items() if k != "proof"
    }
    mine = parse_derived_proof_value(disclosed["proof"]["proofValue"])
    spec = parse_derived_proof_value(reference["proof"]["proofValue"])
    assert mine.label_map == spec.label_map
    assert mine.mandatory_indexes == spec.mandatory_indexes
    assert (await verify_proof(disclosed, _resolver())).verified
