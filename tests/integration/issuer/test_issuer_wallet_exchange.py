"""The VC-API exchange on the real issuer (Kafka + FerretDB): DIDAuth, then the bound credential.

A learner makes a wallet offer on their page; the page also shows the Learner Credential
Wallet's deep link to the offer's exchange. A wallet (here: plain HTTP and presentations signed
with Sceau's own engine; Digital Bazaar's libraries sign in test_issuer_wallet_interop.py) asks
the exchange what it needs, proves its DID and gets the credential bound to it. Then every
refusal: wrong challenge and domain, another key, a replayed presentation, an expired exchange,
another institution, a forged exchange id, an offer an OpenID4VCI wallet took first — each a
clear problem, nothing delivered.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest
from issuer_support import IssuerHarness
from learner_support import issued_with_page
from wallet_support import lcw_link, local, make_offer

from sceau_credentials.dids.did_key import DidKeyResolver
from sceau_credentials.engine import shared_canonicalizer, verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.constants import VC_V2_CONTEXT
from sceau_credentials.proofs.data_integrity import add_proof
from sceau_issuer.wallets.schemas import PRE_AUTHORIZED_GRANT
from sceau_shared.events import utcnow

pytestmark = pytest.mark.integration


def did_auth(
    key: SigningKey, challenge: str, domain: str | None, *, holder: str | None = None
) -> dict[str, Any]:
    """A DIDAuth presentation signed by ``key``; ``holder`` may name someone else's DID."""
    presentation = {
        "@context": [VC_V2_CONTEXT],
        "type": ["VerifiablePresentation"],
        "holder": holder or key.controller,
    }
    return add_proof(
        presentation,
        key,
        shared_canonicalizer(),
        proof_purpose="authentication",
        challenge=challenge,
        domain=domain,
    )


async def exchange_of(
    harness: IssuerHarness, path: str, *, tx: bool = False
) -> tuple[str, str, str]:
    """Make an offer on the page; return its exchange URL (local path), challenge, and the link."""
    await make_offer(harness, path, tx=tx)
    page = (await harness.http.get(path)).text
    link, url, challenge = lcw_link(page)
    return local(url), challenge, link


async def start(harness: IssuerHarness, url: str) -> dict[str, Any]:
    answer = await harness.http.post(url, json={})
    assert answer.status_code == 200, answer.text
    assert answer.headers["cache-control"] == "no-store"
    request: dict[str, Any] = answer.json()["verifiablePresentationRequest"]
    return request


def problem(answer: httpx.Response, status: int, words: str) -> None:
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert words in answer.json()["detail"], answer.json()


async def test_the_exchange_delivers_the_credential_bound_to_its_did(
    harness: IssuerHarness,
) -> None:
    institution, detail, path = await issued_with_page(harness, "exchange@example.org")
    url, challenge, link = await exchange_of(harness, path)
    assert link.startswith("dccrequest://request?")
    request = await start(harness, url)
    assert request["query"][0]["type"] == "DIDAuthentication"
    assert request["challenge"] == challenge  # the deep link and the request agree
    assert request["domain"] == "issuer.test"
    assert local(request["interact"]["service"][0]["serviceEndpoint"]) == url

    holder = SigningKey.generate()
    vp = did_auth(holder, request["challenge"], request["domain"])
    answer = await harness.http.post(url, json={"verifiablePresentation": vp})
    assert answer.status_code == 200, answer.text
    [credential] = answer.json()["verifiablePresentation"]["verifiableCredential"]
    original = detail["document"]
    assert credential["credentialSubject"]["id"] == holder.controller
    assert credential["id"] == original["id"]
    assert credential["credentialStatus"] == original["credentialStatus"]
    checked = await verify_proof(credential, DidKeyResolver())
    assert checked.verified, checked.reason
    consent = await harness.db["learner_consents"].find_one({"_id": detail["credential_id"]})
    assert consent is not None
    assert consent["state"] == "accepted"

    # Replayed: the same presentation (and a fresh one) finds the exchange spent.
    problem(await harness.http.post(url, json={"verifiablePresentation": vp}), 410, "already")
    # The OpenID4VCI side of the same offer is spent too (at most once, whichever protocol).
    offer_uri = f"/oid4vci/{institution}/offers/{url.rsplit('/', 1)[1].split('.')[0]}"
    assert (await harness.http.get(offer_uri)).status_code == 404
    assert "dccrequest://" not in (await harness.http.get(path)).text  # no live offer shown
    deliveries = await harness.db["wallet_deliveries"].count_documents(
        {"credential_id": detail["credential_id"]}
    )
    assert deliveries == 1


