"""axe-core on every HTML e-mail, in French and in English: no serious or critical violation.

E-mails are rendered by the notifier's renderer with every optional field filled (learner's
page, share link, label, expiry, opening time), then loaded in headless Chromium.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from playwright.async_api import Browser

from sceau_dev.testing import axe
from sceau_notifier.mail.render import EmailKind, EmailLinks, EmailRenderer
from sceau_shared.events import BilingualText, NotificationRequestedV1

pytestmark = pytest.mark.integration

LINKS = EmailLinks(verifier_url="https://verify.sceau.example", wallet_help_url=None)


def _request(language: str, kind: EmailKind) -> NotificationRequestedV1:
    return NotificationRequestedV1(
        producer="tests",
        kind=(
            "issued"
            if kind in {EmailKind.EXPIRING, EmailKind.EXPIRED, EmailKind.SURVEY}
            else kind.value
        ),
        credential_id="urn:uuid:8c1f0d4e-3d7a-4f51-9a0b-6f0c2e1d9a77",
        institution_id="cegep-test",
        recipient_email="zoe@example.org",
        recipient_name="Zoé Tremblay",
        language=language,
        institution_name=BilingualText(fr="Cégep de Sainte-Foy", en="Sainte-Foy College"),
        institution_contact="registrariat@cegep.example",
        achievement_name=BilingualText(fr="Secourisme", en="First Aid"),
        achievement_description=BilingualText(fr="Intervenir en urgence.", en="Respond fast."),
        issued_at=datetime(2026, 3, 1, tzinfo=UTC),
        valid_until=datetime(2028, 3, 1, tzinfo=UTC),
        claim_url="https://issuer.sceau.example/v1/claim/tok",
        reason_code="issued_in_error",
        superseded_by="urn:uuid:new",
        learner_page_url="https://issuer.sceau.example/learn/tok",
        share_url="https://verify.sceau.example/s/share",
        share_label="Poste d'analyste",
        sender_name="Zoé Tremblay",
        share_expires_at=datetime(2027, 3, 1, tzinfo=UTC),
        opened_at=datetime(2026, 12, 5, 14, 5, tzinfo=UTC),
        note="Erreur de saisie corrigée",
        survey_url="https://survey.cegep.example/s/exit",
    )


@pytest.fixture(scope="module")
def chromium() -> str:
    return axe.installed_chromium()


@pytest.fixture
async def browser(chromium: str) -> AsyncIterator[Browser]:
    async with axe.chromium(chromium) as launched:
        yield launched


@pytest.mark.parametrize("language", ["fr", "en"])
async def test_every_html_email_is_accessible(browser: Browser, language: str) -> None:
    renderer = EmailRenderer()
    failures: list[str] = []
    async with axe.axe_context(browser) as context:
        page = await context.new_page()
        for kind in EmailKind:
            email = renderer.render_request(_request(language, kind), kind, LINKS, days_left=30)
            await page.set_content(email.html)
            found = axe.blocking(await axe.axe_violations(page))
            if found:
                failures.append(f"{language}/{kind.value}:\n{axe.describe(found)}")
    assert failures == [], "\n".join(failures)
