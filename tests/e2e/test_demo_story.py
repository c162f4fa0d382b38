"""The README demo story, end to end, through the four real services as processes.

The same functions ``scripts/demo`` runs, with a cohort of 10 instead of 40: the operator
onboards a college, the college issues three modules through the batch API, the seven learners
who complete all three receive the overall credential automatically, every learner receives an
e-mail per credential (real SMTP) and the college a signed webhook per credential, and an
employer sees a credential verified, then revoked after the college revokes it.
"""

from __future__ import annotations

import json
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from system_support import System

pytestmark = pytest.mark.e2e


async def test_the_demo_story(system: System, tmp_path: Path) -> None:
    story = system.story(tmp_path, cohort_size=10)
    try:
        summary = await system.demo.run_story(story)
    except system.demo.StepFailed as exc:
        pytest.fail(f"{exc}\n{system.logs()}")
    finally:
        story.hooks.stop()

    assert summary.issued == {"module-1": 10, "module-2": 8, "module-3": 7, "overall": 7}
    assert summary.overall_issued == summary.overall_expected == 7

    files = sorted((tmp_path / "credentials").glob("*.json"))
    assert len(files) == summary.credentials_written == 32
    overall = [json.loads(f.read_text()) for f in files if f.name.startswith("overall-")]
    assert len(overall) == 7
    # Every credential issued went through the conformance check (1EdTech's OB 3.0 rules, status
    # lists fetched from the registry); the only finding allowed is the suspension pair, for as
    # long as the issuer adds a suspension entry by default (issue 15 makes it an opt-in).
    assert summary.conformance_checked == 32
    assert set(summary.conformance_findings) <= {"status.suspension"}
    for document in overall:
        assert "proof" in document
        # Written in the learner's language (the other one rides along as a translation).
        name = document["credentialSubject"]["achievement"]["name"]
        assert name in {"Enseigner avec l'IA", "Teaching with AI"}
        # The overall credential points at the three module credentials it was earned with.
        assert len(document["evidence"]) == 3

    # One e-mail per credential (plus the revocation notice), in the learner's language.
    mails = [
        message_from_bytes(p.read_bytes(), policy=policy.default)
        for p in sorted((tmp_path / "mail").glob("*.eml"))
    ]
    assert summary.emails == 32
    assert len(mails) >= 32
    assert summary.emails_by_language == {"fr": 23, "en": 9}
    bodies = [m.get_body(preferencelist=("plain",)) for m in mails]
    texts = [body.get_content() for body in bodies if body is not None]
    assert sum(1 for text in texts if "/v1/claim/" in text) == 32

    # One signed webhook per credential, and the revocation.
    assert summary.webhook_signatures_ok
    assert summary.webhooks["credential.issued"] == 32
    assert summary.revocation_webhook
    assert (tmp_path / "webhooks.jsonl").exists()

    assert summary.verified_before == "verified"
    assert summary.verified_after == "not-verified"
    assert 0 < summary.revocation_visible_s < 15
    print(f"revocation visible after {summary.revocation_visible_s:.2f}s; {summary.steps_seconds}")
