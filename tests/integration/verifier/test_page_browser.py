"""The verification page in a real browser (Debian Chromium, headless, driven by Playwright).

The browser is installed by ``scripts/setup-browser.sh`` (called here once per session);
``playwright install`` cannot download browsers on our machines, so Playwright drives the system
Chromium through ``executable_path``. JavaScript is switched off: the page must work without it.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser
from test_verifier_service import verifier_settings
from verifier_support import Issuer, RegistryStandIn, StatusList, serve

from sceau_dev.testing import axe
from sceau_shared.settings import KafkaSettings
from sceau_verifier.app import create_api

pytestmark = pytest.mark.integration

SHOTS = Path(tempfile.gettempdir()) / "sceau-verifier-page"


@pytest.fixture(scope="session")
def chromium() -> str:
    return axe.installed_chromium()


@pytest.fixture
async def site(kafka_settings: KafkaSettings) -> AsyncIterator[tuple[str, Issuer, StatusList]]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        app = create_api(verifier_settings(base, kafka_settings))
        async with serve(app, lifespan=True) as verifier:
            yield verifier, issuer, revocation


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with axe.chromium(chromium) as launched:
        yield launched


async def test_paste_verify_in_french_then_switch_to_english(
    site: Any, browser: Browser, tmp_path: Path
) -> None:
    base, issuer, revocation = site
    credential, _ = await issuer.issue(lists=[revocation])
    context = await browser.new_context(java_script_enabled=False, locale="fr-CA")
    page = await context.new_page()
    await page.goto(f"{base}/")
    assert await page.get_attribute("html", "lang") == "fr"
    assert await page.inner_text("h1") == "Vérifier un titre de compétences"
    await page.get_by_label("Contenu du titre (JSON ou JWT)").fill(json.dumps(credential))
    await page.get_by_role("button", name="Vérifier").click()
    await page.wait_for_load_state()
    status = page.get_by_role("status")
    assert "Titre vérifié" in await status.inner_text()
    assert "Collège Boréal" in await page.content()
    assert await page.get_by_role("heading", name="Ce que ce titre atteste").count() == 1
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "verified-fr.png"), full_page=True)
    await page.get_by_role("link", name="English").click()
    await page.wait_for_load_state()
    assert await page.get_attribute("html", "lang") == "en"
    assert await page.inner_text("h1") == "Verify a credential"
    await context.close()


async def test_upload_revoked_file_in_english(site: Any, browser: Browser, tmp_path: Path) -> None:
    base, issuer, revocation = site
    credential, index = await issuer.issue(lists=[revocation])
    await issuer.set_status(revocation, index, True)
    path = tmp_path / "badge.json"
    path.write_text(json.dumps(credential))
    context = await browser.new_context(java_script_enabled=False)
    page = await context.new_page()
    await page.goto(f"{base}/?lang=en")
    await page.get_by_label("Or upload the credential file").set_input_files(str(path))
    await page.get_by_role("button", name="Verify").click()
    await page.wait_for_load_state()
    assert "NOT verified" in await page.get_by_role("status").inner_text()
    checks = await page.locator("ul.checks li").all_inner_texts()
    revocation_line = next(line for line in checks if "Revocation and suspension" in line)
    assert revocation_line.startswith("Failed")
    assert "revoked" in revocation_line
    SHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SHOTS / "revoked-en.png"), full_page=True)
    await context.close()
