"""Answers kept for a couple of seconds and sent again, dropped wholesale when the world changes.

The same question is often asked again and again within seconds: a share link reloaded, a
credential checked by every employer of a job fair, a wallet or an applicant-tracking system
polling. Verifying it again reads the same status lists and trust answers and gives the same
answer, so an answer is kept per question for a short TTL and sent again as it was.

What keeps a kept answer true, for every user of this class:

* status lists, accreditations and keys: the invalidation consumers (``consumers.py``) call
  :meth:`KeptAnswers.invalidate`, which drops every kept answer *and* refuses answers computed
  before it (:meth:`KeptAnswers.generation` is read before verifying and handed to
  :meth:`KeptAnswers.put`: a verification still running when the event arrived read the old
  state, so its answer is not kept);
* what the verifier reads from outside (a status list, a DID document, the registry's trust
  answers, fetched again when their own cache time is over, or every time when their owner
  says ``no-store``): ``stamp`` changes with every such read (:class:`OutboundReads` counts the
  requests of the client that reads them; for status lists and trust answers, with every one
  that is new or differs from the one held or given before: ``StatusListCache.changes``,
  ``RegistryClient.changes``), and an answer is sent again only while the stamp it was
  computed under is current, so an answer is never kept longer than its inputs are
  (the issuer's supersession notice, itself cached and only a warning, may be ``ttl_s`` late);
* time (a credential's expiry): an answer is at most ``ttl_s`` late, and it says when it was
  computed;
* passing failures: callers never keep an inconclusive answer (a status list or the registry
  out of reach, a timeout), so the next request tries again.

Bounded by entry count and, when given a weight, by total weight (the verify answers: their
bytes and their events). Each worker process keeps its own (each has its own consumers).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Final, Generic, TypeVar

import httpx

from sceau_shared.cache import TtlCache
from sceau_shared.events import VerificationCompletedV1
from sceau_verifier.baked import IMAGE_MEDIA_TYPES

__all__ = [
    "UNKEPT_MEDIA",
    "KeptAnswers",
    "KeptVerification",
    "OutboundReads",
    "VerifyAnswers",
    "VerifyKey",
    "question_key",
    "weigh_verification",
]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class KeptAnswers(Generic[K, V]):
    """Bounded, short-lived store of answers, dropped wholesale on invalidation.

    Args:
        ttl_s: how long an answer is sent again (0 keeps nothing).
        max_entries: answers kept at most (0 keeps nothing).
        clock: monotonic time source (injectable for tests).
        stamp: the state of the inputs answers are computed from (an answer computed under
            another stamp is neither kept nor sent again); constant by default.
        max_bytes: with ``weigh``, the kept answers' total weight at most (the least recently
            used go first; an answer heavier than that is not kept): a public endpoint's
            memory stays bounded whatever sizes strangers' questions have.
        weigh: an answer's weight in bytes.
    """

    def __init__(
        self,
        *,
        ttl_s: float,
        max_entries: int,
        clock: Callable[[], float] = time.monotonic,
        stamp: Callable[[], Hashable] = lambda: 0,
        max_bytes: int | None = None,
        weigh: Callable[[V], int] | None = None,
    ) -> None:
        self._keep = ttl_s > 0 and max_entries > 0
        self._cache: TtlCache[K, tuple[Hashable, V]] = TtlCache(
            ttl_s=ttl_s,
            max_entries=max(max_entries, 1),
            clock=clock,
            max_weight=max_bytes,
            weigh=(lambda item: weigh(item[1])) if weigh is not None else None,
        )
        self._generation = 0
        self._stamp = stamp
        self.hits = 0

    @property
    def keeping(self) -> bool:
        """Whether anything is kept at all (a TTL and a size above 0)."""
        return self._keep

    @property
    def generation(self) -> Hashable:
        """Read before verifying; hand to :meth:`put` so a late answer is refused."""
        return (self._generation, self._stamp())

    def get(self, key: K) -> V | None:
        """The kept answer for ``key``, if still fresh and computed under today's inputs."""
        found = self._cache.get(key) if self._keep else None
        if found is None:
            return None
        if found[0] != self.generation:
            self._cache.invalidate(key)
            return None
        self.hits += 1
        return found[1]

    def put(self, key: K, answer: V, *, generation: Hashable) -> bool:
        """Keep ``answer`` unless an invalidation or a read happened since ``generation``.

        Returns:
            Whether the answer is kept.
        """
        if not self._keep or generation != self.generation:
            return False
        self._cache.put(key, (generation, answer))
        return self._cache.get(key) is not None  # not when heavier than the whole bound

    def invalidate(self) -> None:
        """Drop every answer (a status list, an accreditation or a key changed)."""
        self._generation += 1
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)


class OutboundReads:
    """Counts the requests of an HTTP client (an ``httpx`` request hook).

    Every status list, DID document or refresh service the verifier reads from a credential's
    URLs goes through its guarded client; a kept answer's stamp includes this count (and the
    registry client's and status list cache's changes), so a read (a cache time over, a
    ``no-store`` document, a new document) stops every answer computed before it from being
    sent again. ``counted_elsewhere`` names the requests whose reader counts what changed
    itself (the status list cache: a list read again unchanged is no change).
    """

    def __init__(self, counted_elsewhere: Callable[[str], bool] | None = None) -> None:
        self.count = 0
        self._elsewhere = counted_elsewhere

    async def on_request(self, request: httpx.Request) -> None:
        """The hook: one more request, unless its reader counts it."""
        if self._elsewhere is None or not self._elsewhere(str(request.url)):
            self.count += 1


VerifyKey = tuple[str, str, str, str | None, str | None]
"""A ``POST /v1/verify`` question: (body digest, media type, language, challenge, domain)."""

UNKEPT_MEDIA: Final = frozenset({"multipart/form-data", *IMAGE_MEDIA_TYPES})
"""Bodies whose answers are not kept: uploads and baked images (large, rarely asked twice)."""


def question_key(
    digest: str, media: str, lang: str, challenge: str | None, domain: str | None
) -> VerifyKey | None:
    """The key of a ``POST /v1/verify`` question, or ``None`` when its answer is not kept.

    The route and the gate (``api/kept_gate.py``) both build keys here, so a kept answer is
    found exactly for the questions the route kept it for.
    """
    if media in UNKEPT_MEDIA:
        return None
    return (digest, media, lang, challenge, domain)


@dataclass(frozen=True)
class KeptVerification:
    """One ``POST /v1/verify`` answer ready to send again.

    Attributes:
        body: the encoded JSON answer (it says when it was computed: ``verified_at``).
        reports: the ``VerificationCompletedV1`` events reported for it, published again (as
            new events) each time the answer is served.
    """

    body: bytes
    reports: tuple[VerificationCompletedV1, ...]


VerifyAnswers = KeptAnswers[VerifyKey, KeptVerification]
"""Kept ``POST /v1/verify`` answers."""

REPORT_WEIGHT: Final = 1024
"""What one kept ``VerificationCompletedV1`` is counted as, in bytes (a generous bound)."""


def weigh_verification(kept: KeptVerification) -> int:
    """A kept answer's weight: its bytes and its events (a presentation's answer has many)."""
    return len(kept.body) + REPORT_WEIGHT * len(kept.reports)