async def test_the_lcw_link_flow_posts_the_presentation_itself(harness: IssuerHarness) -> None:
    _, _, path = await issued_with_page(harness, "lcw-link@example.org", profile="ob3-v1")
    url, challenge, _ = await exchange_of(harness, path)
    holder = SigningKey.generate()
    # The link names no domain: a proof without one is accepted on the link's challenge.
    answer = await harness.http.post(url, json=did_auth(holder, challenge, None))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "VerifiablePresentation" in body["type"]  # bare, as the link flow reads it
    [credential] = body["verifiableCredential"]
    assert credential["credentialSubject"]["id"] == holder.controller
    assert credential["proof"]["type"] == "Ed25519Signature2020"


async def test_refusals_leave_nothing_delivered(harness: IssuerHarness) -> None:
    institution, detail, path = await issued_with_page(harness, "refusals@example.org")
    other, _, _ = await issued_with_page(harness, "elsewhere@example.org")
    url, challenge, _ = await exchange_of(harness, path)
    request = await start(harness, url)
    domain = request["domain"]
    holder, stranger = SigningKey.generate(), SigningKey.generate()

    def wrap(vp: dict[str, Any]) -> dict[str, Any]:
        return {"verifiablePresentation": vp}

    wrong = await harness.http.post(url, json=wrap(did_auth(holder, "not-the-challenge", domain)))
    problem(wrong, 400, "challenge")
    elsewhere = await harness.http.post(url, json=wrap(did_auth(holder, challenge, "evil.test")))
    problem(elsewhere, 400, "domain")
    no_domain = await harness.http.post(url, json=wrap(did_auth(holder, challenge, None)))
    problem(no_domain, 400, "domain")
    # Signed by one key, claiming another holder.
    forged = did_auth(stranger, challenge, domain, holder=holder.controller)
    problem(await harness.http.post(url, json=wrap(forged)), 400, "not by its holder")
    # A tampered signature.
    tampered = did_auth(holder, challenge, domain)
    tampered["proof"]["proofValue"] = tampered["proof"]["proofValue"][:-4] + "abcd"
    problem(await harness.http.post(url, json=wrap(tampered)), 400, "does not check out")
    # Not a presentation; not JSON.
    problem(await harness.http.post(url, json={"hello": 1}), 400, "verifiablePresentation")
    not_json = await harness.http.post(
        url, content=b"[1,", headers={"content-type": "application/json"}
    )
    problem(not_json, 400, "JSON object")
    # Another institution's path, a forged MAC, a made-up id.
    crossed = url.replace(f"/vcapi/{institution}/", f"/vcapi/{other}/")
    problem(await harness.http.post(crossed, json={}), 404, "unknown")
    offer_id, mac = url.rsplit("/", 1)[1].split(".")
    forged_mac = url.replace(mac, ("A" if mac[0] != "A" else "B") + mac[1:])
    problem(await harness.http.post(forged_mac, json={}), 404, "unknown")
    bare = url.replace(f"{offer_id}.{mac}", offer_id)
    problem(await harness.http.post(bare, json={}), 404, "unknown")

    assert (
        await harness.db["wallet_deliveries"].count_documents(
            {"credential_id": detail["credential_id"]}
        )
        == 0
    )
    # Nothing was spent: the right presentation still works, once.
    good = wrap(did_auth(holder, challenge, domain))
    assert (await harness.http.post(url, json=good)).status_code == 200
    problem(await harness.http.post(url, json=good), 410, "already")


async def test_expired_and_otherwise_taken_exchanges_are_gone(harness: IssuerHarness) -> None:
    _, detail, path = await issued_with_page(harness, "expired@example.org")
    url, challenge, _ = await exchange_of(harness, path)
    offer_id = url.rsplit("/", 1)[1].split(".")[0]
    await harness.db["wallet_offers"].update_one(
        {"offer_id": offer_id}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )
    holder = SigningKey.generate()
    problem(await harness.http.post(url, json={}), 410, "expired")
    expired = await harness.http.post(url, json=did_auth(holder, challenge, None))
    problem(expired, 410, "expired")

    # An OpenID4VCI wallet redeemed the offer's code first: the exchange refuses.
    _, offer_uri, _ = await make_offer(harness, path, tx=False)
    page = (await harness.http.get(path)).text
    _, second, second_challenge = lcw_link(page)
    offer = (await harness.http.get(local(offer_uri))).json()
    token = await harness.http.post(
        local(f"{offer['credential_issuer']}/token"),
        data={
            "grant_type": PRE_AUTHORIZED_GRANT,
            "pre-authorized_code": offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"],
        },
    )
    assert token.status_code == 200
    taken = await harness.http.post(local(second), json=did_auth(holder, second_challenge, None))
    problem(taken, 410, "already")
    assert (
        await harness.db["wallet_deliveries"].count_documents(
            {"credential_id": detail["credential_id"]}
        )
        == 0
    )
