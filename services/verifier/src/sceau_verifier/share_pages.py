"""Answers of ``GET /s/{token}`` kept for as long as the share answer they were built from.

A share link opened again and again (an employer's browser reloading, a QR code scanned by a
room, a public link on a profile) asks the same question each time: the same document,
verified against the same status lists and trust answers. Verifying and rendering it again
costs more than the rest of the request, so the rendered answer (page bytes or JSON) is kept
per (issuer answer digest, language, media type) for ``shares.cache_ttl_s`` (2 s by default,
the share answer's own freshness): an opening within that time sends the kept bytes.

What an answer depends on, and how a change reaches it:

* the share itself (revoked, expired, hidden fields): every opening still resolves the token
  first (:class:`~sceau_verifier.shares.ShareClient`), so a 410 or 404 is never hidden behind
  a kept page, and a changed issuer answer has another digest, hence another key;
* status lists, trust answers and keys, time, passing failures: as for every kept answer
  (:mod:`sceau_verifier.kept_answers`); at most ``cache_ttl_s`` late, as the share answer
  already is.

The page says when the credential was checked (to the minute); ``ShareOpenedV1`` and
``VerificationCompletedV1`` are still published for every opening (see ``api/shares.py``).
Entries are bounded by count (``shares.page_cache_entries``; a page is a few tens of kB).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

from sceau_shared.events import VerificationCompletedV1
from sceau_verifier.kept_answers import KeptAnswers
from sceau_verifier.schemas import Lang

__all__ = ["Outcome", "PageKey", "RenderedShare", "SharePages"]

PageKey = tuple[str, Lang, Literal["html", "json"]]
"""(digest of the issuer's share answer, language, media kind)."""

Outcome = Literal["verified", "not-verified", "inconclusive"]


@dataclass(frozen=True)
class RenderedShare:
    """One share answer ready to send again.

    Attributes:
        body: the encoded page or JSON.
        media_type: its media type.
        headers: the answer's headers (media type aside).
        outcome: the verification's outcome (``ShareOpenedV1.answer``).
        reports: the ``VerificationCompletedV1`` events of the verification, published again
            (as new events) for each opening the answer serves.
    """

    body: bytes
    media_type: str
    headers: Mapping[str, str]
    outcome: Outcome
    reports: tuple[VerificationCompletedV1, ...]


SharePages = KeptAnswers[PageKey, RenderedShare]
"""Rendered share answers: :class:`~sceau_verifier.kept_answers.KeptAnswers` by page key."""
