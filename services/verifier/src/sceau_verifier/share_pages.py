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
* status lists and trust answers: ``StatusListPublishedV1`` and ``AccreditationChangedV1``
  (``consumers.py``) call :meth:`SharePages.invalidate`, which drops every kept answer *and*
  refuses answers computed before it (a verification still running when the event arrived
  read the old list: its answer must not be kept);
* time (a credential's expiry, a status list reaching its own ``ttl``, a DID document cache
  entry expiring): at most ``cache_ttl_s`` late, as the share answer already is;
* passing failures: an inconclusive answer (a status list or the registry out of reach, a
  timeout) is never kept.

The page says when the credential was checked (to the minute); ``ShareOpenedV1`` and
``VerificationCompletedV1`` are still published for every opening (see ``api/shares.py``).
Entries are bounded by count (``shares.page_cache_entries``; a page is a few tens of kB).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Literal

from sceau_shared.cache import TtlCache
from sceau_shared.events import VerificationCompletedV1
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


class SharePages:
    """Bounded, short-lived store of rendered share answers, dropped wholesale on invalidation.

    Args:
        ttl_s: how long an answer is sent again (0 keeps nothing).
        max_entries: answers kept at most (0 keeps nothing).
        clock: monotonic time source (injectable for tests).
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._keep = ttl_s > 0 and max_entries > 0
        self._cache: TtlCache[PageKey, RenderedShare] = TtlCache(
            ttl_s=ttl_s, max_entries=max(max_entries, 1), clock=clock
        )
        self._generation = 0
        self.hits = 0

    @property
    def generation(self) -> int:
        """Read before verifying; hand to :meth:`put` so a late answer is refused."""
        return self._generation

    def get(self, key: PageKey) -> RenderedShare | None:
        """The kept answer for ``key``, if still fresh."""
        found = self._cache.get(key) if self._keep else None
        if found is not None:
            self.hits += 1
        return found

    def put(self, key: PageKey, answer: RenderedShare, *, generation: int) -> bool:
        """Keep ``answer`` unless an invalidation happened since ``generation`` was read.

        Returns:
            Whether the answer is kept.
        """
        if not self._keep or generation != self._generation:
            return False
        self._cache.put(key, answer)
        return True

    def invalidate(self) -> None:
        """Drop every answer (a status list or an accreditation changed)."""
        self._generation += 1
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
