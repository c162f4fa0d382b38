"""ecdsa-sd-2023 interop with Digital Bazaar (@digitalbazaar/ecdsa-sd-2023-cryptosuite), every way.

Issuer, holder and verifier may each be either implementation: base proofs signed on one side
are derived on the other, and derived proofs are verified on both. The disclosure hides the grade
(``credentialSubject.result``) and the ``evidence`` of an Open Badges 3.0 credential, as the
sharing feature will.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from interop_js import DigitalBazaar
from interop_scripts import run_script

from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.proofs.ecdsa_sd import add_base_proof, derive
from sceau_credentials.proofs.sd_primitives import pointers_except

pytestmark = pytest.mark.interop

MANDATORY = ["/issuer", "/validFrom"]
HIDDEN = ["/credentialSubject/result", "/evidence"]


def _badge(issuer: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
        ],
        "id": "urn:uuid:4b5b6a53-1a7e-4f0e-8c5d-6f1a2b3c4d5e",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "name": "Introduction to Python",
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Collège Exemple"},
        "validFrom": "2025-03-01T00:00:00Z",
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "achievement": {
                "id": "https://college.example/achievements/python-101",
                "type": ["Achievement"],
                "name": "Introduction to Python",
                "criteria": {"narrative": "Passed the final project."},
            },
            "result": [{"type": ["Result"], "value": "A"}],
        },
        "evidence": [
            {
                "id": "https://college.example/evidence/42",
                "type": ["Evidence"],
                "name": "Final project",
            }
        ],
    }


def _resolver() -> CompositeResolver:
    return CompositeResolver({"key": DidKeyResolver()})


def _js_sign() -> dict[str, Any]:
    out = run_script(
        "ecdsa-sd.mjs",
        {"op": "sign", "credential": _badge("did:example:tbd"), "mandatoryPointers": MANDATORY},
    )
    signed: dict[str, Any] = out["signed"]
    return signed


def _js_derive(secured: dict[str, Any]) -> dict[str, Any]:
    pointers = pointers_except(secured, HIDDEN)
    out = run_script(
        "ecdsa-sd.mjs", {"op": "derive", "credential": secured, "selectivePointers": pointers}
    )
    derived: dict[str, Any] = out["derived"]
    return derived


def _js_verify(disclosed: dict[str, Any]) -> dict[str, Any]:
    return run_script("ecdsa-sd.mjs", {"op": "verify", "credential": disclosed})


def _ours() -> dict[str, Any]:
    key = P256SigningKey.generate()
    return add_base_proof(_badge(key.controller), key, mandatory_pointers=MANDATORY)


def _hidden(disclosed: dict[str, Any]) -> None:
    assert "result" not in disclosed["credentialSubject"]
    assert "evidence" not in disclosed
    assert disclosed["credentialSubject"]["achievement"]["name"] == "Introduction to Python"


async def _verified_here(disclosed: dict[str, Any]) -> None:
    outcome = await verify_proof(disclosed, _resolver())
    assert outcome.verified, outcome.reason
    tampered = copy.deepcopy(disclosed)
    tampered["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    assert not (await verify_proof(tampered, _resolver())).verified


def _verified_there(disclosed: dict[str, Any]) -> None:
    result = _js_verify(disclosed)
    assert result["verified"], result["errors"]
    tampered = copy.deepcopy(disclosed)
    tampered["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    assert not _js_verify(tampered)["verified"]


async def test_base_here_derived_here_verified_there(digital_bazaar: DigitalBazaar) -> None:
    secured = _ours()
    disclosed = derive(secured, pointers_except(secured, HIDDEN))
    _hidden(disclosed)
    _verified_there(disclosed)


async def test_base_here_derived_there_verified_here(digital_bazaar: DigitalBazaar) -> None:
    disclosed = _js_derive(_ours())
    _hidden(disclosed)
    await _verified_here(disclosed)


async def test_base_there_derived_here_verified_both(digital_bazaar: DigitalBazaar) -> None:
    secured = _js_sign()
    disclosed = derive(secured, pointers_except(secured, HIDDEN))
    _hidden(disclosed)
    await _verified_here(disclosed)
    _verified_there(disclosed)


async def test_base_there_derived_there_verified_here(digital_bazaar: DigitalBazaar) -> None:
    disclosed = _js_derive(_js_sign())
    _hidden(disclosed)
    await _verified_here(disclosed)


async def test_p256_did_key_document_matches_digital_bazaar(digital_bazaar: DigitalBazaar) -> None:
    key = P256SigningKey.generate()
    theirs = run_script("ecdsa-sd.mjs", {"op": "did", "did": key.controller})
    ours = await DidKeyResolver().resolve(key.controller)
    assert ours == theirs
