"""Issuer insights across the real services, and the insights page in a real browser (issue 17).

A college (onboarded at the registry) issues six credentials; an employer checks five of them at
the real verifier, once each, and one a second time. The verifier's ``VerificationCompletedV1``
events (a hash of the credential id, nothing about anyone) travel over Kafka to the issuer, whose
insights count them: 6 issued, 5 verified, 6 verifications (R73, R77). The institution's page
(``GET /v1/insights/page``, under its API key) is then read in headless Chromium in French and
English: bar charts as inline SVG named by a title and a description, each with its table, and
axe-core finds no serious or critical violation.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest
from system_support import System

from sceau_dev.testing import axe
from sceau_dev.testing.journeys import issue, onboard, verified_once_published, verify
from sceau_dev.testing.polling import eventually

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(600)]


async def test_verifications_are_counted_and_the_page_is_accessible(system: System) -> None:
    stack = system.stack
    issuer = stack.url("issuer")
    async with httpx.AsyncClient(timeout=30) as http:
        college = await onboard(http, stack, f"Indicateurs {uuid.uuid4().hex[:6]}")
        details = [
            await issue(http, stack, college, f"learner{n}.{uuid.uuid4().hex[:6]}@example.org")
            for n in range(6)
        ]
        await verified_once_published(http, stack, details[0]["document"])

        async def issued_counted() -> bool:
            answer = await http.get(f"{issuer}/v1/insights", headers=college.auth)
            cells = {a["achievement_id"]: a["counts"] for a in answer.json()["achievements"]}
            return cells.get(college.achievement_id, {}).get("issued") == 6

        # A verification is counted only for a credential the issuer has already counted as
        # issued (its event names the credential by hash only); the issued events are read in
        # batches, so wait for them first (docs/issuer.md, "Insights").
        await eventually(issued_counted, timeout_s=60, interval_s=0.5, message="issued counted")
        for detail in details[1:5]:
            assert (await verify(http, stack, detail["document"]))["verified"]
        assert (await verify(http, stack, details[0]["document"]))["verified"]

        last: dict[str, Any] = {}

        async def counted() -> bool:
            nonlocal last
            answer = await http.get(f"{issuer}/v1/insights", headers=college.auth)
            assert answer.status_code == 200, answer.text
            last = answer.json()
            cells = {a["achievement_id"]: a["counts"] for a in last["achievements"]}
            counts = cells.get(college.achievement_id, {})
            return counts.get("verifications") == 6 and counts.get("verified") == 5

        await eventually(
            counted,
            timeout_s=60,
            interval_s=0.5,
            message="verifications counted by the issuer",
            details=lambda: f"{last}\n{system.logs()}",
        )
        [achievement] = last["achievements"]
        assert achievement["counts"]["issued"] == 6
        assert achievement["counts"]["accepted"] == 0  # a zero of six names no one
        assert achievement["counts"]["revoked"] == 0

    async with (
        axe.chromium(axe.installed_chromium()) as browser,
        axe.axe_context(browser, extra_http_headers=college.auth) as context,
    ):
        page = await context.new_page()
        for lang, heading in (
            ("fr", "Indicateurs de l'établissement"),
            ("en", "Institution insights"),
        ):
            response = await page.goto(f"{issuer}/v1/insights/page?lang={lang}")
            assert response is not None
            assert response.status == 200
            assert "default-src 'none'" in response.headers["content-security-policy"]
            assert await page.get_attribute("html", "lang") == lang
            assert await page.locator("h1").count() == 1
            assert heading in await page.locator("h1").inner_text()
            charts = page.locator("svg[role=img]")
            assert await charts.count() == 2  # all achievements, then the one achievement
            for n in range(await charts.count()):
                chart = charts.nth(n)
                assert await chart.locator("title").count() == 1
                assert "6" in (await chart.locator("desc").text_content() or "")
            assert await page.locator("table").count() >= 2
            found = axe.blocking(await axe.axe_violations(page))
            assert not found, f"insights page ({lang}):\n{axe.describe(found)}"
        # No key, no page.
        async with httpx.AsyncClient(timeout=30) as http:
            assert (await http.get(f"{issuer}/v1/insights/page")).status_code == 401
