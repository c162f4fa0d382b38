"""Render the learner's page (Jinja2, autoescaped; no JavaScript)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from sceau_issuer.learners.linkedin import add_to_profile_url
from sceau_issuer.learners.qr import qr_svg
from sceau_issuer.learners.service import LearnerContext, ShareView
from sceau_issuer.learners.texts import TEXTS
from sceau_shared.events import utcnow

_ENV = Environment(
    loader=PackageLoader("sceau_issuer.learners", "templates"),
    autoescape=select_autoescape(["html"]),
    auto_reload=False,
)


def _date(moment: datetime | None, lang: str) -> str:
    if moment is None:
        return ""
    return moment.strftime("%d/%m/%Y" if lang == "fr" else "%Y-%m-%d")


def achievement_name(ctx: LearnerContext) -> str:
    """The achievement's name as written in the signed credential."""
    document = ctx.credential.get("document")
    if isinstance(document, dict):
        achievement = (document.get("credentialSubject") or {}).get("achievement") or {}
        name = achievement.get("name")
        if isinstance(name, str):
            return name
    return str(ctx.credential.get("achievement_id", ""))


def render_page(
    ctx: LearnerContext,
    *,
    lang: str,
    base: str,
    institution: str,
    claim_url: str,
    shares: list[ShareView],
    max_days: int,
    downloads: list[dict[str, str]],
    message: str | None = None,
    error: str | None = None,
    wallet: dict[str, Any] | None = None,
) -> str:
    """The learner's page in ``lang`` (``base`` is the page's own path, token included)."""
    t = TEXTS[lang]
    now = utcnow()
    name = achievement_name(ctx)
    issued_at: datetime = ctx.credential["issued_at"]
    rows: list[dict[str, Any]] = []
    for share in shares:
        state = share.state(now)
        rows.append(
            {
                "share_id": share.share_id,
                "label": share.label,
                "url": share.url,
                "state_text": t[f"state_{state}"],
                "active": state == "active",
                "expires": _date(share.expires_at, lang) if share.expires_at else t["never"],
                "hidden": ", ".join(t[h] for h in share.hidden),
                "open_count": share.open_count,
                "last_opened": _date(share.last_opened_at, lang),
                "qr_svg": qr_svg(share.url, title=t["qr_title"].format(label=share.label))
                if state == "active"
                else "",
                "linkedin": add_to_profile_url(
                    name=name,
                    organization=institution,
                    issued_at=issued_at,
                    cert_url=share.url,
                    cert_id=f"urn:uuid:{ctx.credential_id}",
                )
                if state == "active"
                else "",
            }
        )
    status = str(ctx.credential.get("status", "active"))
    return _ENV.get_template("learner.html").render(
        lang=lang,
        other="en" if lang == "fr" else "fr",
        t=t,
        achievement=name,
        institution=institution,
        issued_on=_date(issued_at, lang),
        valid_until=_date(ctx.credential.get("valid_until"), lang),
        status=t.get(f"status_{status}", status),
        consent_text=t[f"consent_{ctx.consent['state']}"],
        accepted=ctx.accepted,
        base=base,
        claim_url=claim_url,
        downloads=downloads,
        shares=rows,
        max_days=max_days,
        message=message,
        error=error,
        wallet=wallet,
    )


def render_new_link(*, lang: str, done: bool) -> str:
    """The "send me a new link" form (and, after sending, the same answer for any address)."""
    return _ENV.get_template("new_link.html").render(
        lang=lang, other="en" if lang == "fr" else "fr", t=TEXTS[lang], done=done
    )
