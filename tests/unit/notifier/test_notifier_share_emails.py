"""The sharing e-mails (issue 14): the learner's page, new links, shares sent, access receipts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from test_notifier_render import ENGLISH, FRENCH, LINKS, request, visible

from sceau_notifier.mail.render import EmailKind, EmailRenderer, RenderedEmail
from sceau_shared.events import NotificationKind

PAGE = "https://issuer.sceau.example/learn/learner-token-123"
SHARE = "https://verify.sceau.example/s/share-token-456"


def render(kind: EmailKind, language: str, **fields: object) -> RenderedEmail:
    req = request(language, kind.value).model_copy(update=fields)
    return EmailRenderer().render_request(req, kind, LINKS)


def no_other_language(email: RenderedEmail, language: str) -> None:
    others = ENGLISH if language == "fr" else FRENCH
    for part in (email.subject, visible(email.text), visible(email.html)):
        leftovers = [w for w in others if w in part]
        assert not leftovers, (language, leftovers)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_issued_leads_to_the_learner_page_and_keeps_the_claim_as_a_download(
    language: str,
) -> None:
    email = render(EmailKind.ISSUED, language, learner_page_url=PAGE)
    button = "Ouvrir la page de mon titre" if language == "fr" else "Open my credential page"
    assert f'<a href="{PAGE}"' in email.html
    assert button in email.html
    assert PAGE in email.text
    # The claim link stays, as a secondary download, after the page.
    assert email.text.index(PAGE) < email.text.index("https://issuer.sceau.example/v1/claim/")
    assert "Télécharger mon titre signé" in email.html or "Download my signed" in email.html
    # No more "send the file to the employer".
    assert "drops it" not in email.text
    assert "dépose" not in email.text
    no_other_language(email, language)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_issued_without_a_learner_page_keeps_the_claim_flow(language: str) -> None:
    email = render(EmailKind.ISSUED, language)
    assert "/learn/" not in email.text
    assert ("RÉCUPÉRER VOTRE TITRE" if language == "fr" else "CLAIM YOUR CREDENTIAL") in email.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_learner_link(language: str) -> None:
    email = render(EmailKind.LEARNER_LINK, language, learner_page_url=PAGE)
    assert PAGE in email.text
    assert f'<a href="{PAGE}"' in email.html
    assert ("Nouveau lien" if language == "fr" else "new link").lower() in email.subject.lower()
    assert ("ignorez ce message" if language == "fr" else "ignore this email") in email.text
    no_other_language(email, language)


@pytest.mark.parametrize("language", ["fr", "en"])
def test_shared_tells_the_employer_who_what_link_expiry_and_what_it_is(language: str) -> None:
    email = render(
        EmailKind.SHARED,
        language,
        recipient_name=None,
        sender_name="Zoé Tremblay",
        share_url=SHARE,
        share_label="Poste d'analyste",
        share_expires_at=datetime(2027, 3, 1, tzinfo=UTC),
    )
    assert "Zoé Tremblay" in email.subject
    for part in (email.text, email.html):
        assert "Zoé Tremblay" in part
        assert SHARE in part
        assert ("1er mars 2027" if language == "fr" else "March 1, 2027") in part
        assert ("micro-titre" if language == "fr" else "micro-credential") in part
        assert "Sainte-Foy" in part
    assert f'<a href="{SHARE}"' in email.html
    # Addressed to the employer: no "awarded in your name", no learner greeting.
    for part in (email.text, email.html):
        assert "in your name" not in part
        assert "à votre nom" not in part
    # The learner's private page and the share's label are the learner's, not the employer's.
    assert "/learn/" not in email.text + email.html
    assert "analyste" not in email.text + email.html
    no_other_language(email, language)


def test_shared_link_must_be_a_web_url() -> None:
    email = render(EmailKind.SHARED, "en", share_url="javascript:alert(1)", sender_name="Zoé")
    assert "javascript:" not in email.html + email.text
    assert "https://verify.sceau.example/" in email.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_share_opened_receipt(language: str) -> None:
    email = render(
        EmailKind.SHARE_OPENED,
        language,
        share_label="Poste d'analyste",
        share_url=SHARE,
        opened_at=datetime(2026, 12, 5, 14, 5, tzinfo=UTC),
        learner_page_url=PAGE,
    )
    moment = "5 décembre 2026, 14 h 05 UTC" if language == "fr" else "December 5, 2026, 14:05 UTC"
    for part in (email.text, email.html):
        assert moment in part
        assert PAGE in part
    assert "Poste d'analyste" in email.text
    assert "Poste d&#39;analyste" in email.html
    # The receipt says nothing about who opened the link (Sceau does not know).
    assert ("ne sait pas qui" if language == "fr" else "does not know who") in email.text
    no_other_language(email, language)


def test_every_notification_kind_has_its_email() -> None:
    # The intake picks the template with EmailKind(event.kind.value).
    for kind in NotificationKind:
        assert EmailKind(kind.value).value == kind.value
