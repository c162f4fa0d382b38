"""The sharing journey of issue 14 in a real browser, across the four real services as processes.

One walk, as the people involved would take it, through the registry, issuer, verifier and
notifier started by :mod:`sceau_dev.testing.stack` (the session's ``system``), with the demo's real
SMTP sink and headless Chromium driven by Playwright:

1. a college (onboarded at the registry) issues a graded credential through the issuer's API;
2. the issuance e-mail arrives over SMTP; the learner opens it (its HTML in the browser) and
   follows the "open my credential page" link;
3. on their page (English) the learner accepts the credential and fills the share form, hiding the
   grade;
4. an employer opens the share link in another browser (French): "verified", and neither the page
   nor the document it offers for download holds the grade; the learner's page counts the opening
   (verifier -> Kafka -> issuer);
5. the college revokes the credential through the issuer's API; the employer reloads until the
   page says it is revoked;
6. the learner, now reading their page in French, revokes the share; the employer's link answers
   410 Gone.

axe-core (``sceau_dev.testing.axe``) runs on every page the walk shows, the HTML e-mail included:
no serious or critical violation. The pages carry no script of their own; the browser contexts let
axe's injected script run (the walk with JavaScript switched off is the learner page's own browser
test, ``tests/integration/issuer/test_issuer_learner_browser.py``).
"""

from __future__ import annotations

import json
import re
import uuid
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page
from system_support import System

from sceau_dev.testing import axe
from sceau_dev.testing.journeys import issue, onboard
from sceau_dev.testing.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]

#: A grade no other text on the pages could contain by chance.
GRADE = "Distinction 94/100"


