"""End to end: an endorsement through the real registry, issuer and verifier processes.

The operator registers an industry body at the registry and grants it the ``endorser`` role;
the scope reaches the issuer over Kafka; the body signs an endorsement of a college's published
achievement with its own API key; the college accepts it; the credential issued next carries it;
the verifier says "endorsed by … — verified". A college without the role cannot endorse. Then the
operator suspends the body: the verifier (told over Kafka) answers "unverified" for the same
endorsement while the credential itself stays verified.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from system_support import System

from sceau_dev.testing.journeys import (
    College,
    iso,
    issue,
    onboard,
    verified_once_published,
    verify,
)
from sceau_dev.testing.polling import eventually

pytestmark = pytest.mark.e2e

COMMENT = {"fr": "Approuvé par l'Ordre.", "en": "Approved by the Order."}


@pytest.fixture
async def http() -> Any:
    async with httpx.AsyncClient(timeout=30) as client:
        yield client


async def grant_endorser(http: httpx.AsyncClient, system: System, body: College) -> None:
    since = iso(datetime.now(UTC) - timedelta(days=10))
    granted = await http.post(
        f"{system.stack.url('registry')}/v1/admin/institutions/{body.institution_id}/scopes",
        headers=system.stack.operator_headers("e2e-operator"),
        json={
            "achievement_types": ["MicroCredential"],
            "role": "endorser",
            "valid_from": since,
            "reason": "industry association",
        },
    )
    assert granted.status_code == 201, granted.text


async def test_endorsement_signed_attached_verified_then_suspended(
    system: System, http: httpx.AsyncClient
) -> None:
    stack = system.stack
    issuer = stack.url("issuer")
    college = await onboard(http, stack, "Endosse")
    body = await onboard(http, stack, "Ordre")
    outsider = await onboard(http, stack, "Sans rôle")

    refused = await http.post(
        f"{issuer}/v1/endorsements",
        headers=outsider.auth,
        json={"achievement_id": college.achievement_id, "comment": COMMENT},
    )
    assert refused.status_code == 403, refused.text
    assert refused.json()["type"].endswith("not-endorser")

    await grant_endorser(http, system, body)
    offer: dict[str, Any] = {}

    async def endorsed() -> bool:
        nonlocal offer
        answer = await http.post(
            f"{issuer}/v1/endorsements",
            headers=body.auth,
            json={"achievement_id": college.achievement_id, "comment": COMMENT},
        )
        offer = answer.json()
        return answer.status_code == 201

    await eventually(
        endorsed, timeout_s=30, message="the issuer knows the endorser role", details=stack.logs
    )
    accepted = await http.post(
        f"{issuer}/v1/achievements/{college.achievement_id}/endorsements/"
        f"{offer['endorsement_id']}/accept",
        headers=college.auth,
    )
    assert accepted.status_code == 200, accepted.text

    detail = await issue(http, stack, college, "ada.endorsed@example.org")
    document = detail["document"]
    assert document["credentialSubject"]["achievement"]["endorsement"] == [offer["document"]]
    answer = await verified_once_published(http, stack, document)
    [endorsement] = answer["endorsements"]
    assert endorsement["status"] == "verified", endorsement
    assert endorsement["message"] == "Endorsed by Ordre College — verified"
    assert endorsement["endorser"]["institution_id"] == body.institution_id

    suspended = await http.post(
        f"{stack.url('registry')}/v1/admin/institutions/{body.institution_id}/status",
        headers=stack.operator_headers("e2e-operator"),
        json={"status": "suspended", "reason": "audit finding"},
    )
    assert suspended.status_code == 200, suspended.text
    last: dict[str, Any] = {}

    async def unverified() -> bool:
        nonlocal last
        last = await verify(http, stack, document)
        return bool(last["endorsements"][0]["status"] == "unverified")

    await eventually(
        unverified, timeout_s=30, message="the verifier sees the suspension", details=stack.logs
    )
    assert last["verified"] is True
    assert [r["code"] for r in last["endorsements"][0]["reasons"]] == ["not_endorser_now"]
