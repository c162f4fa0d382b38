"""axe-core on the verifier's pages in headless Chromium: no serious or critical violation.

Pages checked in French and in English: the verification page (form, then an answer; a baked
badge uploaded, its credential superseded), and a share link answered 200 (verified), 200
(credential revoked), 410 (share withdrawn) and 404.
The issuer and the registry are loopback stand-ins; the verifier is its real app (no Kafka:
events go to memory).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import Browser
from test_page_browser import chromium  # noqa: F401 - the session fixture (setup-browser.sh)
from verifier_support import (
    Issuer,
    RegistryStandIn,
    SharesStandIn,
    StatusList,
    build_app,
    serve,
    settings_for,
    tiny_png,
)

from sceau_credentials.baking import bake_png
from sceau_dev.testing import axe
from sceau_verifier.settings import SharesSettings

pytestmark = pytest.mark.integration

LANGS = ("fr", "en")


@dataclass
class Site:
    url: str
    issuer: Issuer
    revocation: StatusList
    shares: SharesStandIn


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    registry = RegistryStandIn()
    shares = SharesStandIn()
    async with serve(registry.app()) as base, serve(shares.app()) as issuer_url:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        built = build_app(
            settings_for(base, shares=SharesSettings(issuer_url=issuer_url, cache_ttl_s=0))
        )
        async with serve(built.app, lifespan=True) as url:
            yield Site(url, issuer, revocation, shares)


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:  # noqa: F811 - uses the fixture
    async with axe.chromium(chromium) as launched:
        yield launched


async def _check(browser: Browser, url: str, *, status: int) -> None:
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        response = await page.goto(url)
        assert response is not None
        assert response.status == status, url
        found = axe.blocking(await axe.axe_violations(page))
        assert found == [], f"{url}\n{axe.describe(found)}"


@pytest.mark.parametrize("lang", LANGS)
async def test_verification_page(site: Site, browser: Browser, lang: str) -> None:
    await _check(browser, f"{site.url}/?lang={lang}", status=200)
    # The page with an answer (the form posted, as a person would, without JavaScript).
    credential, _ = await site.issuer.issue(lists=[site.revocation])
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        await page.goto(f"{site.url}/?lang={lang}")
        await page.fill("#credential", json.dumps(credential))
        async with page.expect_navigation():
            await page.click("button[type=submit]")
        assert await page.locator("[role=status]").count() >= 1
        found = axe.blocking(await axe.axe_violations(page))
        assert found == [], axe.describe(found)


@pytest.mark.parametrize("lang", LANGS)
async def test_baked_badge_upload_with_a_supersession_notice(
    site: Site, browser: Browser, lang: str, tmp_path: Any
) -> None:
    credential, _ = await site.issuer.issue(lists=[site.revocation])
    assert isinstance(credential, dict)
    replacement = "urn:uuid:0b5c7a4e-9a47-4c8e-8f7c-3a1e2d4c5b6a"
    site.shares.supersede(credential["id"], by=replacement, issuer_did=site.issuer.did)
    badge = tmp_path / "badge.png"
    badge.write_bytes(bake_png(tiny_png(), credential))
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        await page.goto(f"{site.url}/?lang={lang}")
        await page.set_input_files("#file", str(badge))
        async with page.expect_navigation():
            await page.click("button[type=submit]")
        notice: Any = await page.text_content(".superseded")
        assert replacement in notice
        assert ("Remplacé par" if lang == "fr" else "Superseded by") in notice
        assert await page.locator("p.note", has_text="PNG").count() == 1
        found = axe.blocking(await axe.axe_violations(page))
        assert found == [], axe.describe(found)


@pytest.mark.parametrize("lang", LANGS)
async def test_share_pages(site: Site, browser: Browser, lang: str) -> None:
    credential, _ = await site.issuer.issue(lists=[site.revocation])
    assert isinstance(credential, dict)
    verified, _ = site.shares.add(credential, hidden=("result",))
    await _check(browser, f"{site.url}/s/{verified}?lang={lang}", status=200)

    revoked_credential, index = await site.issuer.issue(lists=[site.revocation])
    assert isinstance(revoked_credential, dict)
    revoked, _ = site.shares.add(revoked_credential)
    await site.issuer.set_status(site.revocation, index, True)
    await _check_revoked(browser, site, revoked, lang)

    gone, _ = site.shares.add(credential, state="revoked")
    await _check(browser, f"{site.url}/s/{gone}?lang={lang}", status=410)
    await _check(browser, f"{site.url}/s/{'x' * 43}?lang={lang}", status=404)


async def _check_revoked(browser: Browser, site: Site, token: str, lang: str) -> None:
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        response = await page.goto(f"{site.url}/s/{token}?lang={lang}")
        assert response is not None
        assert response.status == 200
        text: Any = await page.text_content("main")
        # The status list was fetched before the revocation only if cached: this app is fresh.
        assert "révoqué" in text if lang == "fr" else "revoked" in text
        found = axe.blocking(await axe.axe_violations(page))
        assert found == [], axe.describe(found)


async def test_axe_does_see_violations(browser: Browser) -> None:
    # The checks above pass because the pages are right, not because axe did not run.
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        await page.set_content('<html><body><img src="x.png"><input type="text"></body></html>')
        found = {v.rule for v in axe.blocking(await axe.axe_violations(page))}
    assert {"image-alt", "label"} <= found