async def _audit(page: Page, where: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation."""
    found = axe.blocking(await axe.axe_violations(page))
    assert not found, f"{where} ({page.url}):\n{axe.describe(found)}"


async def _issuance_mail(system: System, email: str) -> EmailMessage:
    def arrived() -> EmailMessage | None:
        for mail in system.smtp.unique():
            if email in mail.envelope_to:
                message: EmailMessage = mail.message
                return message
        return None

    message: EmailMessage = await eventually(
        arrived, timeout_s=60, message=f"issuance e-mail to {email}", details=system.logs
    )
    return message


def _body(message: EmailMessage, kind: str) -> str:
    part = message.get_body(preferencelist=(kind,))
    assert part is not None, f"the e-mail has no text/{kind} part"
    content: str = part.get_content()
    return content


async def _until(check: Any, what: str, system: System, interval_s: float = 1.0) -> None:
    await eventually(check, timeout_s=60, interval_s=interval_s, message=what, details=system.logs)


async def _follow_mail_link(learner: Page, message: EmailMessage, system: System) -> str:
    """The learner reads the HTML e-mail in the browser and clicks through to their page."""
    await learner.set_content(_body(message, "html"))
    await _audit(learner, "issuance e-mail (HTML)")
    async with learner.expect_navigation():
        await learner.get_by_role("link", name="Open my credential page").click()
    assert learner.url.startswith(f"{system.stack.url('issuer')}/learn/")
    assert await learner.get_attribute("html", "lang") == "en"
    await _audit(learner, "learner page, before consent")
    return learner.url


async def _accept_and_share(learner: Page, system: System) -> str:
    """Accept, then fill the share form with the grade hidden; return the share link."""
    await learner.get_by_role("button", name="I accept this credential").click()
    await learner.wait_for_load_state()
    assert "You accepted this credential." in await learner.content()
    await _audit(learner, "learner page, accepted")
    await learner.get_by_label("Link name").fill("Acme hiring")
    await learner.get_by_label("Hide the grade").check()
    await learner.get_by_role("button", name="Create the link").click()
    await learner.wait_for_load_state()
    links = learner.locator("a[href*='/s/']")
    assert await links.count() == 1
    share_url = await links.first.get_attribute("href")
    assert share_url is not None
    assert share_url.startswith(f"{system.stack.url('verifier')}/s/")
    qr_name = re.compile(r"QR code of the link\s?: Acme hiring")
    assert await learner.get_by_role("img", name=qr_name).count() == 1
    await _audit(learner, "learner page, with a share")
    return share_url


async def _employer_sees_verified_without_grade(
    employer: Page, share_url: str, original: dict[str, Any], system: System, tmp_path: Path
) -> None:
    """Verified (in French), and neither the page nor its download holds the grade."""

    async def verified() -> bool:
        answer = await employer.goto(share_url)
        assert answer is not None
        assert answer.status == 200, share_url
        return await employer.locator(".outcome-verified").count() == 1

    await _until(verified, "share page says verified", system)
    assert await employer.get_attribute("html", "lang") == "fr"
    shown = await employer.content()
    assert "Titre vérifié" in shown
    assert "le résultat" in shown  # the note naming what the learner withheld
    assert GRADE not in shown
    assert "noindex" in shown
    await _audit(employer, "share page, verified (fr)")
    async with employer.expect_download() as started:
        await employer.get_by_role("link", name="Télécharger le titre signé").click()
    download = await started.value
    saved = tmp_path / "shared-credential.json"
    await download.save_as(saved)
    document = json.loads(saved.read_text(encoding="utf-8"))
    assert GRADE not in json.dumps(document, ensure_ascii=False)
    assert "result" not in document["credentialSubject"]
    assert document["id"] != original["id"]
    assert document["credentialStatus"] == original["credentialStatus"]


async def _employer_sees_revoked(employer: Page, system: System) -> None:
    async def shows_revoked() -> bool:
        answer = await employer.reload()
        assert answer is not None
        assert answer.status == 200
        return "Ce titre a été révoqué" in await employer.content()

    await _until(shows_revoked, "share page says revoked", system)
    assert await employer.locator(".outcome-not-verified").count() >= 1
    assert await employer.locator(".outcome-verified").count() == 0
    await _audit(employer, "share page, credential revoked (fr)")


async def _learner_revokes_share_in_french(learner: Page) -> None:
    await learner.get_by_role("link", name="Français").click()
    await learner.wait_for_load_state()
    assert await learner.get_attribute("html", "lang") == "fr"
    await _audit(learner, "learner page (fr)")
    await learner.get_by_role("button", name="Révoquer « Acme hiring »").click()
    await learner.wait_for_load_state()
    assert "(révoqué)" in await learner.content()
    await _audit(learner, "learner page (fr), share revoked")


async def _employer_gets_gone(employer: Page, system: System) -> None:
    async def gone() -> bool:
        answer = await employer.reload()
        assert answer is not None
        return answer.status == 410

    await _until(gone, "share link answers 410", system, interval_s=0.5)
    assert await employer.get_attribute("html", "lang") == "fr"
    assert "Ce lien n'est plus valide" in await employer.content()
    await _audit(employer, "share page, 410 (fr)")


async def test_email_to_share_to_revocation_in_the_browser(system: System, tmp_path: Path) -> None:
    stack = system.stack
    email = f"jordan.{uuid.uuid4().hex[:8]}@learners.example"
    async with httpx.AsyncClient(timeout=30) as http:
        college = await onboard(http, stack, f"Partage {uuid.uuid4().hex[:6]}")
        detail = await issue(
            http, stack, college, email, name="Jordan Leblanc", language="en",
            results=[{"assessment": 1, "value": GRADE}],
        )  # fmt: skip
        # The signed original carries the grade: hiding it below is a real difference.
        assert GRADE in json.dumps(detail["document"], ensure_ascii=False)
        message = await _issuance_mail(system, email)
        assert str(message.get("Content-Language", "")).startswith("en")
        page_urls = re.findall(r"https?://\S+/learn/[A-Za-z0-9_.\-]+", _body(message, "plain"))
        assert page_urls

        async with (
            axe.chromium(axe.installed_chromium()) as browser,
            axe.axe_context(browser, locale="en-CA") as learner_context,
            axe.axe_context(browser, locale="fr-CA") as employer_context,
        ):
            learner = await learner_context.new_page()
            employer = await employer_context.new_page()
            learner_page = await _follow_mail_link(learner, message, system)
            assert learner_page == page_urls[0]  # the HTML and text parts agree
            share_url = await _accept_and_share(learner, system)
            await _employer_sees_verified_without_grade(
                employer, share_url, detail["document"], system, tmp_path
            )

            async def counted() -> bool:  # ShareOpenedV1: verifier -> Kafka -> issuer
                await learner.goto(learner_page)
                return bool(re.search(r"Opened [1-9]\d* times", await learner.content()))

            await _until(counted, "open count on the learner page", system)

            revoked = await http.post(
                f"{stack.url('issuer')}/v1/credentials/{detail['credential_id']}/revoke",
                headers=college.auth,
                json={"reason_code": "issued-in-error", "note": "journey test"},
            )
            assert revoked.status_code == 200, revoked.text
            await _employer_sees_revoked(employer, system)
            await _learner_revokes_share_in_french(learner)
            await _employer_gets_gone(employer, system)
