"""End to end: ES256 VC-JWTs from a did:web institution's P-256 key, through the real services.

The registry, the issuer and the verifier run as processes on real Kafka and MongoDB. A college
registered with a registry-hosted did:web gets an Ed25519 and a P-256 key; its ``jwt`` credentials
are signed ES256 by default and verify at the verifier, which resolves the P-256 key from the DID
document the registry hosts (learnt from ``IssuerKeyPublishedV1``). Rotating the P-256 key keeps
old and new credentials verifying; revoking it makes what it signed fail, as an Ed25519
revocation does. The institution can choose EdDSA explicitly. An institution that chooses
selective disclosure gets ecdsa-sd-2023 base copies at issuance; its learner's share that hides
the grade verifies at the verifier (proof, status list, registry trust of the P-256 key).
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from sceau_credentials.conformance import inspect_credential, offline_resolver
from sceau_credentials.proofs.jwt import decode_jwt
from sceau_dev.testing.journeys import (
    College,
    check,
    iso,
    onboard,
    registry_knows_key,
    verified_once_published,
    verify,
)
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack
from sceau_shared.events import NotificationRequestedV1

pytestmark = pytest.mark.e2e


async def _issue_jwt(http: httpx.AsyncClient, stack: Stack, college: College, email: str) -> str:
    response = await http.post(
        f"{stack.url('issuer')}/v1/credentials",
        headers=college.auth | {"Idempotency-Key": uuid.uuid4().hex},
        json={
            "achievement_id": college.achievement_id,
            "recipient": {"email": email, "name": "Alex Tremblay", "language": "fr"},
            "profile": "jwt",
        },
    )
    assert response.status_code == 201, response.text
    token = response.json()["document"]
    assert isinstance(token, str)
    return token


async def _profile(http: httpx.AsyncClient, stack: Stack, college: College) -> dict[str, Any]:
    answer = await http.get(f"{stack.url('issuer')}/v1/institution", headers=college.auth)
    assert answer.status_code == 200, answer.text
    profile: dict[str, Any] = answer.json()
    return profile


def _active_p256(profile: dict[str, Any]) -> dict[str, Any]:
    return next(k for k in profile["keys"] if k["key_id"] == profile["active_p256_key_id"])


async def _verification_method(http: httpx.AsyncClient, stack: Stack, token: str) -> str:
    method: str = check(await verify(http, stack, token), "proof")["details"]["verification_method"]
    return method


async def test_jwt_is_es256_and_verifies_across_rotation_and_revocation(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    college = await onboard(http, stack, "Sud", did_method="hosted-web")
    assert college.did.startswith("did:web:")
    first_key = _active_p256(await _profile(http, stack, college))
    assert first_key["key_type"] == "P-256"
    assert first_key["verification_method"] == f"{college.did}#p256-1"
    await registry_knows_key(http, stack, college.did, first_key["verification_method"])

    old = await _issue_jwt(http, stack, college, "old.sud@example.org")
    header = decode_jwt(old).header
    assert header == {
        "alg": "ES256",
        "kid": first_key["verification_method"],
        "typ": "vc+jwt",
        "cty": "vc",
    }
    answer = await verified_once_published(http, stack, old)
    assert check(answer, "issuer")["status"] == "passed", answer["checks"]

    # The registry-hosted DID document publishes the P-256 key as a Multikey.
    document = (
        await http.get(f"{stack.url('registry')}/institutions/{college.institution_id}/did.json")
    ).json()
    methods = {m["id"]: m for m in document["verificationMethod"]}
    assert methods[first_key["verification_method"]]["publicKeyMultibase"].startswith("zDn")

    rotated = await http.post(
        f"{stack.url('issuer')}/v1/institution/keys/rotate",
        params={"key_type": "P-256"},
        headers=college.auth,
    )
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()
    assert new_key["verification_method"] == f"{college.did}#p256-2"
    await registry_knows_key(http, stack, college.did, new_key["verification_method"])
    new = await _issue_jwt(http, stack, college, "new.sud@example.org")
    assert decode_jwt(new).header["kid"] == new_key["verification_method"]

    async def both_verified() -> bool:
        # The verifier drops its cached DID document on the key event; until then, retry.
        answers = [await verify(http, stack, token) for token in (old, new)]
        return all(a["verified"] for a in answers)

    await eventually(both_verified, timeout_s=60, message="old and new ES256 JWTs verify")

    revoked = await http.post(
        f"{stack.url('issuer')}/v1/institution/keys/p2/revoke",
        json={"as_of": iso(datetime(2026, 1, 1, tzinfo=UTC))},
        headers=college.auth,
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["state"] == "revoked"
    profile = await _profile(http, stack, college)
    assert profile["active_p256_key_id"] == "p3"
    assert profile["active_key_id"] == "k1"  # the Ed25519 key is untouched

    async def revoked_fails() -> bool:
        return (await verify(http, stack, new))["verified"] is False

    await eventually(revoked_fails, timeout_s=60, message="the revoked key's JWT fails")
    still = await verify(http, stack, old)
    assert still["verified"] is True, still["checks"]
    after = await _issue_jwt(http, stack, college, "after.sud@example.org")
    assert decode_jwt(after).header["kid"] == f"{college.did}#p256-3"
    await verified_once_published(http, stack, after, limit_s=60)


async def test_eddsa_is_an_explicit_choice(stack: Stack, http: httpx.AsyncClient) -> None:
    college = await onboard(http, stack, "Centre", did_method="hosted-web")
    chosen = await http.put(
        f"{stack.url('issuer')}/v1/institution/settings",
        headers=college.auth,
        json={"suspension": False, "jwt_algorithm": "EdDSA"},
    )
    assert chosen.status_code == 200, chosen.text
    assert chosen.json()["jwt_algorithm"] == "EdDSA"
    token = await _issue_jwt(http, stack, college, "eddsa@example.org")
    assert decode_jwt(token).header["alg"] == "EdDSA"
    assert decode_jwt(token).header["kid"] == f"{college.did}#key-1"
    await verified_once_published(http, stack, token)
    refused = await http.put(
        f"{stack.url('issuer')}/v1/institution/settings",
        headers=college.auth,
        json={"suspension": False, "jwt_algorithm": "HS256"},
    )
    assert refused.status_code == 422
    assert refused.json()["detail_fr"]


class _HttpLists:
    """Status lists fetched over HTTP, as 1EdTech's validator fetches them."""

    def __init__(self, http: httpx.AsyncClient) -> None:
        self._http = http

    async def fetch(self, url: str) -> Mapping[str, Any] | str:
        response = await self._http.get(url)
        response.raise_for_status()
        if "json" in response.headers.get("content-type", ""):
            listed: dict[str, Any] = response.json()
            return listed
        return response.text


