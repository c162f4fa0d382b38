"""The employer's OpenID4VP page in headless Chromium, French and English, checked by axe-core.

The employer fills the form; the page shows the QR code and the ``openid4vp://`` link and
polls; the wallet library (``oid4vp-wallet.mjs``) answers from the link the page shows; the
page turns by itself into the explained answer. Also: the page of a request opened without
its cookie (another browser) is a 404 page, and no serious or critical axe violation anywhere.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import AsyncIterator
from typing import Any

import pytest
from oid4vp_support import bound_credential, holder_keys, oid4vp_settings, wallet
from playwright.async_api import Browser, Page
from pymongo import AsyncMongoClient
from test_page_browser import chromium  # noqa: F401 - the session fixture (setup-browser.sh)
from verifier_support import (
    Built,
    Issuer,
    RegistryStandIn,
    build_app,
    free_port,
    serve,
    settings_for,
)

from sceau_credentials.keys import SigningKey
from sceau_dev.testing import axe
from sceau_dev.testing.fixtures import Endpoints
from sceau_shared.events import VerificationCompletedV1
from sceau_shared.settings import HttpSettings

pytestmark = [pytest.mark.integration, pytest.mark.interop]

ACHIEVEMENT = "https://boreal.example/achievements/page-check"


@pytest.fixture
async def site(
    real_endpoints: Endpoints, unique_id: str
) -> AsyncIterator[tuple[str, Issuer, Built]]:
    registry = RegistryStandIn()
    issuer = Issuer()
    registry.register(issuer)
    database = f"t_{unique_id}_page"
    mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(real_endpoints.mongo_uri)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        async with serve(registry.app()) as base:
            built = build_app(
                settings_for(
                    base,
                    http=HttpSettings(port=port, public_base_url=url),
                    oid4vp=oid4vp_settings(real_endpoints.mongo_uri, database),
                )
            )
            async with serve(built.app, port, lifespan=True):
                yield url, issuer, built
    finally:
        await mongo.drop_database(database)
        await mongo.close()


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:  # noqa: F811 - uses the fixture
    async with axe.chromium(chromium) as launched:
        yield launched


async def _no_blocking_violation(page: Page) -> None:
    found = axe.blocking(await axe.axe_violations(page))
    assert found == [], f"{page.url}\n{axe.describe(found)}"


@pytest.mark.parametrize(
    ("lang", "asked", "answered"),
    [
        ("fr", "Demande de présentation", "Enseigner avec l'IA"),
        ("en", "Presentation request", "Teaching with AI"),
    ],
)
async def test_the_employer_page_asks_a_wallet_and_shows_the_answer(
    site: tuple[str, Issuer, Built], browser: Browser, lang: str, asked: str, answered: str
) -> None:
    url, issuer, built = site
    holder = SigningKey.generate()
    credential = await bound_credential(issuer, holder, ACHIEVEMENT)
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        response = await page.goto(f"{url}/oid4vp?lang={lang}")
        assert response is not None
        assert response.status == 200
        assert await page.get_attribute("html", "lang") == lang
        await _no_blocking_violation(page)
        await page.fill("#achievement_id", ACHIEVEMENT)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#oid4vp-wait")
        assert asked in await page.content()
        assert await page.locator("svg[role=img]").count() == 1  # the QR code, named
        await _no_blocking_violation(page)
        link = await page.get_attribute("#oid4vp-wait a[href^='openid4vp://']", "href")
        assert link is not None
        got = await wallet(
            {"link": html.unescape(link), "holder": holder_keys(holder), "credential": credential}
        )
        assert got["status"] == 200, got
        # The page polls and turns into the answer by itself.
        await page.wait_for_selector("#answer-heading", timeout=20_000)
        content = await page.content()
        assert answered in content
        assert holder.did_key in content
        # The accepted answer was reported once, like any verification (no personal data).
        [event] = [e for e in built.events if isinstance(e, VerificationCompletedV1)]
        assert event.credential_id_hash == hashlib.sha256(credential["id"].encode()).hexdigest()
        assert event.issuer_did == issuer.did
        await _no_blocking_violation(page)
        session = page.url
    # Another browser (no cookie) sees nothing of it.
    async with axe.axe_context(browser) as stranger:
        page = await stranger.new_page()
        response = await page.goto(session)
        assert response is not None
        assert response.status == 404
        assert not re.search(re.escape(answered), await page.content())
        await _no_blocking_violation(page)
