"""Step 5: an employer verifies a credential, the college revokes it, the employer verifies again.

The step measures how long the revocation takes to become visible at the public verifier.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import httpx

from sceau_credentials.results import CREDENTIAL_REVOKED
from sceau_demo.checks import StepFailed, eventually, expect, until_verified
from sceau_demo.console import show_checks
from sceau_demo.story import Story


async def verify(story: Story, http: httpx.AsyncClient, document: Any) -> dict[str, Any]:
    """The employer's call: ``POST /v1/verify`` at the public verifier."""
    return expect(
        await http.post(
            story.url("verifier", "/v1/verify"),
            params={"lang": "en"},
            json={"credential": document},
        ),
        200,
    )


def status_problem(answer: dict[str, Any]) -> str | None:
    """The problem type of the status check (None when it passed)."""
    for item in answer["checks"]:
        if item["name"] == "status":
            problem: str | None = item.get("problem_type")
            return problem
    return None


async def step_verify_revoke(
    story: Story, http: httpx.AsyncClient, details: list[dict[str, Any]]
) -> None:
    """5. An employer verifies; the college revokes; the employer verifies again."""
    overall = [d for d in details if d["achievement_id"] == story.college.overall_id]
    chosen = (overall or details)[0]
    story.summary.revoked_credential = chosen["credential_id"]
    who = chosen["recipient"].get("name") or chosen["recipient"].get("email")
    story.log(f"an employer receives {who}'s credential {chosen['credential_id'][:8]}")
    last = await until_verified(
        lambda: verify(story, http, chosen["document"]), "employer's verification", story.timeout_s
    )
    story.summary.verified_before = last["outcome"]
    summary = last.get("summary") or {}
    story.log(
        f"verifier: {last['outcome'].upper()} — issued by {summary['issuer']['name']} "
        f"({summary['issuer'].get('name_source')}), '{summary.get('achievement_name')}', "
        f"{summary.get('hours')} h, {len(summary.get('competencies', []))} competencies"
    )
    show_checks(last)
    started = time.monotonic()
    revoked = expect(
        await http.post(
            story.url("issuer", f"/v1/credentials/{chosen['credential_id']}/revoke"),
            headers=story.college.auth,
            json={"reason_code": "issued-in-error", "note": "module 3 grade corrected"},
        ),
        200,
    )
    story.log(f"the college revokes it (status {revoked['status']}, reason issued-in-error)")

    async def shows_revoked() -> bool:
        nonlocal last
        last = await verify(story, http, chosen["document"])
        return status_problem(last) == CREDENTIAL_REVOKED

    await eventually(shows_revoked, "verifier answers revoked", story.timeout_s, interval_s=0.1)
    visible = time.monotonic() - started
    story.summary.revocation_visible_s = visible
    story.summary.verified_after = last["outcome"]
    reason = next(c for c in last["checks"] if c["name"] == "status")["reason_en"]
    story.log(f"verifier: {last['outcome'].upper()} — {reason}")
    story.log(f"the revocation was visible to the employer {visible:.2f}s after the college's call")

    async def revocation_notified() -> bool:
        return story.hooks.count("credential.status_changed") >= 1

    with contextlib.suppress(StepFailed):
        await eventually(revocation_notified, "status webhook", 15)
    story.summary.revocation_webhook = story.hooks.count("credential.status_changed") >= 1
    story.summary.revocation_email = len(story.mails()) > story.summary.emails
    story.log(
        f"credential.status_changed webhook: {'yes' if story.summary.revocation_webhook else 'no'}"
        f"; revocation e-mail to the learner: {'yes' if story.summary.revocation_email else 'no'}"
    )