async def test_jwt_is_a_conformant_vc_jose_cose_credential_and_revocation_shows(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    """The jwt profile through the real issuer API: the OB 3.0.3 credential as the payload,
    ES256, on a Bitstring list; verified at the verifier; no conformance finding with the DID
    document and the status list fetched over HTTP; revoked, the verifier says so."""
    college = await onboard(http, stack, "Nord", did_method="hosted-web")
    key = _active_p256(await _profile(http, stack, college))
    await registry_knows_key(http, stack, college.did, key["verification_method"])
    issued = await http.post(
        f"{stack.url('issuer')}/v1/credentials",
        headers=college.auth | {"Idempotency-Key": uuid.uuid4().hex},
        json={
            "achievement_id": college.achievement_id,
            "recipient": {"email": "nord@example.org", "name": "Alex Tremblay", "language": "fr"},
            "profile": "jwt",
        },
    )
    assert issued.status_code == 201, issued.text
    token = issued.json()["document"]
    decoded = decode_jwt(token)
    assert decoded.header["typ"] == "vc+jwt"
    assert decoded.header["alg"] == "ES256"
    assert "vc" not in decoded.payload
    assert decoded.payload["@context"][:2] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    status = decoded.payload["credentialStatus"]
    assert status["type"] == "BitstringStatusListEntry"

    answer = await verified_once_published(http, stack, token, limit_s=60)
    assert check(answer, "status")["status"] == "passed", answer["checks"]
    assert check(answer, "issuer")["status"] == "passed", answer["checks"]
    assert answer["summary"]["format"] == "jwt"

    did_json = f"{stack.url('registry')}/institutions/{college.institution_id}/did.json"

    async def did_web(did: str) -> Mapping[str, Any]:
        assert did == college.did
        document: dict[str, Any] = (await http.get(did_json)).json()
        return document

    findings = await inspect_credential(
        token,
        resolver=offline_resolver(did_web),
        now=datetime.now(UTC),
        status_lists=_HttpLists(http),
    )
    assert findings == [], [f.message_en for f in findings]

    revoked = await http.post(
        f"{stack.url('issuer')}/v1/credentials/{issued.json()['id']}/revoke",
        json={"reason_code": "issued-in-error"},
        headers=college.auth,
    )
    assert revoked.status_code == 200, revoked.text

    async def shows_revoked() -> bool:
        last = await verify(http, stack, token)
        return check(last, "status")["status"] == "failed"

    await eventually(shows_revoked, timeout_s=60, message="the revoked jwt fails its status")


async def _learner_page(stack: Stack, credential_id: str) -> str:
    """The learner page link of a credential, from its NotificationRequestedV1 on Kafka."""
    consumer = AIOKafkaConsumer(
        stack.config.topic_prefix + NotificationRequestedV1.TOPIC,
        bootstrap_servers=stack.config.kafka_bootstrap,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        while True:
            record = await asyncio.wait_for(consumer.getone(), timeout=60)
            event = NotificationRequestedV1.model_validate_json(record.value)
            if event.credential_id == credential_id and event.learner_page_url:
                return event.learner_page_url
    finally:
        await consumer.stop()


async def test_selective_disclosure_share_verifies_at_the_verifier(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    college = await onboard(http, stack, "Ouest", did_method="hosted-web")
    chosen = await http.put(
        f"{stack.url('issuer')}/v1/institution/settings",
        headers=college.auth,
        json={"suspension": False, "selective_disclosure": True},
    )
    assert chosen.status_code == 200, chosen.text
    issued = await http.post(
        f"{stack.url('issuer')}/v1/credentials",
        headers=college.auth | {"Idempotency-Key": uuid.uuid4().hex},
        json={
            "achievement_id": college.achievement_id,
            "recipient": {"email": "sd@example.org", "name": "Alex Tremblay", "language": "fr"},
            "results": [{"assessment": 1, "value": "A+"}],
        },
    )
    assert issued.status_code == 201, issued.text
    detail = issued.json()
    page = await _learner_page(stack, detail["id"])
    assert (await http.post(f"{page}/accept")).status_code == 303
    shared = await http.post(f"{page}/shares", data={"label": "Employeur", "hide_result": "1"})
    assert shared.status_code == 303, shared.text
    [token] = re.findall(r'href="http[^"]+/s/([A-Za-z0-9_-]+)"', (await http.get(page)).text)
    share = await http.get(f"{stack.url('issuer')}/v1/shares/{token}")
    assert share.status_code == 200, share.text
    document = share.json()["document"]
    assert document["id"] == detail["document"]["id"]
    assert document["proof"][0]["cryptosuite"] == "ecdsa-sd-2023"
    assert "A+" not in str(document)
    answer = await verified_once_published(http, stack, document, limit_s=60)
    assert check(answer, "issuer")["status"] == "passed", answer["checks"]
    assert check(answer, "proof")["details"]["verification_method"].endswith("#p256-1")
