"""Endorsements at the verifier: each embedded endorsement checked on its own (API and page).

The registry is the loopback stand-in over real HTTP; credentials and endorsements are signed
by the engine (nothing mocked). An endorsement is "verified" only when its proof holds and its
endorser is a registered, active endorser; a forged, tampered, unregistered, role-less or
since-suspended one is "unverified" with its reasons (FR/EN) — and the credential itself stays
verified. The page shows the same in French and English, without axe violations.
"""

from __future__ import annotations

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser
from test_page_browser import (
    SHOTS,
    chromium,  # noqa: F401 - the session fixture (setup-browser.sh)
)
from verifier_support import (
    Issuer,
    RegistryStandIn,
    StatusList,
    build_app,
    serve,
    settings_for,
    verifier_client,
)

from sceau_dev.testing import axe

pytestmark = pytest.mark.integration

ACHIEVEMENT = "https://boreal.example/achievements/ai-teaching"
ORDRE = {"fr": "Ordre des enseignants", "en": "Order of Teachers"}


@dataclass
class World:
    registry: RegistryStandIn
    base: str
    issuer: Issuer
    endorser: Issuer
    revocation: StatusList

    async def credential(self, *endorsements: dict[str, Any]) -> dict[str, Any]:
        signed, _ = await self.issuer.issue(
            lists=[self.revocation], achievement_id=ACHIEVEMENT, endorsements=list(endorsements)
        )
        assert isinstance(signed, dict)
        return signed


@pytest.fixture
async def world() -> AsyncIterator[World]:
    registry = RegistryStandIn()
    async with serve(registry.app()) as base:
        issuer = Issuer()
        revocation = issuer.add_list(base, "revocation")
        await issuer.sign_list(revocation)
        registry.register(issuer)
        endorser = Issuer(name=dict(ORDRE))
        registry.register(endorser, roles=("endorser",))
        yield World(registry, base, issuer, endorser, revocation)


async def verify(world: World, document: dict[str, Any], lang: str = "en") -> dict[str, Any]:
    async with verifier_client(settings_for(world.base)) as client:
        answer = await client.post(f"/v1/verify?lang={lang}", json=document)
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    assert body["verified"] is True, body["checks"]  # whatever the endorsements say
    return body


def codes(endorsement: dict[str, Any]) -> list[str]:
    return [r["code"] for r in endorsement["reasons"]]


