"""Concurrent wallet deliveries written in groups (issue 16's benchmark work), on real FerretDB.

Sixteen wallets at once used to send a dozen single-document commands each; now the grants of
concurrent token requests and everything concurrent deliveries write (spent nonces, delivery
reservations, consents, insights marks) go out as one command per step and group
(``sceau_issuer.grouped``). What must not change: each wallet gets its own credential bound to
its own DID, each offer delivers once and each nonce is spent once even when the two racers
sit in the same group, and every acceptance is recorded and counted exactly once.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from issuer_support import IssuerHarness
from learner_support import issued_with_page
from wallet_support import ask, holder_proof, make_offer, nonce, redeem, request_for

from sceau_credentials.dids.did_key import DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.keys import SigningKey

pytestmark = pytest.mark.integration

WALLETS = 8


async def _granted(
    harness: IssuerHarness, institution: str, count: int, tag: str
) -> list[tuple[dict[str, Any], str, str]]:
    """``count`` credentials with a redeemed offer each: (offer, access token, credential id)."""
    granted = []
    for n in range(count):
        _, detail, path = await issued_with_page(
            harness, f"{tag}{n}@example.org", institution=institution
        )
        _, offer_uri, _ = await make_offer(harness, path, tx=False)
        offer, _, token = await redeem(harness, offer_uri, None)
        assert token.status_code == 200, token.text
        granted.append((offer, token.json()["access_token"], detail["credential_id"]))
    return granted


async def _accepted_total(harness: IssuerHarness, institution: str) -> int:
    cursor = harness.db["insights_counters"].find({"institution_id": institution})
    return sum(int(doc.get("totals", {}).get("accepted", 0)) for doc in await cursor.to_list(None))


async def test_concurrent_wallets_are_delivered_in_groups_each_to_its_own_did(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    issuer = f"http://issuer.test/oid4vci/{institution}"
    granted = await _granted(harness, institution, WALLETS, "group")
    holders = [SigningKey.generate() for _ in granted]
    nonces = [await nonce(harness, issuer) for _ in granted]
    groups_before = harness.svc.wallets.deliveries.groups

    answers = await asyncio.gather(
        *(
            ask(harness, issuer, token, request_for(offer, holder_proof(holder, issuer, c_nonce)))
            for (offer, token, _), holder, c_nonce in zip(granted, holders, nonces, strict=True)
        )
    )

    groups = harness.svc.wallets.deliveries.groups - groups_before
    assert groups < WALLETS, f"{WALLETS} concurrent deliveries took {groups} groups"
    for answer, holder, (_, _, credential_id) in zip(answers, holders, granted, strict=True):
        assert answer.status_code == 200, answer.text
        [entry] = answer.json()["credentials"]
        credential = entry["credential"]
        assert credential["credentialSubject"]["id"] == holder.controller
        assert credential["id"].endswith(credential_id)
        checked = await verify_proof(credential, DidKeyResolver())
        assert checked.verified, checked.reason
        consent = await harness.db["learner_consents"].find_one({"_id": credential_id})
        assert consent is not None
        assert consent["state"] == "accepted"
    assert await _accepted_total(harness, institution) == WALLETS
    deliveries = harness.db["wallet_deliveries"]
    assert await deliveries.count_documents({"institution_id": institution}) == WALLETS


async def test_one_access_token_raced_twice_delivers_once(
    harness: IssuerHarness,
) -> None:
    institution = await harness.tenant()
    issuer = f"http://issuer.test/oid4vci/{institution}"
    [(offer, token, credential_id)] = await _granted(harness, institution, 1, "race")
    holder = SigningKey.generate()

    # One access token, two proofs with fresh nonces, at once: one credential.
    first, second = await asyncio.gather(
        *(
            ask(harness, issuer, token, request_for(offer, holder_proof(holder, issuer, n)))
            for n in [await nonce(harness, issuer), await nonce(harness, issuer)]
        )
    )
    assert sorted([first.status_code, second.status_code]) == [200, 400]
    refused = first if first.status_code == 400 else second
    assert refused.json()["error"] == "credential_request_denied"
    assert (
        await harness.db["wallet_deliveries"].count_documents({"credential_id": credential_id}) == 1
    )

    assert await _accepted_total(harness, institution) == 1


async def test_a_nonce_raced_by_two_offers_is_spent_once(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    issuer = f"http://issuer.test/oid4vci/{institution}"
    granted = await _granted(harness, institution, 2, "nonce")
    shared = await nonce(harness, issuer)
    holder = SigningKey.generate()
    answers = await asyncio.gather(
        *(
            ask(harness, issuer, token, request_for(offer, holder_proof(holder, issuer, shared)))
            for offer, token, _ in granted
        )
    )
    assert sorted(a.status_code for a in answers) == [200, 400]
    [refused] = [a for a in answers if a.status_code == 400]
    assert refused.json()["error"] == "invalid_nonce"
    # The refused offer reserved nothing: it still delivers, once, with a fresh nonce.
    [(offer, token, _)] = [g for g, a in zip(granted, answers, strict=True) if a.status_code == 400]
    fresh = await ask(
        harness,
        issuer,
        token,
        request_for(offer, holder_proof(holder, issuer, await nonce(harness, issuer))),
    )
    assert fresh.status_code == 200, fresh.text
    assert (
        await harness.db["wallet_deliveries"].count_documents({"institution_id": institution}) == 2
    )
