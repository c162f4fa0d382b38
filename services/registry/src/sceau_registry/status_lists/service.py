"""Status list publication: store each signed list once, serve its exact bytes many times.

The issuer signs; the registry never re-signs. Each ``StatusListPublishedV1`` carries a growing
``version``: the store keeps a list only if its version is newer than the stored one (a conditional
single-document upsert), so late, duplicated or replayed events cannot roll a list back. The served
bytes are the compact JSON of the signed credential as received, and the strong ETag is the SHA-256
of exactly those bytes, so every replica computes the same ETag for the same version.
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import re
from collections.abc import Mapping
from typing import Any, Final

from sceau_registry.status_lists.repository import StatusLists, StoredDocument
from sceau_shared.cache import RefreshingCache
from sceau_shared.events import StatusListPublishedV1, utcnow

_log = logging.getLogger(__name__)

LIST_ID: Final = re.compile(r"^[A-Za-z0-9._~-]{1,200}$")


def strong_etag(body: bytes) -> str:
    """Return the strong ETag of ``body`` (quoted base64url SHA-256)."""
    digest = hashlib.sha256(body).digest()
    return '"' + base64.urlsafe_b64encode(digest).rstrip(b"=").decode() + '"'


def max_age_of(ttl_ms: int | None, credential: Mapping[str, Any], default_s: int) -> int:
    """Cache lifetime in seconds: the event's ``ttl``, else the credential's, else the default.

    Bitstring Status List v1.0 puts ``ttl`` (milliseconds) in ``credentialSubject``.
    """
    if ttl_ms is None:
        subject = credential.get("credentialSubject")
        ttl = subject.get("ttl") if isinstance(subject, Mapping) else None
        if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0:
            ttl_ms = ttl
    if ttl_ms is None:
        return default_s
    return ttl_ms // 1000


def etag_matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110 If-None-Match (weak comparison): ``*`` or any listed tag equal to ``etag``."""
    if not if_none_match:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    for candidate in if_none_match.split(","):
        if candidate.strip().removeprefix("W/") == opaque:
            return True
    return False


class StatusListService:
    """Keeps the newest version of every status list and serves it from memory."""

    def __init__(
        self,
        store: StatusLists,
        *,
        default_max_age_s: int,
        cache_ttl_s: float,
        cache_max_entries: int,
    ) -> None:
        self._store = store
        self._default_max_age_s = default_max_age_s
        self._cache: RefreshingCache[str, StoredDocument] = RefreshingCache(
            store.get, ttl_s=cache_ttl_s, max_entries=cache_max_entries
        )

    async def publish(self, event: StatusListPublishedV1) -> bool:
        """Store the list in ``event`` unless a newer version is stored; True if stored."""
        if not LIST_ID.fullmatch(event.list_id):
            _log.warning("ignoring status list event %s: unusable list id", event.event_id)
            return False
        body = json.dumps(event.credential, separators=(",", ":"), ensure_ascii=False).encode()
        document = StoredDocument(
            key=event.list_id,
            version=event.version,
            body=body,
            etag=strong_etag(body),
            max_age_s=max_age_of(event.ttl_ms, event.credential, self._default_max_age_s),
        )
        stored = await self._store.store_if_newer(
            event.list_id,
            event.version,
            {
                "institution_id": event.institution_id,
                "issuer_did": event.issuer_did,
                "purpose": event.purpose.value,
                "list_url": event.list_url,
                "format": event.format,
                "body": document.body,
                "etag": document.etag,
                "max_age_s": document.max_age_s,
                "published_at": event.occurred_at,
                "stored_at": utcnow(),
                "event_id": str(event.event_id),
            },
        )
        if stored:
            self._cache.put(event.list_id, document)
        else:
            self._cache.invalidate(event.list_id)  # re-read the stored (newer) truth next time
        return stored

    def cached(self, list_id: str) -> StoredDocument | None:
        """The list if this replica holds a copy in memory (no waiting; see RefreshingCache)."""
        return self._cache.peek(list_id)

    async def get(self, list_id: str) -> StoredDocument | None:
        """The newest stored version of a list (from memory, reloaded every ``cache_ttl_s``)."""
        return await self._cache.get(list_id)
