"""The learner page in a real browser (Debian Chromium, headless, JavaScript off), FR and EN.

Accessibility: axe-core (``sceau_dev.testing.axe``) finds no serious or critical violation on the
page before and after a share and a wallet offer are made, in both languages; the test also checks
the basics a screen reader needs (document language, a single h1, every form control labelled,
the QR codes' names).
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from issuer_support import IssuerHarness
from learner_support import issued_with_page
from playwright.async_api import Browser, Page

from sceau_dev.testing import axe
from sceau_dev.testing.registry_stand_in import serve
from sceau_issuer.app import create_api
from sceau_issuer.settings import IssuerSettings

pytestmark = pytest.mark.integration


@pytest.fixture(scope="session")
def chromium() -> str:
    return axe.installed_chromium()


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with axe.chromium(chromium) as launched:
        yield launched


async def _serious_violations(browser: Browser, url: str) -> str:
    """axe-core's serious/critical violations on ``url`` (read again in a context axe can run in).

    The journey itself runs with JavaScript off, as a learner's locked-down browser might; axe
    needs script, so the same page is loaded once more in its own context (a GET changes nothing).
    """
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        await page.goto(url)
        return axe.describe(axe.blocking(await axe.axe_violations(page)))


async def _basics(page: Page, lang: str) -> None:
    assert await page.get_attribute("html", "lang") == lang
    assert await page.locator("h1").count() == 1
    unlabelled = await page.evaluate(
        """() => [...document.querySelectorAll('input:not([type=hidden])')]
            .filter(i => !(i.labels && i.labels.length) && !i.getAttribute('aria-label'))
            .map(i => i.name)"""
    )
    assert unlabelled == []


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_learner_journey_in_the_browser(
    settings: IssuerSettings, browser: Browser, lang: str
) -> None:
    app = create_api(settings)
    async with serve(app, lifespan=True) as base:
        async with httpx.AsyncClient(base_url=base) as http:
            harness = IssuerHarness(app, http, settings)
            _, _, path = await issued_with_page(harness, f"browser-{lang}@example.org")
        context = await browser.new_context(java_script_enabled=False)
        page = await context.new_page()
        await page.goto(f"{base}{path}?lang={lang}")
        await _basics(page, lang)
        assert not await _serious_violations(browser, f"{base}{path}?lang={lang}")
        accept = "J'accepte ce titre" if lang == "fr" else "I accept this credential"
        await page.get_by_role("button", name=accept).click()
        await page.wait_for_load_state()
        label = "Nom du lien" if lang == "fr" else "Link name"
        await page.get_by_label(label).fill("Employeur / Employer")
        hide = "Masquer la note" if lang == "fr" else "Hide the grade"
        await page.get_by_label(hide).check()
        create = "Créer le lien" if lang == "fr" else "Create the link"
        await page.get_by_role("button", name=create).click()
        await page.wait_for_load_state()
        assert await page.get_attribute("html", "lang") == lang
        qr = "Code QR du lien :" if lang == "fr" else "QR code of the link:"
        assert await page.get_by_role("img", name=f"{qr} Employeur / Employer").count() == 1
        assert await page.locator("a[href*='/s/']").count() >= 1
        await _basics(page, lang)
        violations = await _serious_violations(browser, page.url)
        assert not violations, violations
        # The wallet offer: its QR code is one named image, the deep link and the code are shown.
        protect = "La protéger par un code" if lang == "fr" else "Protect it with a 6-digit code"
        await page.get_by_label(protect).check()
        offer = "Créer une offre" if lang == "fr" else "Make an offer for my wallet"
        await page.get_by_role("button", name=offer).click()
        await page.wait_for_load_state()
        wallet_qr = "Code QR de l'offre" if lang == "fr" else "QR code of the offer"
        assert await page.get_by_role("img", name=wallet_qr).count() == 1
        assert await page.locator("a[href^='openid-credential-offer://']").count() == 1
        # The same offer for the Learner Credential Wallet (its deep link and QR code).
        lcw_qr = "Code QR pour le Learner" if lang == "fr" else "Learner Credential Wallet QR"
        assert await page.get_by_role("img", name=lcw_qr).count() == 1
        assert await page.locator("a[href^='dccrequest://request?']").count() == 1
        await _basics(page, lang)
        violations = await _serious_violations(browser, page.url)
        assert not violations, violations
        other = "en" if lang == "fr" else "fr"
        await page.get_by_role("link", name="English" if lang == "fr" else "Français").click()
        await page.wait_for_load_state()
        assert await page.get_attribute("html", "lang") == other
        await context.close()
