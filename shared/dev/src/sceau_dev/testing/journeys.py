"""What users do through a running stack: onboard a college, issue, verify (tests, benchmarks).

The end-to-end verification tests and ``bench/verify.py --issuer`` drive the real registry,
issuer and verifier (:mod:`sceau_dev.testing.stack`) the same way, through their public HTTP APIs
and the ``sceau issuer`` command line, as an operator, a college and an employer would.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack

__all__ = [
    "ACHIEVEMENT",
    "College",
    "check",
    "iso",
    "issue",
    "onboard",
    "registry_knows_key",
    "verified_once_published",
    "verify",
]

SCEAU = str(Path(sys.executable).with_name("sceau"))


def _expect(response: httpx.Response, status: int) -> None:
    # A journey step that did not get its answer fails the calling test (or benchmark) here.
    if response.status_code != status:
        raise AssertionError(
            f"{response.request.method} {response.request.url} -> {response.status_code} "
            f"(expected {status}): {response.text[:2000]}"
        )


def iso(moment: datetime) -> str:
    """RFC 3339 in UTC with a ``Z``, as the APIs write it."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class College:
    """An onboarded institution: its registry id, issuer API key, DID and published achievement."""

    institution_id: str
    api_key: str
    did: str
    verification_method: str
    achievement_id: str = ""

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


