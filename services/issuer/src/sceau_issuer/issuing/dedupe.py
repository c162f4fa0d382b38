"""What makes a credential unique, and so what its ``_id`` is derived from.

Kept apart from :mod:`.service` so that readers of holdings (the series rules) derive the same
ids without importing the issuing mechanics.
"""

from __future__ import annotations

import hashlib

from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.issuing.schemas import RecipientInput


def dedupe_key(
    institution_id: str,
    achievement_id: str,
    version: int,
    recipient: RecipientInput,
    supersedes: str | None = None,
) -> str:
    """Identify "this recipient, this achievement version" (plus what it replaces, if any)."""
    return dedupe_key_of(
        institution_id, achievement_id, version, normalize_email(str(recipient.email)), supersedes
    )


def dedupe_key_of(
    institution_id: str,
    achievement_id: str,
    version: int,
    email_norm: str,
    supersedes: str | None = None,
) -> str:
    """:func:`dedupe_key` from a normalised email.

    Knowing it, "does this learner hold this achievement version?" is a primary-key lookup
    (:class:`sceau_issuer.series.holdings.Holdings`), never a scan of the credentials.
    """
    raw = f"{institution_id}|{achievement_id}@{version}|{email_norm}|{supersedes or ''}"
    return hashlib.sha256(raw.encode()).hexdigest()
