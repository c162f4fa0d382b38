"""Step 1: an operator registers, activates and accredits the college; API key; webhook."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx

from sceau_demo.checks import StepFailed, eventually, expect
from sceau_demo.story import Story
from sceau_dev.testing.stack import service_env

#: Every event type the college's system subscribes to (all the notifier offers).
WEBHOOK_TYPES = [
    "credential.issued",
    "credential.status_changed",
    "credential.expiring",
    "verification.completed",
]


def sceau_command() -> list[str]:
    """The ``sceau`` console command of this environment."""
    beside = Path(sys.executable).with_name("sceau")
    if beside.exists():
        return [str(beside)]
    found = shutil.which("sceau")
    if found:
        return [found]
    raise StepFailed("the 'sceau' command is not installed in this environment (uv sync?)")


async def create_api_key(story: Story) -> str:
    """``sceau issuer api-key create`` against the issuer's database, once the tenant exists."""
    env = {**os.environ, **service_env(story.config, "issuer")}
    command = [
        *sceau_command(), "issuer", "api-key", "create",
        "--institution", story.college.institution_id,
        "--name", "systeme-etudiant", "--scopes", "issue,revoke,read,manage", "--json",
    ]  # fmt: skip
    errors: list[str] = []

    async def attempt() -> str | None:
        done = await asyncio.to_thread(
            subprocess.run, command, env=env, capture_output=True, text=True, timeout=60
        )
        if done.returncode != 0:
            errors.append(done.stderr.strip()[-300:])
            return None
        token: str = json.loads(done.stdout)["token"]
        return token

    try:
        token: str = await eventually(
            attempt, "issuer tenant + API key", story.timeout_s, interval_s=0.5
        )
    except StepFailed as exc:
        raise StepFailed(f"{exc}; last CLI error: {errors[-1] if errors else '-'}") from exc
    story.log(f"`sceau issuer api-key create` succeeded after {len(errors) + 1} attempt(s)")
    return token


async def step_onboard(story: Story, http: httpx.AsyncClient) -> None:
    """1. Register, activate and accredit the college; API key; webhook endpoint."""
    college = story.college
    registered = expect(
        await http.post(
            story.url("registry", "/v1/admin/institutions"),
            headers=story.operator,
            json={
                "institution_id": f"riviere-erables-{story.run_id}",
                "legal_name": {
                    "fr": "Cégep de la Rivière-aux-Érables",
                    "en": "Maple River College",
                },
                "category": "public-college",
                "jurisdiction": "CA-QC",
                "domain": "riviere-erables.example",
                "contact_email": "registraire@riviere-erables.example",
                "did_method": "key",
                "reason": "demande d'adhésion / membership request",
            },
        ),
        201,
    )
    college.institution_id = registered["institution_id"]
    story.summary.institution_id = college.institution_id
    story.log(
        f"registered {registered['legal_name']['fr']} / {registered['legal_name']['en']} "
        f"as {college.institution_id} (status {registered['status']})"
    )
    admin = story.url("registry", f"/v1/admin/institutions/{college.institution_id}")
    activated = expect(
        await http.post(
            f"{admin}/status",
            headers=story.operator,
            json={"status": "active", "reason": "dossier approuvé / application approved"},
        ),
        200,
    )
    scope = expect(
        await http.post(
            f"{admin}/scopes",
            headers=story.operator,
            json={
                "achievement_types": ["MicroCredential"],
                "valid_from": datetime.now(UTC).isoformat(),
                "accreditor": "Ministère de l'Enseignement supérieur (démo)",
                "reason": "micro-titres approuvés / micro-credentials approved",
            },
        ),
        201,
    )
    story.log(
        f"status {activated['status']}; accredited for {', '.join(scope['achievement_types'])}"
    )
    story.log("waiting for the issuer to create the tenant from InstitutionRegisteredV1 …")
    college.api_key = await create_api_key(story)
    profile = expect(
        await http.get(story.url("issuer", "/v1/institution"), headers=college.auth), 200
    )
    key = next(k for k in profile["keys"] if k["key_id"] == profile["active_key_id"])
    college.did, college.verification_method = key["did"], key["verification_method"]
    story.log(f"signing key ready: {college.did[:48]}…")

    async def registry_knows_key() -> bool:
        answer = await http.get(
            story.url("registry", f"/v1/issuers/{college.did}"),
            params={
                "at": datetime.now(UTC).isoformat(),
                "verification_method": college.verification_method,
            },
        )
        body = answer.json() if answer.status_code == 200 else {}
        return bool(body.get("registered") and (body.get("key") or {}).get("valid_at"))

    await eventually(registry_knows_key, "registry learns the key", story.timeout_s)
    story.log("the registry lists the key (IssuerKeyPublishedV1) — verifiers can trust it")
    endpoint = expect(
        await http.post(
            story.url("notifier", f"/v1/institutions/{college.institution_id}/webhooks"),
            headers=story.operator,
            json={
                "url": story.hooks.url,
                "event_types": WEBHOOK_TYPES,
                "description": "student information system",
            },
        ),
        201,
    )
    college.webhook_secret = endpoint["secret"]
    story.log(f"webhook endpoint {endpoint['id']} -> {story.hooks.url}")
