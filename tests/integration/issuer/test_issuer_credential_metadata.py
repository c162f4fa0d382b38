"""Weeks, modules, sessions and credit metadata travel in the signed credential, with OB terms."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest
from issuer_support import IssuerHarness, micro

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.ob3 import schema_problems

pytestmark = pytest.mark.integration

WORKLOAD = {
    "weeks": 9,
    "hours_per_week": 2.5,
    "modules": 3,
    "sessions": 12,
    "credit_status": "credit",
    "credits": 3,
    "transcriptable": True,
}


def jwt_payload(token: str) -> dict[str, Any]:
    body = token.split(".")[1]
    payload: dict[str, Any] = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    return payload


def identifiers(achievement: dict[str, Any]) -> dict[str, str]:
    return {e["identifierType"]: e["identifier"] for e in achievement["otherIdentifier"]}


async def test_workload_and_credit_are_signed_into_the_credential(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro(**WORKLOAD))
    response = await harness.issue(
        headers,
        achievement,
        "w@example.org",
        recipient={"email": "w@example.org", "language": "en"},
    )
    assert response.status_code == 201, response.text
    document = response.json()["document"]
    assert schema_problems(document) == []  # the official schema, strict
    verified = await verify_proof(document, DidKeyResolver())
    assert verified.verified, verified.reason

    node = document["credentialSubject"]["achievement"]
    assert node["creditsAvailable"] == 3
    assert identifiers(node) == {
        "ext:weeks": "9",
        "ext:hoursPerWeek": "2.5",
        "ext:modules": "3",
        "ext:sessions": "12",
        "ext:creditStatus": "credit",
        "ext:transcriptable": "true",
    }
    assert all(e["type"] == "IdentifierEntry" for e in node["otherIdentifier"])
    assert node["criteria"]["narrative"] == (
        "Pass the project.\n\nWorkload: 9 weeks, 2.5 h per week, 3 modules, 12 facilitated "
        "sessions. Credit: credit-bearing, 3 credits, on the transcript."
    )
    [french] = node["related"]
    assert french["inLanguage"] == "fr"
    assert french["criteria"]["narrative"] == (
        "Réussir le projet.\n\nCharge de travail\u00a0: 9 semaines, 2,5 h par semaine, 3 modules, "
        "12 séances animées. Crédits\u00a0: avec crédits, 3 crédits, inscrit au relevé de notes."
    )
    # Tampering with a carried field breaks the signature: the fields are signed, not decoration.
    node["otherIdentifier"][0]["identifier"] = "1"
    assert not (await verify_proof(document, DidKeyResolver())).verified


async def test_other_profiles_carry_and_verify_the_same_fields(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro(**WORKLOAD))
    v1 = await harness.issue(headers, achievement, "v1@example.org", profile="ob3-v1")
    assert v1.status_code == 201, v1.text
    jwt = await harness.issue(headers, achievement, "jwt@example.org", profile="jwt")
    assert jwt.status_code == 201, jwt.text
    for signed, credential in (
        (v1.json()["document"], v1.json()["document"]),
        (jwt.json()["document"], jwt_payload(jwt.json()["document"])),  # VC-JOSE-COSE
    ):
        verified = await verify_proof(signed, DidKeyResolver())
        assert verified.verified, verified.reason
        node = credential["credentialSubject"]["achievement"]
        assert identifiers(node)["ext:sessions"] == "12"
        assert "12 séances animées" in node["criteria"]["narrative"]


async def test_non_credit_achievement(harness: IssuerHarness) -> None:
    institution = await harness.tenant()
    headers = await harness.api_key(institution)
    achievement = await harness.published(headers, micro(credits=None, modules=None))
    response = await harness.issue(headers, achievement, "n@example.org")
    document = response.json()["document"]
    node = document["credentialSubject"]["achievement"]
    assert "creditsAvailable" not in node
    assert identifiers(node) == {"ext:creditStatus": "non-credit"}
    assert node["criteria"]["narrative"].endswith("\n\nCrédits\u00a0: sans crédit.")
    assert (await verify_proof(document, DidKeyResolver())).verified
