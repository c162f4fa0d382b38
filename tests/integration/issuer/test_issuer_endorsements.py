"""Endorsements at the issuer, on real FerretDB and Kafka, through its HTTP API.

An endorsing body (a tenant with an ``endorser`` scope from the registry) signs an OB 3.0
EndorsementCredential about another institution's published achievement; that institution
accepts it; credentials issued afterwards embed it — and everything signed passes 1EdTech's
official schema and the conformance inspection. Refusals change nothing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from issuer_support import IssuerHarness, micro, scope

from sceau_credentials.conformance.inspector import inspect_credential, offline_resolver
from sceau_credentials.engine import verify_proof
from sceau_shared.events import InstitutionStatus

pytestmark = pytest.mark.integration

COMMENT = {
    "fr": "L'Ordre reconnaît ce programme pour la formation continue.",
    "en": "The Order recognises this programme for continuing education.",
}


async def endorser(harness: IssuerHarness, *, role: str = "endorser") -> dict[str, str]:
    """A tenant the registry made an endorser of micro-credentials; its API key headers."""
    body = await harness.tenant(f"ordre-{uuid.uuid4().hex[:6]}", accredited_for=None)
    await harness.accredit(body, scope(["MicroCredential"], role=role))
    return await harness.api_key(body)


async def owner(harness: IssuerHarness) -> tuple[dict[str, str], str]:
    """An accredited institution with one published micro-credential."""
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    return headers, await harness.published(headers, micro())


async def endorse(
    harness: IssuerHarness, headers: dict[str, str], achievement_id: str, **extra: Any
) -> Any:
    return await harness.http.post(
        "/v1/endorsements",
        json={"achievement_id": achievement_id, "comment": COMMENT, **extra},
        headers=headers,
    )


def problem(response: Any, status: int, suffix: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, Any] = response.json()
    assert body["type"].endswith(suffix), body
    return body


async def conformant(document: dict[str, Any]) -> None:
    resolver = offline_resolver()
    assert (await verify_proof(document, resolver)).verified
    assert await inspect_credential(document, resolver=resolver, now=datetime.now(UTC)) == []


class TestEndorsementFlow:
    async def test_signed_accepted_and_embedded(self, harness: IssuerHarness) -> None:
        owner_headers, achievement_id = await owner(harness)
        body_headers = await endorser(harness)

        created = await endorse(harness, body_headers, achievement_id)
        assert created.status_code == 201, created.text
        offer = created.json()
        assert offer["state"] == "pending"
        assert offer["achievement_version"] == 1
        document = offer["document"]
        assert document["type"] == ["VerifiableCredential", "EndorsementCredential"]
        assert document["issuer"]["id"] == offer["endorser_did"]
        subject = document["credentialSubject"]
        assert subject["id"] == offer["endorsed"]
        assert subject["id"].endswith(f"/v1/public/achievements/{achievement_id}/versions/1")
        assert subject["endorsementCommentMap"] == COMMENT
        assert subject["endorsementComment"] == COMMENT["fr"]
        assert document["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
        await conformant(document)

        # Pending: not yet in credentials.
        before = await harness.issue(owner_headers, achievement_id, "a@learner.example")
        assert before.status_code == 201, before.text
        assert "endorsement" not in before.json()["document"]["credentialSubject"]["achievement"]

        listed = await harness.http.get(
            f"/v1/achievements/{achievement_id}/endorsements", headers=owner_headers
        )
        assert [e["endorsement_id"] for e in listed.json()["items"]] == [offer["endorsement_id"]]

        url = f"/v1/achievements/{achievement_id}/endorsements/{offer['endorsement_id']}"
        accepted = await harness.http.post(f"{url}/accept", headers=owner_headers)
        assert accepted.status_code == 200, accepted.text
        assert accepted.json()["state"] == "accepted"
        again = await harness.http.post(f"{url}/accept", headers=owner_headers)
        assert again.status_code == 200  # the same decision twice answers the same
        problem(await harness.http.post(f"{url}/reject", headers=owner_headers), 409, "conflict")

        after = await harness.issue(owner_headers, achievement_id, "b@learner.example")
        assert after.status_code == 201, after.text
        credential = after.json()["document"]
        assert credential["credentialSubject"]["achievement"]["endorsement"] == [document]
        await conformant(credential)

        # A VCDM 1.1 credential cannot embed a VCDM 2.0 endorsement: it is issued without it.
        legacy = await harness.issue(
            owner_headers, achievement_id, "d@learner.example", profile="ob3-v1"
        )
        assert legacy.status_code == 201, legacy.text
        assert "endorsement" not in legacy.json()["document"]["credentialSubject"]["achievement"]
        assert (await verify_proof(legacy.json()["document"], offline_resolver())).verified

        mine = await harness.http.get("/v1/endorsements", headers=body_headers)
        assert [(e["endorsement_id"], e["state"]) for e in mine.json()["items"]] == [
            (offer["endorsement_id"], "accepted")
        ]

    async def test_rejected_is_never_embedded(self, harness: IssuerHarness) -> None:
        owner_headers, achievement_id = await owner(harness)
        offer = (await endorse(harness, await endorser(harness), achievement_id)).json()
        url = f"/v1/achievements/{achievement_id}/endorsements/{offer['endorsement_id']}"
        rejected = await harness.http.post(f"{url}/reject", headers=owner_headers)
        assert rejected.json()["state"] == "rejected"
        issued = await harness.issue(owner_headers, achievement_id, "c@learner.example")
        assert "endorsement" not in issued.json()["document"]["credentialSubject"]["achievement"]


class TestEndorsementRefusals:
    async def test_an_institution_that_is_not_an_endorser_cannot_endorse(
        self, harness: IssuerHarness
    ) -> None:
        _, achievement_id = await owner(harness)
        issuer_only = await endorser(harness, role="issuer")
        body = problem(await endorse(harness, issuer_only, achievement_id), 403, "not-endorser")
        assert "endorser" in body["detail"]
        assert (
            await harness.db["endorsements"].count_documents({"achievement_id": achievement_id})
            == 0
        )

    async def test_a_suspended_endorser_cannot_endorse(self, harness: IssuerHarness) -> None:
        _, achievement_id = await owner(harness)
        body = await harness.tenant(f"ordre-{uuid.uuid4().hex[:6]}", accredited_for=None)
        await harness.accredit(
            body, scope(["MicroCredential"], role="endorser"), status=InstitutionStatus.SUSPENDED
        )
        headers = await harness.api_key(body)
        problem(await endorse(harness, headers, achievement_id), 403, "institution-not-active")

    async def test_no_self_endorsement_and_unknown_achievement(
        self, harness: IssuerHarness
    ) -> None:
        institution = await harness.tenant()
        await harness.accredit(
            institution, scope(["MicroCredential"]), scope(["MicroCredential"], role="endorser")
        )
        headers = await harness.api_key(institution)
        achievement_id = await harness.published(headers, micro())
        problem(await endorse(harness, headers, achievement_id), 409, "self-endorsement")
        problem(await endorse(harness, headers, "nope"), 404, "achievement-not-found")
        draft = await harness.http.post("/v1/achievements", json=micro(), headers=headers)
        unpublished = draft.json()["achievement_id"]
        problem(await endorse(harness, await endorser(harness), unpublished), 404, "not-found")

    async def test_malformed_requests_are_422(self, harness: IssuerHarness) -> None:
        _, achievement_id = await owner(harness)
        headers = await endorser(harness)
        for extra in ({"comment": {"de": "gut"}}, {"comment": {"fr": "  "}}, {"comment": {}}):
            answer = await endorse(harness, headers, achievement_id, **extra)
            assert answer.status_code == 422, answer.text
            assert answer.headers["content-type"].startswith("application/problem+json")
        assert (
            await harness.db["endorsements"].count_documents({"achievement_id": achievement_id})
            == 0
        )

    async def test_tenant_isolation(self, harness: IssuerHarness) -> None:
        owner_headers, achievement_id = await owner(harness)
        body_headers = await endorser(harness)
        offer = (await endorse(harness, body_headers, achievement_id)).json()
        url = f"/v1/achievements/{achievement_id}/endorsements/{offer['endorsement_id']}"
        other = await harness.api_key(await harness.tenant())
        # Neither the endorsing body nor a third institution may attach it or list the offers.
        for headers in (body_headers, other):
            problem(await harness.http.post(f"{url}/accept", headers=headers), 404, "not-found")
            listed = await harness.http.get(
                f"/v1/achievements/{achievement_id}/endorsements", headers=headers
            )
            assert listed.status_code == 404, listed.text
        # The third institution does not see what the body signed either.
        theirs = await harness.http.get("/v1/endorsements", headers=other)
        assert theirs.json()["items"] == []
        stored = await harness.db["endorsements"].find_one({"_id": offer["endorsement_id"]})
        assert stored is not None
        assert stored["state"] == "pending"
        # An endorsement id of another achievement of the owner is not found either.
        second = await harness.published(owner_headers, micro())
        wrong = f"/v1/achievements/{second}/endorsements/{offer['endorsement_id']}/accept"
        problem(await harness.http.post(wrong, headers=owner_headers), 404, "not-found")
