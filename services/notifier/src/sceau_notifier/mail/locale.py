"""Dates and reason codes in French and English, without a locale database.

Dates are written the way each language writes them in prose (``24 novembre 2026``,
``November 24, 2026``) in the learner's time zone-independent form: credentials carry UTC
instants and the calendar day in UTC is what the issuer intended.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

Language = Literal["fr", "en"]

_MONTHS: dict[Language, tuple[str, ...]] = {
    "fr": (
        "janvier", "février", "mars", "avril", "mai", "juin",
        "juillet", "août", "septembre", "octobre", "novembre", "décembre",
    ),
    "en": (
        "January", "February", "March", "April", "May", "June",
        "July", "August", "September", "October", "November", "December",
    ),
}  # fmt: skip

# Reason codes the issuer uses (field requirements R54); unknown codes are shown as given.
_REASONS: dict[str, dict[Language, str]] = {
    "issued_in_error": {"fr": "émis par erreur", "en": "issued in error"},
    "misconduct": {"fr": "manquement aux règles", "en": "misconduct"},
    "superseded": {"fr": "remplacé par une nouvelle version", "en": "replaced by a new version"},
    "corrected": {"fr": "corrigé", "en": "corrected"},
    "holder_request": {"fr": "à votre demande", "en": "at your request"},
    "under_review": {"fr": "en cours de vérification", "en": "under review"},
    "review_completed": {"fr": "vérification terminée", "en": "review completed"},
}


def format_date(value: datetime, language: Language) -> str:
    """Return the calendar date of ``value`` (in UTC) as written in prose."""
    day = value.astimezone(UTC)
    month = _MONTHS[language][day.month - 1]
    if language == "fr":
        ordinal = "1er" if day.day == 1 else str(day.day)
        return f"{ordinal} {month} {day.year}"
    return f"{month} {day.day}, {day.year}"


def format_moment(value: datetime, language: Language) -> str:
    """A date and a UTC time of day, as a person reads them (``5 décembre 2026, 14 h 05 UTC``)."""
    moment = value.astimezone(UTC)
    if language == "fr":
        return f"{format_date(moment, language)}, {moment.hour} h {moment.minute:02d} UTC"
    return f"{format_date(moment, language)}, {moment:%H:%M} UTC"


def reason_label(code: str | None, language: Language) -> str | None:
    """Return a readable label for a reason code (None when there is no code)."""
    if not code:
        return None
    known = _REASONS.get(code.strip().lower().replace("-", "_"))
    return known[language] if known else code
