"""Interoperability with the Digital Bazaar stack that the Learner Credential Wallet and
VerifierPlus use (@digitalbazaar/vc, eddsa-rdfc-2022-cryptosuite, ed25519-signature-2020,
@digitalcredentials/security-document-loader), in both directions, for ``ob3-v2`` and ``ob3-v1``.

Every credential is an Open Badges 3.0 credential built by our builder and issued by a did:key
(the JavaScript side resolves did:key offline with its own driver; no network is used).
"""

from __future__ import annotations

import copy
import json
import secrets
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from interop_js import DigitalBazaar

from sceau_credentials.dids import (
    CompositeResolver,
    DidKeyResolver,
    KeyState,
    PublishedKey,
    StaticResolver,
    did_key_document,
    institution_did_document,
    verification_method_ids,
)
from sceau_credentials.dids.did_key import PublicKeyFormat
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import AchievementVersion, IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.results import CheckName, CheckStatus, VerificationResult
from sceau_credentials.verification import verify

pytestmark = pytest.mark.interop

SUITES = {"ob3-v2": "eddsa-rdfc-2022", "ob3-v1": "Ed25519Signature2020"}


def unsigned(issuer: str, profile: str) -> dict[str, Any]:
    achievement = AchievementVersion(
        id="https://badges.example.edu/achievements/soudage-201",
        version="2",
        default_language="fr",
        name={"fr": "Soudage avancé", "en": "Advanced welding"},
        description={"fr": "Techniques de soudage TIG.", "en": "TIG welding techniques."},
        criteria={"fr": "Réussir l'épreuve pratique.", "en": "Pass the practical test."},
        hours=45,
        credits=3,
    )
    return build_credential(
        achievement,
        Recipient(email="apprenant@example.edu", name="Camille Roy"),
        IssuerProfile(
            id=issuer,
            name={"fr": "Cégep Exemple", "en": "Example College"},
            url="https://cegep.example.edu",
        ),
        profile,
        credential_id=f"urn:uuid:{secrets.token_hex(4)}-0000-4000-8000-{secrets.token_hex(6)}",
        issued_at=datetime(2025, 3, 1, 12, 0, tzinfo=UTC),
    )


def tamper(credential: dict[str, Any]) -> dict[str, Any]:
    changed = copy.deepcopy(credential)
    changed["credentialSubject"]["achievement"]["name"] = "Soudage expert"
    return changed


async def our_verify(credential: dict[str, Any]) -> VerificationResult:
    resolver = CompositeResolver({"key": DidKeyResolver()})
    return await verify(credential, resolver=resolver)


@pytest.mark.parametrize("profile", SUITES)
async def test_what_we_sign_verifies_there(digital_bazaar: DigitalBazaar, profile: str) -> None:
    key = SigningKey.generate()
    signed = await sign_credential(unsigned(key.controller, profile), key, Profile(profile))
    assert isinstance(signed, dict)
    result = digital_bazaar.verify(signed)
    assert result.verified, result.errors
    tampered = digital_bazaar.verify(tamper(signed))
    assert not tampered.verified
    assert any("Invalid signature" in error for error in tampered.errors), tampered.errors


@pytest.mark.parametrize("profile", SUITES)
async def test_what_they_sign_verifies_here(digital_bazaar: DigitalBazaar, profile: str) -> None:
    seed = secrets.token_bytes(32)
    key = SigningKey.from_seed(seed)
    theirs = digital_bazaar.sign(unsigned(key.controller, profile), SUITES[profile], seed)
    # Their libraries derive the same did:key and verification method from the seed.
    assert theirs.did == key.controller
    assert theirs.verification_method == key.verification_method
    proof = theirs.credential["proof"]
    proof = proof[0] if isinstance(proof, list) else proof
    if profile == "ob3-v2":
        assert (proof["type"], proof["cryptosuite"]) == ("DataIntegrityProof", "eddsa-rdfc-2022")
    else:
        assert proof["type"] == "Ed25519Signature2020"

    result = await our_verify(theirs.credential)
    assert result.verified, [c.reason_en for c in result.checks]
    assert (await verify_proof(theirs.credential, DidKeyResolver())).verified

    tampered = await our_verify(tamper(theirs.credential))
    assert not tampered.verified
    proof_check = tampered.check(CheckName.PROOF)
    assert proof_check is not None
    assert proof_check.status is CheckStatus.FAILED


