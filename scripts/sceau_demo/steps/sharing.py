"""Step 6: a learner accepts a credential and shares it hiding the grade; an employer opens it.

The learner does over HTTP what their browser would: follow the link of the issuance e-mail (from
the SMTP sink), post the page's forms (accept, then a share with "hide the grade" ticked), and
download what the page offers (the share's QR code, the PDF certificate, the baked badge). The
employer then opens the share link at the verifier: the credential is verified at that moment, and
the document shown carries no grade. The learner's page counts the opening (the verifier's
``ShareOpenedV1`` through Kafka to the issuer). Last, the college revokes the credential and the
employer's same link says so within seconds (the link itself stays open: with ``--keep-running``
it, and its QR code, show the revoked credential in a browser).
"""

from __future__ import annotations

import json
import re
import time
from email.message import EmailMessage
from typing import Any

import httpx

from sceau_credentials.results import CREDENTIAL_REVOKED
from sceau_demo.catalogue import CAPSTONE_GRADE, CAPSTONE_NAME, capstone_body
from sceau_demo.checks import StepFailed, eventually, expect, expect_file, until_verified
from sceau_demo.console import show_checks
from sceau_demo.learners import Learner
from sceau_demo.output import write_share_file
from sceau_demo.steps.issue import publish_achievement
from sceau_demo.steps.verification import status_problem
from sceau_demo.story import Story

#: What the learner names the link (a label for themselves; the employer never sees it).
SHARE_LABEL = "Commission scolaire des Laurentides (RH)"
LEARNER_PAGE = re.compile(r"https?://\S+/learn/[A-Za-z0-9_.\-]+")
SHARE_LINK = re.compile(r'href="(https?://[^"]+/s/[A-Za-z0-9_\-]+)"')
SHARE_QR = re.compile(r'href="[^"]*/shares/([A-Za-z0-9_\-]+)/qr\.png"')
#: What the share page says in French once the credential is revoked.
REVOKED_FR = "Ce titre a été révoqué"


def _text(message: EmailMessage) -> str:
    part = message.get_body(preferencelist=("plain",))
    return str(part.get_content()) if part is not None else ""


async def issue_capstone(story: Story, http: httpx.AsyncClient, learner: Learner) -> dict[str, Any]:
    """The college publishes the graded capstone and issues it to ``learner`` with the grade."""
    achievement_id = await publish_achievement(story, http, capstone_body())
    detail = expect(
        await http.post(
            story.url("issuer", "/v1/credentials"),
            headers=story.college.auth | {"Idempotency-Key": f"demo-{story.run_id}-capstone"},
            json={
                "achievement_id": achievement_id,
                "recipient": learner.recipient(),
                "results": [{"assessment": 1, "value": CAPSTONE_GRADE}],
            },
        ),
        201,
    )
    if CAPSTONE_GRADE not in json.dumps(detail["document"], ensure_ascii=False):
        raise StepFailed("the capstone credential does not carry the learner's grade")
    story.log(
        f"the college issues '{CAPSTONE_NAME['en']}' to {learner.name} with the grade "
        f"{CAPSTONE_GRADE} (POST /v1/credentials, credential {detail['credential_id'][:8]})"
    )
    return detail


async def learner_page_from_mail(story: Story, learner: Learner) -> tuple[str, EmailMessage]:
    """Wait for the capstone's issuance e-mail; return the learner page link it carries."""
    name = CAPSTONE_NAME[learner.language]

    async def arrived() -> tuple[str, EmailMessage] | None:
        for mail in story.smtp.unique():
            message = mail.message
            if learner.email in mail.envelope_to and name in str(message["Subject"]):
                found = LEARNER_PAGE.search(_text(message))
                if found:
                    return found.group(0), message
        return None

    result: tuple[str, EmailMessage] = await eventually(
        arrived, "the capstone e-mail with the learner page link", story.timeout_s
    )
    story.log(f"{learner.name} receives the e-mail '{result[1]['Subject']}' and opens its link")
    return result


async def step_share(story: Story, http: httpx.AsyncClient, learner: Learner) -> None:
    """6. Accept on the learner page, share hiding the grade, download; the employer opens."""
    detail = await issue_capstone(story, http, learner)
    page_url, message = await learner_page_from_mail(story, learner)
    write_share_file(story, "issuance-email.eml", message.as_bytes())
    story.summary.learner_page = page_url
    await accept(story, http, page_url, detail["credential_id"])
    share_url, share_id = await share_hiding_grade(story, http, page_url)
    await download_from_page(story, http, page_url, share_id)
    await employer_opens(story, http, share_url)
    await opening_counted(story, http, page_url)
    await revocation_through_the_link(story, http, detail["credential_id"], share_url)


async def accept(story: Story, http: httpx.AsyncClient, page_url: str, credential_id: str) -> None:
    """Post the page's accept form; the college then sees the consent on the credential."""
    expect_file(await http.get(page_url), "text/html")
    expect(await http.post(f"{page_url}/accept"), 303)
    story.log("the learner accepts the credential on their page (POST …/accept: consent recorded)")
    detail = expect(
        await http.get(
            story.url("issuer", f"/v1/credentials/{credential_id}"), headers=story.college.auth
        ),
        200,
    )
    consent = detail.get("consent") or {}
    if consent.get("state") != "accepted":
        raise StepFailed(f"the college does not see the learner's consent: {consent}")


