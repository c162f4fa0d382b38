"""Memo of proofs that verified, so the same bytes are not canonicalized again per request.

The engine's ``ListStatusChecker`` verifies the list credential's proof every time it checks an
entry. For a list served from the cache that is the same bytes, the same signature and the same
key every time: repeating the RDFC canonicalization would halve the verifier's throughput. This
memo remembers *successful* outcomes keyed by a digest of the exact document for a bounded time
(the did:web document cache's TTL, after which a rotated-away key is noticed). Failures are not
remembered: they may come from a transient DID resolution error.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from typing import Any

from sceau_credentials.results import ProofOutcome, ProofVerifier
from sceau_shared.cache import TtlCache

__all__ = ["ProofMemo"]

_OBJECTS = 64
"""Documents whose digest is remembered by identity (status lists served from the cache)."""


def _digest(document: Any) -> str | None:
    if isinstance(document, str):
        return hashlib.sha256(document.encode()).hexdigest()
    if isinstance(document, Mapping):
        try:
            dumped = json.dumps(document, sort_keys=True, separators=(",", ":"))
        except (TypeError, ValueError, RecursionError):
            return None
        return hashlib.sha256(dumped.encode()).hexdigest()
    return None


class ProofMemo:
    """Wrap a proof verifier; reuse verified outcomes of identical documents for ``ttl_s``.

    Args:
        verifier: the engine's ``verify_proof(document, resolver)``.
        ttl_s: how long a verified outcome is reused.
        max_entries: bound on remembered outcomes (0 turns the memo off).
        clock: monotonic time source (injectable for tests).
    """

    def __init__(
        self,
        verifier: ProofVerifier,
        *,
        ttl_s: float,
        max_entries: int = 4096,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._verifier = verifier
        self._remember = ttl_s > 0 and max_entries > 0
        self._memo: TtlCache[str, ProofOutcome] = TtlCache(
            ttl_s=ttl_s, max_entries=max(max_entries, 1), clock=clock
        )
        self._objects: dict[int, tuple[Any, str]] = {}
        self.hits = 0

    async def __call__(self, document: Any, resolver: Any) -> ProofOutcome:
        """Verify ``document`` (or reuse the outcome of the identical document)."""
        key = self._key(document)
        if key is not None:
            cached = self._memo.get(key)
            if cached is not None:
                self.hits += 1
                return cached
        outcome = await self._verifier(document, resolver)
        if key is not None and outcome.verified and self._remember:
            self._memo.put(key, outcome)
        return outcome

    def hint(self, document: Any, key: str) -> None:
        """Key ``document`` by ``key`` (a digest of the exact request body it was parsed from).

        Hashing the bytes received is cheaper than serialising the parsed document again, and
        just as exact: equal bodies parse to equal documents, and a body differing by a byte
        only costs a memo miss.
        """
        if isinstance(document, Mapping):
            if len(self._objects) >= _OBJECTS:
                self._objects.clear()
            self._objects[id(document)] = (document, "body:" + key)

    def _key(self, document: Any) -> str | None:
        # The status list cache hands out the same (large) object on every request: remember
        # its digest by identity (holding the object, so its id cannot be reused meanwhile)
        # instead of serialising it again.
        known = self._objects.get(id(document))
        if known is not None and known[0] is document:
            return known[1]
        key = _digest(document)
        if key is not None and isinstance(document, Mapping):
            if len(self._objects) >= _OBJECTS:
                self._objects.clear()
            self._objects[id(document)] = (document, key)
        return key

    def clear(self) -> None:
        """Forget every outcome."""
        self._memo.clear()
        self._objects.clear()
