"""Expired wallet offers, grants, failed codes and spent nonces are deleted (real FerretDB).

FerretDB has no TTL index and scans for anything but ``_id`` equality, so the sweeper deletes
what this process inserted by exact key once expired, and scans only rarely for leftovers.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from issuer_support import IssuerHarness
from learner_support import issued_with_page
from wallet_support import ask, holder_proof, make_offer, nonce, redeem, request_for

from sceau_credentials.keys import SigningKey
from sceau_issuer.wallets.repository import CURRENT, FAILURES, GRANTS, NONCES, OFFERS
from sceau_shared.events import utcnow

pytestmark = pytest.mark.integration

SWEPT = (OFFERS, GRANTS, FAILURES, NONCES, CURRENT)


async def counts(harness: IssuerHarness, keys: dict[str, list[Any]]) -> dict[str, int]:
    return {
        name: await harness.db[name].count_documents({"_id": {"$in": keys[name]}}) for name in SWEPT
    }


async def test_expired_wallet_documents_are_swept_and_deliveries_kept(
    harness: IssuerHarness,
) -> None:
    graph = harness.svc
    assert "wallet-sweeper" in [name for name, _ in graph.background()]
    institution, detail, path = await issued_with_page(harness, "sweep@example.org")
    issuer = f"http://issuer.test/oid4vci/{institution}"
    # Offer A: a wrong code, then redeemed and delivered (a nonce spent); offer B: untouched.
    _, offer_uri, tx_code = await make_offer(harness, path, tx=True)
    offer, form, _ = await redeem(harness, offer_uri, "000000" if tx_code != "000000" else "1")
    form["tx_code"] = tx_code or ""
    token = await harness.http.post(f"/oid4vci/{institution}/token", data=form)
    assert token.status_code == 200, token.text
    holder = SigningKey.generate()
    jwt = holder_proof(holder, issuer, await nonce(harness, issuer))
    access = token.json()["access_token"]
    assert (await ask(harness, issuer, access, request_for(offer, jwt))).status_code == 200
    await make_offer(harness, path, tx=False)

    mine = {
        name: [doc["_id"] async for doc in harness.db[name].find({}, {"_id": 1})] for name in SWEPT
    }
    mine[OFFERS] = [
        doc["_id"]
        async for doc in harness.db[OFFERS].find({"credential_id": detail["credential_id"]})
    ]
    before = await counts(harness, mine)
    assert before[OFFERS] == 2
    assert before[GRANTS] >= 1
    assert before[FAILURES] >= 1
    assert before[NONCES] >= 1
    assert before[CURRENT] >= 1

    repo = graph.repositories.wallets
    assert await repo.sweep_due(utcnow()) == 0  # nothing has expired yet
    assert await counts(harness, mine) == before
    later = utcnow() + timedelta(hours=2)
    assert await repo.sweep_due(later) >= 6
    assert await counts(harness, mine) == dict.fromkeys(SWEPT, 0)
    # The delivery stays (who holds a copy); the code is now simply unknown; no offer shown.
    delivered = await harness.db["wallet_deliveries"].count_documents(
        {"credential_id": detail["credential_id"]}
    )
    assert delivered == 1
    again = await harness.http.post(f"/oid4vci/{institution}/token", data=form)
    assert again.json()["error"] == "invalid_grant"
    assert "openid-credential-offer://" not in (await harness.http.get(path)).text


async def test_the_rare_scan_sweeps_what_another_process_left(harness: IssuerHarness) -> None:
    nonces = harness.db[NONCES]
    now = utcnow()
    await nonces.insert_many(
        [
            {"_id": "left-by-another-process", "at": now, "sweep_at": now - timedelta(seconds=1)},
            {"_id": "still-guarding", "at": now, "sweep_at": now + timedelta(minutes=5)},
        ]
    )
    assert await harness.svc.repositories.wallets.sweep_all(utcnow()) >= 1
    assert await nonces.find_one({"_id": "left-by-another-process"}) is None
    assert await nonces.find_one({"_id": "still-guarding"}) is not None
