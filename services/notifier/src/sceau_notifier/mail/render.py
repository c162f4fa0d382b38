"""Render learner e-mails from the Jinja2 templates shipped in ``sceau_notifier/templates``.

Templates live as files (``<lang>/<kind>.txt`` and ``<lang>/<kind>.html``) so an institution's
operator can review and adapt the wording without reading code. The text template sets the subject
(``{% set subject = ... %}``); HTML is autoescaped, text is not (it is never interpreted).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from urllib.parse import urlsplit

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape

from sceau_notifier.mail.linkedin import add_to_profile_url
from sceau_notifier.mail.locale import Language, format_date, format_moment, reason_label
from sceau_shared.events import BilingualText, NotificationRequestedV1


class EmailKind(StrEnum):
    """Which template an e-mail uses (one per event kind, plus the two reminder kinds)."""

    ISSUED = "issued"
    REVOKED = "revoked"
    SUSPENDED = "suspended"
    REINSTATED = "reinstated"
    SUPERSEDED = "superseded"
    EXPIRING = "expiring"
    EXPIRED = "expired"
    #: A fresh link to the learner's page ("send me a new link").
    LEARNER_LINK = "learner-link"
    #: A share link a learner sends to someone else (an employer): addressed to that person.
    SHARED = "shared"
    #: Access receipt: one of the learner's share links was opened.
    SHARE_OPENED = "share-opened"
    #: The achievement's follow-up survey, some days after issuance (R75).
    SURVEY = "survey"


@dataclass(frozen=True)
class RenderedEmail:
    """The three parts of a rendered e-mail."""

    subject: str
    text: str
    html: str


def pick(text: BilingualText | None, language: Language) -> str:
    """Return the text in ``language``, falling back to the other one for unilingual names."""
    if text is None:
        return ""
    first, second = (text.fr, text.en) if language == "fr" else (text.en, text.fr)
    return (first or second).strip()


def web_url(value: str | None) -> str | None:
    """Return ``value`` if it is an absolute http(s) URL, else None (never link other schemes)."""
    if value and urlsplit(value).scheme in {"https", "http"} and urlsplit(value).netloc:
        return value
    return None


@dataclass(frozen=True)
class EmailLinks:
    """Service-wide links every e-mail may point to."""

    verifier_url: str
    wallet_help_url: str | None = None


def build_context(
    request: NotificationRequestedV1,
    kind: EmailKind,
    links: EmailLinks,
    *,
    days_left: int | None = None,
) -> dict[str, object]:
    """Turn a notification request into the variables the templates use.

    The learner's address is deliberately not in the context: no template can print it.
    """
    lang: Language = request.language
    achievement = pick(request.achievement_name, lang)
    institution = pick(request.institution_name, lang)
    verifier_page = links.verifier_url.rstrip("/") + "/"
    cert_url = web_url(request.verification_url) or verifier_page
    reason = pick(request.reason, lang) or reason_label(request.reason_code, lang)
    contact = (request.institution_contact or "").strip() or None
    return {
        "lang": lang,
        "kind": kind.value,
        "learner_name": (request.recipient_name or "").strip() or None,
        "achievement_name": achievement,
        "achievement_description": pick(request.achievement_description, lang) or None,
        "institution_name": institution,
        "credential_id": request.credential_id,
        "issued_on": format_date(request.issued_at, lang),
        "valid_until_on": format_date(request.valid_until, lang) if request.valid_until else None,
        "claim_url": web_url(request.claim_url),
        "verifier_url": verifier_page,
        "verification_url": cert_url,
        "wallet_help_url": links.wallet_help_url,
        "linkedin_url": add_to_profile_url(
            name=achievement,
            organization_name=institution,
            issued_at=request.issued_at,
            expires_at=request.valid_until,
            cert_url=cert_url,
            cert_id=request.credential_id,
        ),
        "reason": reason,
        "note": (request.note or "").strip() or None,
        "contact": contact,
        "contact_is_email": bool(contact and "@" in contact and " " not in contact),
        "superseded_by": request.superseded_by,
        "days_left": days_left,
        # Sharing (issue 14): the learner's page, and a share link with its label and expiry.
        "learner_page_url": web_url(request.learner_page_url),
        "share_url": web_url(request.share_url),
        "share_label": (request.share_label or "").strip() or None,
        "sender_name": (request.sender_name or "").strip() or None,
        "share_expires_on": (
            format_date(request.share_expires_at, lang) if request.share_expires_at else None
        ),
        "opened_at": format_moment(request.opened_at, lang) if request.opened_at else None,
        "survey_url": web_url(request.survey_url),
    }


class EmailRenderer:
    """Renders an e-mail's subject, text and HTML parts for a kind and a language."""

    def __init__(self, env: Environment | None = None) -> None:
        self._env = env or Environment(
            loader=PackageLoader("sceau_notifier", "templates"),
            autoescape=select_autoescape(enabled_extensions=("html",), default=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            # Templates ship with the package; checking their mtime on every e-mail is waste.
            auto_reload=False,
        )

    def render(
        self, kind: EmailKind, language: Language, context: dict[str, object]
    ) -> RenderedEmail:
        """Render both parts; the subject comes from the text template's ``subject`` variable."""
        text_module = self._env.get_template(f"{language}/{kind.value}.txt").make_module(context)
        subject = " ".join(str(getattr(text_module, "subject", "")).split())
        if not subject:
            raise ValueError(f"template {language}/{kind.value}.txt sets no subject")
        html = self._env.get_template(f"{language}/{kind.value}.html").render(
            {**context, "subject": subject}
        )
        return RenderedEmail(subject=subject, text=str(text_module).strip() + "\n", html=html)

    def render_request(
        self,
        request: NotificationRequestedV1,
        kind: EmailKind,
        links: EmailLinks,
        *,
        days_left: int | None = None,
    ) -> RenderedEmail:
        """Render the e-mail for a notification request."""
        context = build_context(request, kind, links, days_left=days_left)
        return self.render(kind, request.language, context)
