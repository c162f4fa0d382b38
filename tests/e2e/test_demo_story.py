"""The README demo story, end to end, through the four real services as processes.

The same functions ``scripts/demo`` runs, with a cohort of 10 instead of 40: the operator
onboards a college, the college issues three modules through the batch API, the seven learners
who complete all three receive the overall credential automatically, every learner receives an
e-mail per credential (real SMTP) and the college a signed webhook per credential, and an
employer sees a credential verified, then revoked after the college revokes it. Then the sharing
scene: a learner accepts a graded capstone on their page and shares it hiding the grade, an
employer opens the link, the college revokes the credential and the same link says so; the
files it leaves in ``share/`` (link, QR code, PDF, baked badge, the employer's download) are
checked with real decoders (zxing-cpp for the QR codes, pypdfium2 for the PDF).
"""

from __future__ import annotations

import io
import json
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pypdfium2
import pytest
import zxingcpp
from PIL import Image
from system_support import System

from sceau_credentials.baking import extract

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
    # Every credential issued (the 32 above, the capstone and the share's derived copy) went
    # through the conformance check (1EdTech's OB 3.0 rules, status lists fetched from the
    # registry); the only finding allowed is the suspension pair, for as long as the issuer adds
    # a suspension entry by default (issue 15 makes it an opt-in).
    assert summary.conformance_checked == 34
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
    _check_sharing_scene(system, summary, tmp_path / "share")


def _check_sharing_scene(system: System, summary: Any, share: Path) -> None:
    """Step 6's outputs: what the learner downloaded and what the employer saw."""
    grade = system.demo.catalogue.CAPSTONE_GRADE
    url = summary.share_url
    assert summary.share_verdict == "verified"
    assert summary.share_grade_hidden
    assert summary.share_opened >= 1
    # The college's revocation, seen through the same link.
    assert summary.share_verdict_after == "not-verified"
    assert 0 < summary.share_revocation_visible_s < 15
    assert url.startswith(f"{system.config.url('verifier')}/s/")
    assert (share / "share-link.txt").read_text(encoding="utf-8").strip() == url

    # The QR code the learner downloaded leads to the share link.
    [decoded] = zxingcpp.read_barcodes(Image.open(share / "share-qr.png"))
    assert decoded.text == url

    # The PDF certificate: a PDF, in both languages, with a QR code to a share of its own.
    pdf_bytes = (share / "certificate.pdf").read_bytes()
    assert pdf_bytes.startswith(b"%PDF")
    pdf = pypdfium2.PdfDocument(pdf_bytes)
    text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "Attestation de titre" in text
    assert "Credential certificate" in text
    pages = [pdf[i].render(scale=3).to_pil() for i in range(len(pdf))]
    codes = [code.text for page in pages for code in zxingcpp.read_barcodes(page)]
    assert len(codes) == 1
    assert codes[0].startswith(f"{system.config.url('verifier')}/s/")

    # The baked badge carries the learner's own signed credential (grade included: it is theirs).
    badge = (share / "badge.png").read_bytes()
    Image.open(io.BytesIO(badge)).verify()
    baked = extract(badge)
    assert isinstance(baked, dict)
    assert "proof" in baked
    assert grade in json.dumps(baked, ensure_ascii=False)

    # What the employer could download: signed again by the college, without the grade.
    shown = json.loads((share / "shared-credential.json").read_text(encoding="utf-8"))
    assert "proof" in shown
    assert "result" not in shown["credentialSubject"]
    assert grade not in json.dumps(shown, ensure_ascii=False)
    assert shown["id"] != baked["id"]
    assert shown["credentialStatus"] == baked["credentialStatus"]

    # The e-mail the learner followed is kept beside them.
    mail = message_from_bytes((share / "issuance-email.eml").read_bytes(), policy=policy.default)
    body = mail.get_body(preferencelist=("plain",))
    assert body is not None
    assert "/learn/" in body.get_content()
