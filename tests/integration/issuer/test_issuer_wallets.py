"""OpenID4VCI delivery on the real issuer (Kafka + FerretDB): the whole pre-authorized flow.

A learner makes an offer on their page; a wallet (here: plain HTTP calls written from the
specification) reads the metadata, trades the code, gets a nonce, proves its key and receives
the credential bound to its DID. Then every refusal the issue lists: reused and expired offers,
wrong transaction codes, wrong nonces, proofs by another key, another institution's token.
"""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest
from issuer_support import IssuerHarness
from learner_support import issued_with_page
from wallet_support import ask, holder_proof, local, make_offer, nonce, redeem, request_for

from sceau_credentials.dids import CompositeResolver, StaticResolver
from sceau_credentials.dids.did_key import DidKeyResolver
from sceau_credentials.dids.documents import PublishedKey, institution_did_document
from sceau_credentials.engine import verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.proofs.jwt import decode_jwt
from sceau_issuer.wallets.schemas import PRE_AUTHORIZED_GRANT
from sceau_shared.events import DidMethod, utcnow

pytestmark = pytest.mark.integration


async def test_a_wallet_takes_the_credential_bound_to_its_did(harness: IssuerHarness) -> None:
    institution, detail, path = await issued_with_page(harness, "wallet@example.org")
    page = (await harness.http.get(path)).text
    assert "wallet-offer" in page
    _, offer_uri, tx_code = await make_offer(harness, path, tx=True)
    assert tx_code is not None

    issuer = f"http://issuer.test/oid4vci/{institution}"
    meta = await harness.http.get(f"/.well-known/openid-credential-issuer/oid4vci/{institution}")
    assert meta.status_code == 200
    assert meta.json()["credential_issuer"] == issuer
    legacy = await harness.http.get(f"/oid4vci/{institution}/.well-known/openid-credential-issuer")
    assert legacy.json() == meta.json()
    server = await harness.http.get(
        f"/.well-known/oauth-authorization-server/oid4vci/{institution}"
    )
    assert server.json()["token_endpoint"] == f"{issuer}/token"
    unknown = await harness.http.get("/.well-known/openid-credential-issuer/oid4vci/nobody")
    assert unknown.status_code == 404

    offer, form, token = await redeem(harness, offer_uri, tx_code)
    assert offer["credential_issuer"] == issuer
    assert offer["credential_configuration_ids"] == ["OpenBadgeCredential_ldp_vc"]
    assert token.status_code == 200, token.text
    assert token.headers["cache-control"] == "no-store"
    access_token = token.json()["access_token"]

    holder = SigningKey.generate()
    jwt = holder_proof(holder, issuer, await nonce(harness, issuer))
    delivered = await ask(harness, issuer, access_token, request_for(offer, jwt))
    assert delivered.status_code == 200, delivered.text
    [entry] = delivered.json()["credentials"]
    credential = entry["credential"]
    original = detail["document"]
    assert credential["credentialSubject"]["id"] == holder.controller
    assert "id" not in original["credentialSubject"]
    # The same credential (id, status entries, validity), now bound to the holder.
    assert credential["id"] == original["id"]
    assert credential["credentialStatus"] == original["credentialStatus"]
    assert credential["validFrom"] == original["validFrom"]
    assert (
        credential["credentialSubject"]["achievement"]
        == (original["credentialSubject"]["achievement"])
    )
    checked = await verify_proof(credential, DidKeyResolver())
    assert checked.verified, checked.reason

    # Taking the offer accepted the credential (the institution sees it).
    stored = await harness.db["learner_consents"].find_one({"_id": detail["credential_id"]})
    assert stored is not None
    assert stored["state"] == "accepted"

    # At most once: the same token, the same code and the offer URI all refuse now.
    jwt = holder_proof(holder, issuer, await nonce(harness, issuer))
    again = await ask(harness, issuer, access_token, request_for(offer, jwt))
    assert again.status_code == 400
    assert again.json()["error"] == "credential_request_denied"
    reused = await harness.http.post(local(f"{issuer}/token"), data=form)
    assert reused.status_code == 400
    assert reused.json()["error"] == "invalid_grant"
    gone = await harness.http.get(local(offer_uri))
    assert gone.status_code == 404
    assert gone.headers["content-type"].startswith("application/problem+json")