async def test_they_refuse_a_credential_signed_by_someone_else(
    digital_bazaar: DigitalBazaar,
) -> None:
    # Our key signs a credential that names another issuer: only our own engine's refusal to sign
    # stops this, so sign the bytes with the right key but then swap the issuer.
    key, impostor = SigningKey.generate(), SigningKey.generate()
    signed = await sign_credential(unsigned(key.controller, "ob3-v2"), key, Profile.OB3_V2)
    assert isinstance(signed, dict)
    forged = copy.deepcopy(signed)
    forged["issuer"]["id"] = impostor.controller
    assert not digital_bazaar.verify(forged).verified
    assert not (await our_verify(forged)).verified


@pytest.mark.parametrize("public_key_format", ["Multikey", "Ed25519VerificationKey2020"])
def test_did_key_documents_match_theirs(
    digital_bazaar: DigitalBazaar, public_key_format: PublicKeyFormat
) -> None:
    did = SigningKey.generate().controller
    theirs = digital_bazaar.did_key_document(did, public_key_format)
    # Their Ed25519VerificationKey2020 form always derives the X25519 key-agreement key.
    derive = public_key_format == "Ed25519VerificationKey2020"
    assert did_key_document(did, public_key_format, derive_key_agreement=derive) == theirs


async def test_our_did_web_documents_work_there_across_key_rotation(
    digital_bazaar: DigitalBazaar,
) -> None:
    did = "did:web:badges.example.edu:issuers:cegep"
    old = SigningKey.generate(did, "key-2024")
    current = SigningKey.generate(did, "key-2025")
    revoked = SigningKey.generate(did, "key-2023")
    published = [
        PublishedKey("key-2025", current.public_key_multibase, KeyState.ACTIVE),
        PublishedKey("key-2024", old.public_key_multibase, KeyState.ROTATED),
        PublishedKey("key-2023", revoked.public_key_multibase, KeyState.REVOKED),
    ]
    document = institution_did_document(did, published)
    multikey_2024, ed2020_2024 = verification_method_ids(did, "key-2024")

    cases = [
        (current, "ob3-v2", True),  # Multikey method, eddsa-rdfc-2022
        (SigningKey(old.ed25519, did, multikey_2024), "ob3-v2", True),  # rotated, still verifies
        (SigningKey(old.ed25519, did, ed2020_2024), "ob3-v1", True),  # Ed25519VerificationKey2020
        (current, "ob3-v1", True),  # Ed25519Signature2020 with a Multikey method
        (revoked, "ob3-v2", False),  # revoked: no longer published
    ]
    for key, profile, expected in cases:
        signed = await sign_credential(unsigned(did, profile), key, Profile(profile))
        assert isinstance(signed, dict)
        theirs = digital_bazaar.verify(signed, [document])
        assert theirs.verified is expected, (key.verification_method, profile, theirs.errors)
        ours = await verify(signed, resolver=StaticResolver([document]))
        assert ours.verified is expected, (key.verification_method, profile)


def test_the_cli_ob3_v1_output_verifies_there(
    digital_bazaar: DigitalBazaar, tmp_path: Path
) -> None:
    # The issue: `sceau credential sign --profile ob3-v1` output did not verify in this stack.
    sceau = Path(sys.executable).with_name("sceau")
    key_file = tmp_path / "key.json"
    subprocess.run([sceau, "did", "create", "--out", key_file], check=True, capture_output=True)
    source = tmp_path / "unsigned.json"
    did = json.loads(key_file.read_text())["controller"]
    source.write_text(json.dumps(unsigned(did, "ob3-v1")))
    signed = subprocess.run(
        [sceau, "credential", "sign", "--key", key_file, "--profile", "ob3-v1", source],
        check=True,
        capture_output=True,
        text=True,
    )
    result = digital_bazaar.verify(json.loads(signed.stdout))
    assert result.verified, result.errors
