"""Every e-mail kind renders in French and in English, with its links and no other language."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from sceau_notifier.mail.render import EmailKind, EmailLinks, EmailRenderer, RenderedEmail
from sceau_shared.events import BilingualText, NotificationRequestedV1

LINKS = EmailLinks(verifier_url="https://verify.sceau.example", wallet_help_url=None)
CLAIM = "https://issuer.sceau.example/v1/claim/tok123"

# Words that belong to one language only (proper nouns such as LinkedIn or Open Badges excluded).
ENGLISH = ["Hello", "credential", "wallet", "employer", "Issued", "Reason", " the ", " and ",
           " your ", "Your ", "expires", "questions, contact", "This email"]  # fmt: skip
FRENCH = ["Bonjour", "titre", "portefeuille", "employeur", "délivr", "Motif", " le ", " et ",
          " votre ", "Votre ", "expire ", "courriel", "écrivez"]  # fmt: skip


def request(language: str, kind: str = "issued") -> NotificationRequestedV1:
    return NotificationRequestedV1(
        producer="tests",
        kind="issued" if kind in {"expiring", "expired", "survey"} else kind,
        credential_id="urn:uuid:8c1f0d4e-3d7a-4f51-9a0b-6f0c2e1d9a77",
        institution_id="cegep-test",
        recipient_email="zoe@example.org",
        recipient_name="Zoé <script>alert(1)</script>",
        language=language,
        institution_name=BilingualText(fr="Cégep de Sainte-Foy", en="Sainte-Foy College"),
        institution_contact="registrariat@cegep.example",
        achievement_name=BilingualText(fr="Secourisme", en="First Aid"),
        achievement_description=BilingualText(fr="Intervenir en urgence.", en="Respond fast."),
        issued_at=datetime(2026, 3, 1, tzinfo=UTC),
        valid_until=datetime(2028, 3, 1, tzinfo=UTC),
        claim_url=CLAIM,
        reason_code="issued_in_error",
        superseded_by="urn:uuid:new",
    )


def visible(text: str) -> str:
    """Text without URLs and HTML tags (a URL's parameters are not prose)."""
    text = re.sub(r"https?://\S+", " ", text)
    return re.sub(r"<[^>]+>", " ", text)


@pytest.mark.parametrize("kind", list(EmailKind))
@pytest.mark.parametrize("language", ["fr", "en"])
def test_every_email_renders_in_its_language(kind: EmailKind, language: str) -> None:
    email = EmailRenderer().render_request(request(language, kind.value), kind, LINKS, days_left=30)
    assert isinstance(email, RenderedEmail)
    assert email.subject
    assert "\n" not in email.subject
    assert "Secourisme" in email.subject if language == "fr" else "First Aid" in email.subject
    assert email.text.strip()
    assert f'<html lang="{language}">' in email.html
    assert "<script>" not in email.html  # autoescaped
    assert "&lt;script&gt;" in email.html
    others = ENGLISH if language == "fr" else FRENCH
    for part in (email.subject, visible(email.text), visible(email.html)):
        leftovers = [w for w in others if w in part]
        assert not leftovers, (kind, language, leftovers)
    if kind is not EmailKind.ISSUED:
        assert "registrariat@cegep.example" in email.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_issuance_email_has_claim_wallet_linkedin_and_verifier(language: str) -> None:
    email = EmailRenderer().render_request(request(language), EmailKind.ISSUED, LINKS)
    for part in (email.text, email.html):
        assert CLAIM in part
        assert "https://verify.sceau.example/" in part
        assert "https://www.linkedin.com/profile/add?startTask=CERTIFICATION_NAME" in part
    assert ("portefeuille" if language == "fr" else "wallet") in email.text
    date = "1er mars 2026" if language == "fr" else "March 1, 2026"
    assert date in email.text


@pytest.mark.parametrize("language", ["fr", "en"])
def test_status_emails_give_the_reason(language: str) -> None:
    email = EmailRenderer().render_request(request(language, "revoked"), EmailKind.REVOKED, LINKS)
    assert ("émis par erreur" if language == "fr" else "issued in error") in email.text


def test_a_javascript_claim_url_is_never_linked() -> None:
    req = request("fr").model_copy(update={"claim_url": "javascript:alert(1)"})
    email = EmailRenderer().render_request(req, EmailKind.ISSUED, LINKS)
    assert "javascript:" not in email.html
    assert "javascript:" not in email.text


STATUS_KINDS = [EmailKind.REVOKED, EmailKind.SUSPENDED, EmailKind.REINSTATED, EmailKind.SUPERSEDED]
PAGE = "https://issuer.sceau.example/learn/tok456"


@pytest.mark.parametrize("kind", STATUS_KINDS)
@pytest.mark.parametrize("language", ["fr", "en"])
def test_status_emails_carry_the_note_contact_and_learner_page(
    kind: EmailKind, language: str
) -> None:
    """R81: the institution's note, whom to contact and the learner's page, in both parts."""
    note = "Erreur de saisie <b>corrigée</b>"
    base = request(language, kind.value)
    email = EmailRenderer().render_request(
        base.model_copy(update={"note": note, "learner_page_url": PAGE}), kind, LINKS
    )
    assert note in email.text
    assert "Erreur de saisie &lt;b&gt;corrigée&lt;/b&gt;" in email.html  # escaped
    label = "Note de Cégep de Sainte-Foy" if language == "fr" else "Note from Sainte-Foy College"
    for part in (email.text, email.html):
        assert label in part
        assert PAGE in part
        assert "registrariat@cegep.example" in part
    without = EmailRenderer().render_request(base, kind, LINKS)
    assert "Note " not in without.text
    assert "/learn/" not in without.text


@pytest.mark.parametrize("kind", [EmailKind.ISSUED, EmailKind.REVOKED])
def test_a_monolingual_institution_is_named_in_a_french_email(kind: EmailKind) -> None:
    """R18: an English-only provider's names fill the French e-mail rather than leaving blanks."""
    req = request("fr", kind.value).model_copy(
        update={
            "institution_name": BilingualText(en="Example Academy"),
            "achievement_name": BilingualText(en="Welding"),
            "achievement_description": BilingualText(),
        }
    )
    email = EmailRenderer().render_request(req, kind, LINKS)
    assert "Welding" in email.subject
    assert "Example Academy" in email.text
    assert "« Welding »" in email.html


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_issuance_email_leads_to_the_wallet_section_of_the_page(language: str) -> None:
    """The wallet line points to the page's wallet section; no live offer travels by e-mail."""
    base = request(language).model_copy(update={"learner_page_url": PAGE})
    email = EmailRenderer().render_request(base, EmailKind.ISSUED, LINKS)
    button = (
        "Ajouter à mon portefeuille numérique" if language == "fr" else "Add to my digital wallet"
    )
    assert f'href="{PAGE}#wallet"' in email.html
    assert button in email.html
    heading = "L'AJOUTER À MON PORTEFEUILLE NUMÉRIQUE" if language == "fr" else "ADD IT TO MY"
    assert heading in email.text
    assert f"{PAGE}#wallet" in email.text
    for part in (email.text, email.html):
        assert "openid-credential-offer" not in part
        assert "dccrequest" not in part
        leftovers = [w for w in (ENGLISH if language == "fr" else FRENCH) if w in visible(part)]
        assert not leftovers, leftovers
    without = EmailRenderer().render_request(request(language), EmailKind.ISSUED, LINKS)
    assert "#wallet" not in without.html