ACHIEVEMENT = {
    "achievement_type": "MicroCredential",
    "default_language": "fr",
    "name": {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"},
    "description": {
        "fr": "Concevoir des activités d'apprentissage qui intègrent l'IA générative.",
        "en": "Design learning activities that integrate generative AI.",
    },
    "criteria": {"fr": "Réussir le projet final.", "en": "Pass the final project."},
    "competencies": [
        {
            "name": {"fr": "Intégrer l'IA en classe", "en": "Integrate AI in class"},
            "url": "https://example.edu/frameworks/digital/ai-1",
            "framework": {"fr": "Cadre numérique", "en": "Digital framework"},
            "code": "AI-1",
            "skill_type": "technical",
        }
    ],
    "level": {
        "name": {"fr": "Niveau 2", "en": "Level 2"},
        "definition_url": "https://example.edu/levels/2",
    },
    "hours": 15,
    "delivery_mode": "online",
    "pacing": "cohort",
    "assessments": [{"method": "project", "name": {"fr": "Projet final", "en": "Final project"}}],
    "instruction_languages": ["fr"],
    "credit_status": "non-credit",
    "quality_assurance": [
        {"id": "https://example.edu/qa", "name": {"fr": "Comité qualité", "en": "Quality board"}}
    ],
}


async def _api_key(stack: Stack, institution_id: str) -> str:
    async def attempt() -> str:
        completed = await asyncio.to_thread(
            subprocess.run,
            [SCEAU, "issuer", "api-key", "create", "--institution", institution_id,
             "--name", "stack", "--scopes", "issue,revoke,read,manage", "--json"],
            env=stack.env("issuer"), capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        if completed.returncode != 0:
            return ""
        token: str = json.loads(completed.stdout)["token"]
        return token

    token: str = await eventually(
        attempt, timeout_s=60, message="issuer tenant and API key", details=stack.logs
    )
    return token


async def onboard(
    http: httpx.AsyncClient, stack: Stack, name: str, *, did_method: str = "key"
) -> College:
    """Register, activate and accredit a college (backdated 10 days); get its key and API key.

    ``did_method`` is the registration's (``key``, or ``hosted-web`` for a did:web DID whose
    document the registry serves).
    """
    since = iso(datetime.now(UTC) - timedelta(days=10))
    registry = stack.url("registry")
    operator = stack.operator_headers("stack-operator")
    created = await http.post(
        f"{registry}/v1/admin/institutions",
        headers=operator,
        json={
            "legal_name": {"fr": f"Collège {name}", "en": f"{name} College"},
            "category": "public-college",
            "jurisdiction": "ON",
            "did_method": did_method,
            "effective_at": since,
        },
    )
    _expect(created, 201)
    institution_id = created.json()["institution_id"]
    admin = f"{registry}/v1/admin/institutions/{institution_id}"
    activated = await http.post(
        f"{admin}/status",
        headers=operator,
        json={"status": "active", "reason": "approved", "effective_at": since},
    )
    _expect(activated, 200)
    scope = await http.post(
        f"{admin}/scopes",
        headers=operator,
        json={"achievement_types": ["MicroCredential"], "valid_from": since, "reason": "QA"},
    )
    _expect(scope, 201)
    api_key = await _api_key(stack, institution_id)
    profile = (
        await http.get(
            f"{stack.url('issuer')}/v1/institution", headers={"Authorization": f"Bearer {api_key}"}
        )
    ).json()
    active = next(k for k in profile["keys"] if k["key_id"] == profile["active_key_id"])
    college = College(institution_id, api_key, active["did"], active["verification_method"])
    await registry_knows_key(http, stack, college.did, college.verification_method)
    achievement = await http.post(
        f"{stack.url('issuer')}/v1/achievements", headers=college.auth, json=ACHIEVEMENT
    )
    _expect(achievement, 201)
    college.achievement_id = achievement.json()["achievement_id"]
    published = await http.post(
        f"{stack.url('issuer')}/v1/achievements/{college.achievement_id}/publish",
        headers=college.auth,
    )
    _expect(published, 200)
    return college


async def registry_knows_key(
    http: httpx.AsyncClient, stack: Stack, did: str, verification_method: str
) -> None:
    """Wait until the registry answers that ``verification_method`` is valid now."""

    async def known() -> bool:
        # A did:web DID's "%3A" (port) must reach the registry as it is: escape the "%".
        answer = await http.get(
            f"{stack.url('registry')}/v1/issuers/{did.replace('%', '%25')}",
            params={"at": iso(datetime.now(UTC)), "verification_method": verification_method},
        )
        body = answer.json() if answer.status_code == 200 else {}
        key = body.get("key") or {}
        return bool(body.get("registered") and key.get("valid_at"))

    await eventually(
        known, timeout_s=60, message=f"registry knows {verification_method}", details=stack.logs
    )


async def issue(
    http: httpx.AsyncClient,
    stack: Stack,
    college: College,
    email: str,
    *,
    name: str = "Alex Tremblay",
    language: str = "fr",
    results: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Issue the college's achievement to ``email`` through the issuer's API; return the detail.

    ``results`` (e.g. ``[{"assessment": 1, "value": "A"}]``) puts a grade in the credential.
    """
    body: dict[str, Any] = {
        "achievement_id": college.achievement_id,
        "recipient": {"email": email, "name": name, "language": language},
    }
    if results:
        body["results"] = results
    response = await http.post(
        f"{stack.url('issuer')}/v1/credentials",
        headers=college.auth | {"Idempotency-Key": uuid.uuid4().hex},
        json=body,
    )
    _expect(response, 201)
    detail: dict[str, Any] = response.json()
    return detail


async def verify(http: httpx.AsyncClient, stack: Stack, document: Any) -> dict[str, Any]:
    """Ask the verifier about ``document`` (English answer)."""
    response = await http.post(
        f"{stack.url('verifier')}/v1/verify", json={"credential": document}, params={"lang": "en"}
    )
    _expect(response, 200)
    answer: dict[str, Any] = response.json()
    return answer


async def verified_once_published(
    http: httpx.AsyncClient, stack: Stack, document: Any, limit_s: float = 30.0
) -> dict[str, Any]:
    """Verify until the answer is "verified".

    Right after issuance the status list may still be on its way to the registry (outbox ->
    Kafka -> registry): until then the honest answer is "inconclusive", never "valid".
    """
    last: dict[str, Any] = {}

    async def attempt() -> bool:
        nonlocal last
        last = await verify(http, stack, document)
        return bool(last["verified"])

    try:
        await eventually(
            attempt, timeout_s=limit_s, message="credential verified", details=stack.logs
        )
    except AssertionError as exc:
        raise AssertionError(f"{exc}\nlast answer: {json.dumps(last['checks'])[:3000]}") from exc
    return last


def check(answer: dict[str, Any], name: str) -> dict[str, Any]:
    """The verifier answer's check called ``name``."""
    return next(c for c in answer["checks"] if c["name"] == name)
