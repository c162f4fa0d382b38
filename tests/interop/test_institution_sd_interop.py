"""Selective disclosure as the issuer does it, checked by Digital Bazaar's ecdsa-sd-2023 suite.

The base copy is made by ``sceau_issuer.issuing.selective.base_proof_copy`` with a did:web
institution's P-256 key (``#p256-N``, published by ``institution_did_document``) over an
``ob3-v2`` credential built as the issuer builds it; the learner's share is
``selective.disclose`` (grade withheld). `@digitalbazaar/ecdsa-sd-2023-cryptosuite` verifies
that disclosure against the institution's DID document, and derives its own disclosure from our
base copy, which verifies here. The mandatory fields stay: a disclosure without the status entry
cannot be made.
"""

from __future__ import annotations

import copy
import os
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from interop_js import DigitalBazaar
from interop_scripts import run_script

from sceau_credentials.dids import CompositeResolver, StaticResolver
from sceau_credentials.dids.documents import PublishedKey, institution_did_document
from sceau_credentials.engine import verify_proof
from sceau_credentials.ob3 import Evidence, IssuerProfile, Recipient, Result, build_credential
from sceau_credentials.ob3.authoring import AchievementVersion
from sceau_credentials.proofs.ecdsa_sd import derive
from sceau_credentials.proofs.errors import ProofError
from sceau_credentials.proofs.sd_primitives import pointers_except
from sceau_credentials.status.entries import status_entry
from sceau_issuer.issuing.selective import base_proof_copy, disclose
from sceau_issuer.tenants.dids import p256_key, signing_key

pytestmark = pytest.mark.interop

DID = "did:web:college.example:institutions:boreal"
ACHIEVEMENT = AchievementVersion(
    id="https://college.example/achievements/soudage-201",
    version="1",
    default_language="fr",
    name={"fr": "Soudage avancé", "en": "Advanced welding"},
    description={"fr": "Techniques TIG.", "en": "TIG techniques."},
    criteria={"fr": "Réussir l'épreuve.", "en": "Pass the test."},
    hours=45,
)


def _issued() -> tuple[dict[str, Any], dict[str, Any]]:
    """(the base copy, the institution's DID document)."""
    ed25519 = signing_key(os.urandom(32), DID, 1)
    key = p256_key(os.urandom(32), DID, 1)
    credential = build_credential(
        ACHIEVEMENT,
        Recipient(email="apprenant@example.org", name="Camille Roy"),
        IssuerProfile(id=DID, name={"fr": "Collège Boréal", "en": "Boreal College"}),
        "ob3-v2",
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=datetime(2025, 9, 1, 12, 0, tzinfo=UTC),
        language="fr",
        status=[status_entry("ob3-v2", "revocation", "https://registry.example/sl/1", 9)],
        results=[Result(result_description=f"{ACHIEVEMENT.id}#assessment-1", value="92 %")],
        evidence=[Evidence(id="https://portfolio.example.org/tig", name="Pièce soudée")],
    )
    base = base_proof_copy({**credential, "proof": [{"type": "ignored"}]}, key)
    document = institution_did_document(
        DID,
        [
            PublishedKey("key-1", ed25519.public_key_multibase),
            PublishedKey("p256-1", key.public_key_multibase),
        ],
    )
    return base, document


def _js(op: str, credential: dict[str, Any], document: dict[str, Any], **more: Any) -> Any:
    payload = {
        "op": op,
        "credential": credential,
        "didDocuments": [document],
        "statusUnchecked": True,  # the list URL is not served here: the proof is under test
        **more,
    }
    return run_script("ecdsa-sd.mjs", payload)


async def test_the_learners_disclosure_verifies_there(digital_bazaar: DigitalBazaar) -> None:
    base, document = _issued()
    disclosed = disclose(base, ["result"])
    assert "result" not in disclosed["credentialSubject"]
    assert disclosed["evidence"]
    assert disclosed["credentialStatus"] == base["credentialStatus"]
    out = _js("verify", disclosed, document)
    assert out["verified"], out["errors"]
    tampered = copy.deepcopy(disclosed)
    tampered["credentialSubject"]["achievement"]["name"] = "Doctorat"
    assert not _js("verify", tampered, document)["verified"]
    ours = await verify_proof(disclosed, CompositeResolver({"web": StaticResolver([document])}))
    assert ours.verified, ours.reason


async def test_their_disclosure_of_our_base_verifies_here(digital_bazaar: DigitalBazaar) -> None:
    base, document = _issued()
    content = {k: v for k, v in base.items() if k != "proof"}
    pointers = pointers_except(content, ["/credentialSubject/result", "/evidence"])
    derived = _js("derive", base, document, selectivePointers=pointers)["derived"]
    assert "evidence" not in derived
    resolver = CompositeResolver({"web": StaticResolver([document])})
    outcome = await verify_proof(derived, resolver)
    assert outcome.verified, outcome.reason
    assert outcome.verification_method == f"{DID}#p256-1"


def test_the_status_entry_cannot_be_withheld() -> None:
    base, _ = _issued()
    content = {k: v for k, v in base.items() if k != "proof"}
    without_status = derive(base, pointers_except(content, ["/credentialStatus"]))
    # Mandatory: it comes back whatever the holder selects.
    assert without_status["credentialStatus"] == base["credentialStatus"]
    with pytest.raises(ProofError):
        derive({**base, "proof": []}, [])
