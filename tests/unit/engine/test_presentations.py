"""Verifiable presentations: holder proof with challenge/domain, and each embedded credential."""

from __future__ import annotations

import copy
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

from sceau_credentials.engine import Profile, shared_canonicalizer, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.presentations import sign_presentation, verify_presentation
from sceau_credentials.proofs.data_integrity import add_proof
from sceau_credentials.proofs.errors import (
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    PARSING_ERROR,
    PROOF_VERIFICATION_ERROR,
)

CHALLENGE = "5e3c1f0a-9d1b-4a77-8c0e-2f6b9d3a1c44"
DOMAIN = "verify.sceau.example"


async def presentation(holder: SigningKey, *credentials: Any) -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.controller,
        "verifiableCredential": list(credentials),
    }


async def signed_setup() -> tuple[dict[str, Any], Any]:
    issuer = did_web_signer()
    holder = did_key_signer(11)
    credential = await sign_credential(
        ob3_v2_credential(issuer.controller), issuer, Profile.OB3_V2, created=CREATED
    )
    unsigned = await presentation(holder, credential)
    signed = sign_presentation(
        unsigned, holder, challenge=CHALLENGE, domain=DOMAIN, created=CREATED
    )
    return signed, resolver_for(issuer)


async def test_presentation_with_expected_challenge_and_domain_verifies() -> None:
    signed, resolver = await signed_setup()
    assert signed["proof"]["proofPurpose"] == "authentication"
    result = await verify_presentation(signed, resolver, challenge=CHALLENGE, domain=DOMAIN)
    assert result.verified, result.reason
    assert result.holder == signed["holder"]
    assert len(result.credentials) == 1
    assert result.credentials[0].verified


async def test_wrong_challenge_is_invalid_challenge_error() -> None:
    signed, resolver = await signed_setup()
    result = await verify_presentation(signed, resolver, challenge="another-nonce", domain=DOMAIN)
    assert not result.verified
    assert result.problem_type == INVALID_CHALLENGE_ERROR


async def test_wrong_domain_is_invalid_domain_error() -> None:
    signed, resolver = await signed_setup()
    result = await verify_presentation(signed, resolver, challenge=CHALLENGE, domain="evil.example")
    assert not result.verified
    assert result.problem_type == INVALID_DOMAIN_ERROR


async def test_missing_challenge_when_one_is_expected_fails() -> None:
    issuer, holder = did_web_signer(), did_key_signer(12)
    credential = await sign_credential(
        ob3_v2_credential(issuer.controller), issuer, created=CREATED
    )
    signed = sign_presentation(await presentation(holder, credential), holder, challenge=CHALLENGE)
    del signed["proof"]["challenge"]
    result = await verify_presentation(signed, resolver_for(issuer), challenge=CHALLENGE)
    assert result.problem_type == INVALID_CHALLENGE_ERROR


async def test_tampered_embedded_credential_fails_the_presentation() -> None:
    issuer, holder = did_web_signer(), did_key_signer(13)
    credential = await sign_credential(
        ob3_v2_credential(issuer.controller), issuer, created=CREATED
    )
    assert isinstance(credential, dict)
    forged = copy.deepcopy(credential)
    forged["credentialSubject"]["achievement"]["name"] = "Doctorate"
    # the holder signs the presentation over the forged credential: the holder proof is fine,
    # the credential's own proof is not
    signed = sign_presentation(await presentation(holder, forged), holder, challenge=CHALLENGE)
    result = await verify_presentation(signed, resolver_for(issuer), challenge=CHALLENGE)
    assert not result.verified
    assert result.problem_type == PROOF_VERIFICATION_ERROR
    assert "credential" in result.reason
    assert not result.credentials[0].verified


async def test_changing_the_presentation_after_signing_fails() -> None:
    signed, resolver = await signed_setup()
    signed["verifiableCredential"] = []
    result = await verify_presentation(signed, resolver, challenge=CHALLENGE, domain=DOMAIN)
    assert not result.verified
    assert result.problem_type == PROOF_VERIFICATION_ERROR


async def test_presentation_signed_by_someone_else_than_the_holder_fails() -> None:
    signed, resolver = await signed_setup()
    intruder = did_key_signer(14)
    unsigned = {k: v for k, v in signed.items() if k != "proof"}
    unsigned["holder"] = intruder.controller
    resigned = sign_presentation(unsigned, intruder, challenge=CHALLENGE, domain=DOMAIN)
    resigned["holder"] = signed["holder"]
    result = await verify_presentation(resigned, resolver, challenge=CHALLENGE, domain=DOMAIN)
    assert not result.verified


async def test_assertion_proof_is_not_accepted_for_a_presentation() -> None:
    holder = did_key_signer(15)
    signed = add_proof(
        await presentation(holder), holder, shared_canonicalizer(), challenge=CHALLENGE
    )
    assert signed["proof"]["proofPurpose"] == "assertionMethod"
    result = await verify_presentation(signed, resolver_for(), challenge=None)
    assert not result.verified
    assert "proofPurpose" in result.reason


async def test_presentation_with_a_vc_jwt_and_an_ob3_v1_credential() -> None:
    holder, issuer = did_key_signer(16), did_key_signer(17)
    jwt = await sign_credential(ob3_v1_credential(issuer.controller), issuer, Profile.JWT)
    legacy = await sign_credential(
        ob3_v1_credential(issuer.controller), issuer, Profile.OB3_V1, created=CREATED
    )
    assert isinstance(jwt, str)
    enveloped = {
        "@context": "https://www.w3.org/ns/credentials/v2",
        "id": f"data:application/vc+jwt,{jwt}",
        "type": "EnvelopedVerifiableCredential",
    }
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder.controller,
        "verifiableCredential": [legacy, enveloped],
    }
    signed = sign_presentation(unsigned, holder, challenge=CHALLENGE, created=CREATED)
    result = await verify_presentation(signed, resolver_for(), challenge=CHALLENGE)
    assert result.verified, result.reason
    assert [c.verified for c in result.credentials] == [True, True]


@pytest.mark.parametrize(
    "bad",
    [None, [], "text", {"type": "VerifiableCredential"}, {"type": ["VerifiablePresentation"]}],
)
async def test_malformed_presentations_fail_without_exceptions(bad: Any) -> None:
    result = await verify_presentation(bad, resolver_for(), challenge=CHALLENGE)
    assert not result.verified
    assert result.problem_type in (PARSING_ERROR, PROOF_VERIFICATION_ERROR)