async def share_hiding_grade(
    story: Story, http: httpx.AsyncClient, page_url: str
) -> tuple[str, str]:
    """Post the page's share form (30 days, grade hidden); return the link and its share id."""
    expect(
        await http.post(
            f"{page_url}/shares",
            data={"label": SHARE_LABEL, "expires_in_days": "30", "hide_result": "1"},
        ),
        303,
    )
    html = expect_file(await http.get(page_url), "text/html").decode("utf-8")
    links, qrs = SHARE_LINK.findall(html), SHARE_QR.findall(html)
    if len(links) != 1 or len(qrs) != 1:
        raise StepFailed(f"the learner page lists {len(links)} share links, {len(qrs)} QR codes")
    story.summary.share_url = links[0]
    story.log(f"share link '{SHARE_LABEL}' (30 days, grade hidden): {links[0][:60]}…")
    return links[0], qrs[0]


async def download_from_page(
    story: Story, http: httpx.AsyncClient, page_url: str, share_id: str
) -> None:
    """Save what the page offers: the share's QR code, the PDF certificate, the baked badge."""
    downloads = {
        "share-qr.png": (f"{page_url}/shares/{share_id}/qr.png", "image/png"),
        "certificate.pdf": (f"{page_url}/credential.pdf", "application/pdf"),
        "badge.png": (f"{page_url}/badge.png", "image/png"),
    }
    files = story.summary.share_files
    for name, (url, media_type) in downloads.items():
        files.append(
            write_share_file(story, name, expect_file(await http.get(url), media_type)).name
        )
    files.append(write_share_file(story, "share-link.txt", story.summary.share_url + "\n").name)
    folder = story.output / "share"
    story.log(f"downloaded from the page: QR code, PDF certificate, baked badge -> {folder}")


async def share_answer(http: httpx.AsyncClient, share_url: str) -> dict[str, Any]:
    """The share link opened as an API client would: the verifier's JSON answer, in English."""
    opened = await http.get(
        share_url, params={"lang": "en"}, headers={"Accept": "application/json"}
    )
    return expect(opened, 200)


async def employer_opens(story: Story, http: httpx.AsyncClient, share_url: str) -> None:
    """The employer opens the link: verified now, and the document shown carries no grade."""
    last = await until_verified(
        lambda: share_answer(http, share_url), "the share link verifies", story.timeout_s, 0.5
    )
    story.summary.share_verdict = last["outcome"]
    about = last.get("summary") or {}
    story.log(
        f"an employer opens the link — verifier: {last['outcome'].upper()} — issued by "
        f"{about['issuer']['name']}, '{about.get('achievement_name')}', {about.get('hours')} h"
    )
    show_checks(last)
    page = await http.get(share_url, headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    french = expect_file(page, "text/html").decode("utf-8")
    if "Titre vérifié" not in french or CAPSTONE_GRADE in french:
        raise StepFailed("the French share page does not say 'Titre vérifié' without the grade")
    shown = expect_file(await http.get(share_url, params={"download": "1"}), "application/")
    if CAPSTONE_GRADE in shown.decode("utf-8"):
        raise StepFailed("the document the employer can download still carries the grade")
    story.summary.share_grade_hidden = True
    story.summary.share_files.append(write_share_file(story, "shared-credential.json", shown).name)
    story.log(
        "the page (in French for this employer) says 'Titre vérifié'; neither the page nor the "
        "document it offers for download shows the grade"
    )


async def opening_counted(story: Story, http: httpx.AsyncClient, page_url: str) -> None:
    """The learner's page counts the opening (ShareOpenedV1: verifier -> Kafka -> issuer)."""
    count = re.compile(r"(?:Ouvert|Opened) ([1-9]\d*) (?:fois|times)")

    async def counted() -> int:
        found = count.search((await http.get(page_url)).text)
        return int(found.group(1)) if found else 0

    opened = await eventually(counted, "the opening counted on the learner page", story.timeout_s)
    story.summary.share_opened = opened
    story.log(f"the learner's page shows the link opened {opened} time(s) (access receipts)")


async def revocation_through_the_link(
    story: Story, http: httpx.AsyncClient, credential_id: str, share_url: str
) -> None:
    """The college revokes the credential; the employer's same link says so, within seconds."""
    started = time.monotonic()
    expect(
        await http.post(
            story.url("issuer", f"/v1/credentials/{credential_id}/revoke"),
            headers=story.college.auth,
            json={"reason_code": "issued-in-error", "note": "demo: seen through the share link"},
        ),
        200,
    )
    story.log("the college revokes the capstone; the employer opens the same link again …")

    async def says_revoked() -> dict[str, Any] | None:
        answer = await share_answer(http, share_url)
        return answer if status_problem(answer) == CREDENTIAL_REVOKED else None

    last: dict[str, Any] = await eventually(
        says_revoked, "the share link says revoked", story.timeout_s, interval_s=0.2
    )
    visible = time.monotonic() - started
    story.summary.share_verdict_after = last["outcome"]
    story.summary.share_revocation_visible_s = visible
    page = await http.get(share_url, headers={"Accept-Language": "fr-CA,fr;q=0.9"})
    if REVOKED_FR not in expect_file(page, "text/html").decode("utf-8"):
        raise StepFailed(f"the French share page does not say '{REVOKED_FR}'")
    reason = next(c for c in last["checks"] if c["name"] == "status")["reason_en"]
    story.log(
        f"verifier through the link: {last['outcome'].upper()} — {reason} (visible "
        f"{visible:.2f}s after the college's call; the page in French: '{REVOKED_FR} …')"
    )
