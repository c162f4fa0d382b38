"""Learner page rules: tokens, share keys, consent views and derived credentials."""

from __future__ import annotations

import base64
import json
import os
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import Profile, sign_credential, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import Evidence, Result, validate_for_signing
from sceau_credentials.ob3.authoring import IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.status import status_entry
from sceau_dev.testing.credentials import achievement
from sceau_issuer.learners.derived import derive, hidden_fields, original_id_of, unsigned_content
from sceau_issuer.learners.linkedin import add_to_profile_url
from sceau_issuer.learners.privacy import is_private, redact_path
from sceau_issuer.learners.service import consent_view
from sceau_issuer.learners.texts import TEXTS, language_of
from sceau_issuer.learners.tokens import new_share_id, plausible_share_token, share_key
from sceau_issuer.vault import Vault


@pytest.fixture
def vault() -> Vault:
    return Vault(os.urandom(32))


def test_learner_token_round_trip_purpose_tamper_and_expiry(vault: Vault) -> None:
    token = vault.learner_token(credential_id="c-1", institution_id="i-1", ttl_s=60)
    assert vault.read_learner_token(token) == ("i-1", "c-1")
    assert vault.read_learner_token(token, now=time.time() + 61) is None
    assert vault.read_learner_token(token[:-2] + "AA") is None
    assert Vault(os.urandom(32)).read_learner_token(token) is None
    # A claim token never opens a learner page, and the other way round.
    claim = vault.claim_token(credential_id="c-1", institution_id="i-1", ttl_s=60)
    assert vault.read_learner_token(claim) is None
    assert vault.read_claim_token(token) is None
    assert vault.read_learner_token("x" * 600) is None
    assert vault.read_learner_token("no-dot") is None


def test_share_tokens_are_derived_random_looking_and_stored_hashed(vault: Vault) -> None:
    first, second = new_share_id(), new_share_id()
    assert first != second
    token = vault.share_token(first)
    assert token == vault.share_token(first)
    assert token != vault.share_token(second)
    assert len(base64.urlsafe_b64decode(token + "=")) == 32
    assert Vault(os.urandom(32)).share_token(first) != token
    assert plausible_share_token(token)
    assert not plausible_share_token("short")
    assert not plausible_share_token(token + "/../x")
    assert share_key(token) != token
    assert len(share_key(token)) == 64


def test_contact_keys_are_keyed(vault: Vault) -> None:
    assert vault.contact_key("a@example.org") == vault.contact_key("a@example.org")
    assert vault.contact_key("a@example.org") != Vault(os.urandom(32)).contact_key("a@example.org")


def test_consent_is_pending_until_answered() -> None:
    assert consent_view(None) == {"state": "pending", "at": None}
    at = datetime.now(UTC)
    assert consent_view({"state": "accepted", "at": at, "_id": "x"}) == {
        "state": "accepted",
        "at": at,
    }


def test_hidden_fields_order() -> None:
    assert hidden_fields(hide_result=False, hide_evidence=False) == []
    assert hidden_fields(hide_result=True, hide_evidence=True) == ["result", "evidence"]
    assert hidden_fields(hide_result=False, hide_evidence=True) == ["evidence"]


async def _issued(profile: str, key: SigningKey) -> dict[str, Any] | str:
    now = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    credential = build_credential(
        achievement(),
        Recipient(email="lea@example.org", name="Léa"),
        IssuerProfile(id=key.controller, name={"fr": "Collège", "en": "College"}),
        profile,
        credential_id=f"urn:uuid:{uuid.uuid4()}",
        issued_at=now,
        valid_until=now + timedelta(days=700),
        language="fr",
        status=[status_entry(profile, "revocation", "https://registry.example/v1/s/1", 42)],
        results=[Result(result_description=f"{achievement().id}#assessment-1", value="A+")],
        evidence=[Evidence(id="https://portfolio.example.org/capstone", name="Capstone")],
    )
    return await sign_credential(credential, key, Profile(profile))


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1", "jwt"])
async def test_derived_credential_withholds_and_verifies(profile: str) -> None:
    key = SigningKey.generate()
    original = await _issued(profile, key)
    content = unsigned_content(original)
    assert content["credentialSubject"]["result"]
    new_id = f"urn:uuid:{uuid.uuid4()}"
    derived = derive(
        original, hidden=["result", "evidence"], new_id=new_id, issuer_did=key.controller
    )
    assert derived["id"] == new_id
    assert "result" not in derived["credentialSubject"]
    assert "evidence" not in derived
    assert "A+" not in json.dumps(derived)
    assert derived["credentialStatus"] == content["credentialStatus"]
    for field in ("validFrom", "validUntil", "issuanceDate", "expirationDate"):
        assert derived.get(field) == content.get(field)
    assert original_id_of(derived) == content["id"]
    validate_for_signing(derived)  # one status entry, inherited: schema-valid with no relaxation
    signed = await sign_credential(derived, key, Profile(profile))
    result = await verify_proof(signed, DidKeyResolver())
    assert result.verified, result.reason
    # The original is untouched.
    assert unsigned_content(original)["credentialSubject"]["result"]


async def test_derive_keeps_what_is_not_hidden() -> None:
    key = SigningKey.generate()
    original = await _issued("ob3-v2", key)
    derived = derive(original, hidden=["result"], new_id="urn:uuid:x", issuer_did=key.controller)
    assert derived["evidence"]
    assert "proof" not in derived


def test_linkedin_url_carries_the_certification() -> None:
    url = add_to_profile_url(
        name="Enseigner avec l'IA",
        organization="Collège Boréal",
        issued_at=datetime(2026, 3, 1, tzinfo=UTC),
        cert_url="https://verify.example/s/abc",
        cert_id="urn:uuid:1",
    )
    assert url.startswith("https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME")
    assert "issueYear=2026" in url
    assert "issueMonth=3" in url
    assert "certUrl=https%3A%2F%2Fverify.example%2Fs%2Fabc" in url


def test_private_paths_and_redaction() -> None:
    assert is_private("/learn/abc")
    assert is_private("/learn")
    assert is_private("/v1/shares/abc")
    assert not is_private("/v1/credentials")
    assert redact_path("/learn/tok.en/shares/s1/qr.png?x=1") == "/learn/[token]/shares/s1/qr.png"
    assert redact_path("/learn/tok?lang=fr") == "/learn/[token]"
    assert redact_path("/v1/shares/tok") == "/v1/shares/[token]"
    # Issue 18: a claim link's token is a bearer secret too (it was logged as is).
    assert is_private("/v1/claim/x")
    assert redact_path("/v1/claim/x") == "/v1/claim/[token]"


def test_both_languages_have_every_word() -> None:
    assert set(TEXTS["fr"]) == set(TEXTS["en"])
    assert language_of("en", "fr") == "en"
    assert language_of(None, "en") == "en"
    assert language_of("de", "xx") == "fr"