async def test_refusals_leave_nothing_issued(harness: IssuerHarness) -> None:
    institution, detail, path = await issued_with_page(harness, "refused@example.org")
    other_institution, _, other_path = await issued_with_page(harness, "other@example.org")
    issuer = f"http://issuer.test/oid4vci/{institution}"
    other_issuer = f"http://issuer.test/oid4vci/{other_institution}"

    # Wrong transaction code, then the right one.
    _, offer_uri, tx_code = await make_offer(harness, path, tx=True)
    assert tx_code is not None
    offer, form, _ = await redeem(harness, offer_uri, "000000" if tx_code != "000000" else "1")
    wrong = await harness.http.post(local(f"{issuer}/token"), data=form)
    assert wrong.status_code == 400
    assert wrong.json()["error"] == "invalid_grant"
    form["tx_code"] = tx_code
    # The code is tenant-scoped: another institution's token endpoint does not know it.
    elsewhere = await harness.http.post(local(f"{other_issuer}/token"), data=form)
    assert elsewhere.json()["error"] == "invalid_grant"
    token = await harness.http.post(local(f"{issuer}/token"), data=form)
    assert token.status_code == 200, token.text
    access_token = token.json()["access_token"]
    holder, stranger = SigningKey.generate(), SigningKey.generate()

    # Another institution's endpoint does not accept this token.
    jwt = holder_proof(holder, other_issuer, await nonce(harness, other_issuer))
    crossed = await ask(harness, other_issuer, access_token, request_for(offer, jwt))
    assert crossed.status_code == 401
    assert crossed.json()["error"] == "invalid_token"
    assert crossed.headers["www-authenticate"].startswith("Bearer")
    # A nonce the other institution made, a made-up nonce, a proof by another key.
    jwt = holder_proof(holder, issuer, await nonce(harness, other_issuer))
    foreign = await ask(harness, issuer, access_token, request_for(offer, jwt))
    assert foreign.json()["error"] == "invalid_nonce"
    made_up = await ask(
        harness, issuer, access_token, request_for(offer, holder_proof(holder, issuer, "abc"))
    )
    assert made_up.json()["error"] == "invalid_nonce"
    forged = holder_proof(holder, issuer, await nonce(harness, issuer), signer=stranger)
    refused = await ask(harness, issuer, access_token, request_for(offer, forged))
    assert refused.json()["error"] == "invalid_proof"
    wrong_aud = holder_proof(holder, other_issuer, await nonce(harness, issuer))
    assert (await ask(harness, issuer, access_token, request_for(offer, wrong_aud))).json()[
        "error"
    ] == "invalid_proof"
    no_proof = await ask(
        harness, issuer, access_token, {"credential_configuration_id": "OpenBadgeCredential_ldp_vc"}
    )
    assert no_proof.json()["error"] == "invalid_proof"
    other_config = await ask(
        harness,
        issuer,
        access_token,
        {
            "credential_configuration_id": "OpenBadgeCredential_jwt_vc_json",
            "proofs": {"jwt": [holder_proof(holder, issuer, await nonce(harness, issuer))]},
        },
    )
    assert other_config.json()["error"] == "unknown_credential_configuration"
    no_token = await harness.http.post(local(f"{issuer}/credential"), json={})
    assert no_token.status_code == 401
    # Nothing was delivered: the right proof still works once.
    good = holder_proof(holder, issuer, await nonce(harness, issuer))
    delivered = await ask(harness, issuer, access_token, request_for(offer, good))
    assert delivered.status_code == 200, delivered.text
    # A replayed proof: its nonce is spent.
    replayed = await ask(harness, issuer, access_token, request_for(offer, good))
    assert replayed.json()["error"] == "invalid_nonce"
    assert (
        await harness.db["wallet_deliveries"].count_documents(
            {"credential_id": detail["credential_id"]}
        )
        == 1
    )

    # An expired offer: its URI, and its code, are refused.
    _, offer_uri, _ = await make_offer(harness, other_path, tx=False)
    offer, form, _ = await redeem(harness, offer_uri, None)
    await harness.db["wallet_offers"].update_many(
        {"institution_id": other_institution}, {"$set": {"expires_at": utcnow() - timedelta(1)}}
    )
    assert (await harness.http.get(local(offer_uri))).status_code == 404
    # (redeem() above already traded it; a fresh expired offer shows the token refusal.)
    _, offer_uri, _ = await make_offer(harness, other_path, tx=False)
    offer = (await harness.http.get(local(offer_uri))).json()
    await harness.db["wallet_offers"].update_many(
        {"institution_id": other_institution}, {"$set": {"expires_at": utcnow() - timedelta(1)}}
    )
    code = offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    expired = await harness.http.post(
        local(f"{other_issuer}/token"),
        data={"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code},
    )
    assert expired.status_code == 400
    assert expired.json() == {
        "error": "invalid_grant",
        "error_description": "the pre-authorized code has expired",
    }


async def test_a_vc_jwt_is_delivered_as_jwt_vc_json(harness: IssuerHarness) -> None:
    institution, _, path = await issued_with_page(harness, "jwt@example.org", profile="jwt")
    issuer = f"http://issuer.test/oid4vci/{institution}"
    _, offer_uri, _ = await make_offer(harness, path, tx=False)
    offer, _, token = await redeem(harness, offer_uri, None)
    assert offer["credential_configuration_ids"] == ["OpenBadgeCredential_jwt_vc_json"]
    holder = SigningKey.generate()
    jwt = holder_proof(holder, issuer, await nonce(harness, issuer))
    delivered = await ask(harness, issuer, token.json()["access_token"], request_for(offer, jwt))
    assert delivered.status_code == 200, delivered.text
    compact = delivered.json()["credentials"][0]["credential"]
    assert isinstance(compact, str)
    payload = json.loads(base64.urlsafe_b64decode(compact.split(".")[1] + "=="))
    # VC-JOSE-COSE: the payload is the VCDM 2.0 credential itself, bound to the wallet's DID.
    assert "vc" not in payload
    assert payload["credentialSubject"]["id"] == holder.controller
    assert decode_jwt(compact).header["typ"] == "vc+jwt"
    checked = await verify_proof(compact, DidKeyResolver())
    assert checked.verified, checked.reason


async def test_declined_or_revoked_credentials_are_not_delivered(harness: IssuerHarness) -> None:
    institution, detail, path = await issued_with_page(harness, "declined@example.org")
    await harness.http.post(f"{path}/decline")
    page = (await harness.http.get(f"{path}?lang=en")).text
    assert "You declined this credential: accept it to add it to a wallet." in page
    assert "wallet-offer" not in page
    refused = await harness.http.post(f"{path}/wallet-offer")
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")

    # An offer taken after the credential was revoked delivers nothing.
    await harness.http.post(f"{path}/accept")
    _, offer_uri, _ = await make_offer(harness, path, tx=False)
    offer, _, token = await redeem(harness, offer_uri, None)
    headers = await harness.api_key(institution)
    revoked = await harness.http.post(
        f"/v1/credentials/{detail['credential_id']}/revoke",
        json={"reason_code": "issued-in-error"},
        headers=headers,
    )
    assert revoked.status_code == 200, revoked.text
    issuer = f"http://issuer.test/oid4vci/{institution}"
    jwt = holder_proof(SigningKey.generate(), issuer, await nonce(harness, issuer))
    denied = await ask(harness, issuer, token.json()["access_token"], request_for(offer, jwt))
    assert denied.status_code == 400
    assert denied.json()["error"] == "credential_request_denied"
    assert await harness.db["wallet_deliveries"].count_documents({}) == 0


async def test_five_wrong_codes_burn_the_offer(harness: IssuerHarness) -> None:
    """Wrong codes are numbered slots under the offer's key (insert-only, found by key)."""
    institution, _, path = await issued_with_page(harness, "burnt@example.org")
    _, offer_uri, tx_code = await make_offer(harness, path, tx=True)
    wrong = "000000" if tx_code != "000000" else "111111"
    _, form, _ = await redeem(harness, offer_uri, wrong)
    token_path = f"/oid4vci/{institution}/token"
    for _ in range(4):  # the redeem above was the first wrong code
        answer = await harness.http.post(token_path, data=form)
        assert answer.json()["error_description"] == "the transaction code is wrong"
    form["tx_code"] = tx_code or ""
    burnt = await harness.http.post(token_path, data=form)
    assert burnt.json()["error"] == "invalid_grant"
    assert "too many" in burnt.json()["error_description"]


@pytest.mark.parametrize("algorithm", ["ES256", "EdDSA"])
async def test_a_did_web_institutions_wallet_copy_follows_its_jwt_algorithm(
    harness: IssuerHarness, algorithm: str
) -> None:
    """ES256 with the P-256 key by default; EdDSA when the institution chose it."""
    institution = await harness.tenant(method=DidMethod.HOSTED_WEB)
    if algorithm == "EdDSA":
        chosen = await harness.http.put(
            "/v1/institution/settings",
            json={"suspension": False, "jwt_algorithm": "EdDSA"},
            headers=await harness.api_key(institution),
        )
        assert chosen.status_code == 200, chosen.text
    _, detail, path = await issued_with_page(
        harness, f"{algorithm}@example.org", profile="jwt", institution=institution
    )
    issuer = f"http://issuer.test/oid4vci/{institution}"
    _, offer_uri, _ = await make_offer(harness, path, tx=False)
    offer, _, token = await redeem(harness, offer_uri, None)
    holder = SigningKey.generate()
    jwt = holder_proof(holder, issuer, await nonce(harness, issuer))
    delivered = await ask(harness, issuer, token.json()["access_token"], request_for(offer, jwt))
    assert delivered.status_code == 200, delivered.text
    compact = delivered.json()["credentials"][0]["credential"]
    tenant = await harness.svc.tenants.get(institution)
    fragment = "p256-1" if algorithm == "ES256" else "key-1"
    for token_ in (detail["document"], compact):
        assert decode_jwt(token_).header == {
            "alg": algorithm,
            "kid": f"{tenant.did}#{fragment}",
            "typ": "vc+jwt",
            "cty": "vc",
        }
    document = institution_did_document(
        tenant.did,
        [
            PublishedKey(k.verification_method.partition("#")[2], k.public_key_multibase)
            for k in tenant.keys
        ],
    )
    checked = await verify_proof(compact, CompositeResolver({"web": StaticResolver([document])}))
    assert checked.verified, checked.reason