class TestEndorsementAnswers:
    async def test_registered_endorser_is_verified_in_both_languages(self, world: World) -> None:
        endorsement = await world.endorser.endorse(ACHIEVEMENT)
        credential = await world.credential(endorsement)
        [english] = (await verify(world, credential, "en"))["endorsements"]
        assert english["status"] == "verified"
        assert english["verified"] is True
        assert english["message"] == "Endorsed by Order of Teachers — verified"
        assert english["endorser"]["did"] == world.endorser.did
        assert english["endorser"]["name_source"] == "registry"
        assert english["comment"] == "Recognised for teachers' continuing education."
        assert english["holder"] == "achievement"
        assert english["endorsed"] == ACHIEVEMENT
        assert english["reasons"] == []
        [french] = (await verify(world, credential, "fr"))["endorsements"]
        assert french["message"] == "Approuvé par Ordre des enseignants — vérifié"
        assert french["comment"] == "Reconnu pour la formation continue des enseignants."

    async def test_suspended_endorser_is_unverified(self, world: World) -> None:
        credential = await world.credential(await world.endorser.endorse(ACHIEVEMENT))
        standing = world.registry.standings[world.endorser.did]
        standing.timeline.append((datetime.now(UTC) - timedelta(seconds=5), "suspended"))
        [found] = (await verify(world, credential, "fr"))["endorsements"]
        assert found["status"] == "unverified"
        assert codes(found) == ["not_endorser_now"]
        assert found["message"] == "Approbation par Ordre des enseignants — non vérifiée"
        assert "suspendu" in found["reasons"][0]["message_fr"]
        assert "suspended" in found["reasons"][0]["message_en"]

    async def test_tampered_endorsement_is_unverified_and_the_credential_still_verified(
        self, world: World
    ) -> None:
        genuine = await world.endorser.endorse(ACHIEVEMENT)
        tampered = copy.deepcopy(genuine)
        tampered["credentialSubject"]["endorsementCommentMap"]["en"] = "Best course ever."
        credential = await world.credential(genuine, tampered)
        answer = await verify(world, credential)
        first, second = answer["endorsements"]
        assert first["status"] == "verified"
        assert second["status"] == "unverified"
        assert codes(second) == ["proof_invalid"]
        # An unproven endorsement's signer is unknown: its claimed name is shown as such.
        assert second["endorser"]["name_source"] == "endorsement"

    async def test_forged_with_another_key_is_unverified(self, world: World) -> None:
        impostor = Issuer(name=dict(ORDRE))
        forged = await impostor.endorse(ACHIEVEMENT)
        forged_issuer = dict(forged["issuer"])
        forged_issuer["id"] = world.endorser.did  # claims the real body's DID
        forged = {**forged, "issuer": forged_issuer}
        [found] = (await verify(world, await world.credential(forged)))["endorsements"]
        assert codes(found) == ["proof_invalid"]

    async def test_unregistered_and_role_less_bodies_are_unverified(self, world: World) -> None:
        stranger = Issuer(name={"fr": "Inconnu", "en": "Unknown body"})
        issuer_only = Issuer(name={"fr": "Autre collège", "en": "Other college"})
        world.registry.register(issuer_only)  # an issuer, not an endorser
        credential = await world.credential(
            await stranger.endorse(ACHIEVEMENT), await issuer_only.endorse(ACHIEVEMENT)
        )
        unregistered, role_less = (await verify(world, credential))["endorsements"]
        assert codes(unregistered) == ["unregistered"]
        assert unregistered["endorser"]["name_source"] == "endorsement"
        assert codes(role_less) == ["not_endorser", "not_endorser_now"]
        assert role_less["message"] == "Endorsement by Other college — unverified"

    async def test_an_endorsement_of_another_achievement_is_unverified(self, world: World) -> None:
        elsewhere = await world.endorser.endorse("https://boreal.example/achievements/other")
        [found] = (await verify(world, await world.credential(elsewhere)))["endorsements"]
        assert codes(found) == ["other_subject"]

    async def test_expired_endorsement_and_credentials_without_any(self, world: World) -> None:
        lapsed = await world.endorser.endorse(
            ACHIEVEMENT,
            issued_at=datetime.now(UTC) - timedelta(days=400),
            valid_until=datetime.now(UTC) - timedelta(days=35),
        )
        [found] = (await verify(world, await world.credential(lapsed)))["endorsements"]
        assert codes(found) == ["expired"]
        assert (await verify(world, await world.credential()))["endorsements"] == []


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:  # noqa: F811 - uses the fixture
    async with axe.chromium(chromium) as launched:
        yield launched


@pytest.mark.parametrize(
    ("lang", "verified_text", "unverified_text", "heading"),
    [
        (
            "fr",
            "Approuvé par Ordre des enseignants — vérifié",
            "— non vérifiée",
            "Approbations",
        ),
        ("en", "Endorsed by Order of Teachers — verified", "— unverified", "Endorsements"),
    ],
)
async def test_page_shows_endorsements(
    world: World,
    browser: Browser,
    lang: str,
    verified_text: str,
    unverified_text: str,
    heading: str,
) -> None:
    genuine = await world.endorser.endorse(ACHIEVEMENT)
    tampered = copy.deepcopy(genuine)
    tampered["credentialSubject"]["endorsementComment"] = "Altered"
    credential = await world.credential(genuine, tampered)
    built = build_app(settings_for(world.base))
    SHOTS.mkdir(exist_ok=True)
    async with serve(built.app, lifespan=True) as url, axe.axe_context(browser) as context:
        page = await context.new_page()
        await page.goto(f"{url}/?lang={lang}")
        await page.fill("#credential", json.dumps(credential))
        async with page.expect_navigation():
            await page.click("button[type=submit]")
        assert await page.get_by_role("heading", name=heading).count() == 1
        items = page.locator("li.endorsement")
        assert await items.count() == 2
        assert verified_text in (await items.nth(0).inner_text())
        assert unverified_text in (await items.nth(1).inner_text())
        outcome = await page.locator("[role=status]").first.inner_text()
        assert ("Titre vérifié" if lang == "fr" else "Credential verified") in outcome
        await page.screenshot(path=str(SHOTS / f"endorsements-{lang}.png"), full_page=True)
        found = axe.blocking(await axe.axe_violations(page))
        assert found == [], axe.describe(found)
