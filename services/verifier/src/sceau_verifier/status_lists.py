"""Fetching status list credentials: host allow-list, SSRF guard, ``ttl``/ETag cache, invalidation.

This is the verifier's :class:`~sceau_credentials.status.StatusListFetcher`; the engine's
``ListStatusChecker`` verifies what it returns (proof, issuer, purpose) and decodes the bits.

Why each rule:

* **allow-list** — the URL comes from a credential anyone can write; only registry hosts serve
  Sceau status lists, so any other host is refused before DNS is even asked;
* **SSRF guard** (``safe_fetch``) — still applies to allowed hosts (a DNS record can change);
* **cache** — an employer checking 100 credentials of one cohort must not cost 100 fetches of the
  same list. Freshness comes from the list's ``ttl`` (milliseconds, Bitstring Status List §2.2),
  else ``Cache-Control: max-age``, else a default, capped by a maximum. A stale entry with an ETag
  is revalidated with ``If-None-Match`` (a 304 costs no body);
* **events** — :meth:`StatusListCache.publish` is called when a ``StatusListPublishedV1`` arrives:
  the entry is replaced by the list carried in the event (it is still signature-checked on use),
  so a revocation is visible at once, even before the registry has stored the new version.
  Versions never go backwards: an older event, or a registry still serving the previous version,
  does not overwrite a newer list;
* **failures** are raised, never cached and never answered from a stale entry: the checker turns
  them into an *inconclusive* status, never a valid one.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

import httpx

from sceau_credentials.ob3.fields import parse_datetime
from sceau_shared.cache import TtlCache
from sceau_shared.ssrf import FetchError, UnsafeUrlError, UrlPolicy, safe_fetch
from sceau_verifier.errors import StatusListUnavailable
from sceau_verifier.settings import StatusSettings

__all__ = ["StatusListCache", "host_allowed"]

_ACCEPTED_URLS = 1024
"""Status list URLs remembered as allowed (settings do not change while the process runs)."""

_ACCEPT: Final = "application/vc+ld+json, application/ld+json;q=0.9, application/json;q=0.8, " + (
    "application/vc+jwt;q=0.7, application/jwt;q=0.6"
)
_MAX_AGE: Final = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d{1,10})\s*(?:,|$)", re.IGNORECASE)
_JWT: Final = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")


def host_allowed(url: httpx.URL, allowed: list[str]) -> bool:
    """Whether ``url``'s host (and port) is on the allow-list.

    An entry ``host:port`` matches exactly; a bare ``host`` matches that host on the scheme's
    default port only, so allowing ``registry.example`` does not allow ``registry.example:6379``.
    """
    host = (url.host or "").lower()
    if ":" in host:  # IPv6 literal: httpx gives it without brackets
        host = f"[{host}]"
    default = 443 if url.scheme == "https" else 80
    port = url.port or default
    return f"{host}:{port}" in allowed or (port == default and host in allowed)


@dataclass(frozen=True, slots=True)
class _Entry:
    """A held list; ``expires_at`` is its own freshness (its ``ttl``), not the cache's."""

    document: Mapping[str, Any] | str
    etag: str | None
    expires_at: float
    valid_from: datetime | None
    version: int | None


def _valid_from(document: Mapping[str, Any] | str) -> datetime | None:
    if isinstance(document, str):
        return None
    return parse_datetime(document.get("validFrom") or document.get("issuanceDate"))


def _ttl_of(document: Mapping[str, Any] | str, cache_control: str | None) -> float | None:
    """Freshness in seconds from the list's ``ttl`` or the response's ``max-age``, if given."""
    if not isinstance(document, str):
        subject = document.get("credentialSubject")
        if isinstance(subject, Mapping):
            ttl = subject.get("ttl")
            if isinstance(ttl, int) and not isinstance(ttl, bool) and ttl >= 0:
                return ttl / 1000.0
    if cache_control:
        if "no-store" in cache_control.lower() or "no-cache" in cache_control.lower():
            return 0.0
        match = _MAX_AGE.search(cache_control)
        if match:
            return float(match.group(1))
    return None


def _parse_body(content: bytes, content_type: str) -> Mapping[str, Any] | str:
    try:
        text = content.decode("utf-8").strip()
    except UnicodeDecodeError as exc:
        raise StatusListUnavailable("the status list is not UTF-8 text") from exc
    if "jwt" in content_type or _JWT.match(text):
        return text
    try:
        document = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        raise StatusListUnavailable("the status list is not JSON") from exc
    if not isinstance(document, dict):
        raise StatusListUnavailable("the status list is not a JSON object")
    return document


class StatusListCache:
    """Status list fetcher with an allow-list, the SSRF guard and a freshness-aware cache.

    Lists are held in a :class:`~sceau_shared.cache.TtlCache` (LRU, ``cache_max_entries``) for
    at most ``max_ttl_s``; each entry also carries its own freshness (the list's ``ttl`` or
    ``max-age``, capped by ``max_ttl_s``). A held entry past its freshness is not served: it is
    revalidated with its ETag (a 304 costs no body).

    Args:
        client: HTTP client built with ``GuardedTransport`` (connect-time address check).
        settings: allow-list, limits and cache sizes.
        clock: monotonic time source (injectable for tests).
        headers_for: extra headers for a list URL (the verifier token towards the registry,
            ``RegistryHosts.headers_for``: the verifiers' own rate bucket, issue 18 item 8).
            Lists are fetched without following redirects, so they go nowhere else.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: StatusSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        headers_for: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._headers_for = headers_for
        schemes = {"https", "http"} if settings.allow_private_hosts else {"https"}
        self._policy = UrlPolicy(
            allowed_schemes=frozenset(schemes), allow_private=settings.allow_private_hosts
        )
        self._entries: TtlCache[str, _Entry] = TtlCache(
            ttl_s=settings.max_ttl_s, max_entries=settings.cache_max_entries, clock=clock
        )
        self._inflight: dict[str, asyncio.Future[Mapping[str, Any] | str]] = {}
        self._generation: dict[str, int] = {}
        self._epoch = 0
        self._accepted: dict[str, httpx.URL] = {}
        self.fetches = 0
        """Number of HTTP exchanges made (for tests and the benchmark)."""
        self.changes = 0
        """Lists forgotten, replaced or read here that differ from the one held before (kept
        answers computed before are not sent again); a list read again unchanged — a 304, or
        the same document — is no change: at the field's 60 institutions one list or another
        is revalidated every few seconds."""

    def __len__(self) -> int:
        return len(self._entries)

    def check_url(self, url: str) -> httpx.URL:
        """Refuse URLs that are malformed, of a refused scheme, or not on the allow-list.

        Accepted URLs are remembered (bounded): the same few list URLs come with every request.
        """
        accepted = self._accepted.get(url)
        if accepted is not None:
            return accepted
        parsed = self._check_url(url)
        if len(self._accepted) >= _ACCEPTED_URLS:
            self._accepted.clear()
        self._accepted[url] = parsed
        return parsed

    def _check_url(self, url: str) -> httpx.URL:
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError) as exc:
            raise UnsafeUrlError(f"invalid status list URL: {exc}") from exc
        if parsed.scheme not in self._policy.allowed_schemes:
            raise UnsafeUrlError(f"status list URL scheme {parsed.scheme!r} is not allowed")
        if not host_allowed(parsed, self._settings.allowed_hosts):
            raise UnsafeUrlError(f"status list host {parsed.host!r} is not on the allow-list")
        return parsed

    async def fetch(self, url: str) -> Mapping[str, Any] | str:
        """Return the status list credential at ``url``, from the cache while it is fresh."""
        self.check_url(url)
        held = self._entries.entry(url)  # the hot path: one lookup, no copy of the document
        entry = held[1] if held is not None else None
        if entry is not None and entry.expires_at > self._clock():
            return entry.document
        pending = self._inflight.get(url)
        if pending is not None:
            # One fetch per URL at a time: 32 clients missing together cost one request.
            return await asyncio.shield(pending)
        future: asyncio.Future[Mapping[str, Any] | str] = asyncio.get_running_loop().create_future()
        self._inflight[url] = future
        stamp = (self._epoch, self._generation.get(url, 0))
        try:
            document = await self._refresh(url, entry, stamp)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: nobody else may be waiting
            raise
        else:
            future.set_result(document)
            return document
        finally:
            if self._inflight.get(url) is future:
                del self._inflight[url]

    def fetching(self, url: str) -> bool:
        """Whether ``url`` is being read by this cache now (its reads count in :attr:`changes`)."""
        return url in self._inflight

    def _held(self, url: str) -> _Entry | None:
        """The held entry of ``url``, fresh or not (its own ``expires_at`` says)."""
        held = self._entries.entry(url)
        return held[1] if held is not None else None

    async def _refresh(
        self, url: str, stale: _Entry | None, stamp: tuple[int, int]
    ) -> Mapping[str, Any] | str:
        headers = {"Accept": _ACCEPT}
        if self._headers_for is not None:
            headers.update(self._headers_for(url))
        if stale is not None and stale.etag:
            headers["If-None-Match"] = stale.etag
        self.fetches += 1
        try:
            result = await safe_fetch(
                self._client,
                url,
                policy=self._policy,
                timeout_s=self._settings.timeout_s,
                max_bytes=self._settings.max_bytes,
                headers=headers,
                max_redirects=0,
            )
        except (FetchError, UnsafeUrlError) as exc:
            raise StatusListUnavailable(str(exc)) from exc
        cache_control = result.headers.get("cache-control")
        if result.status_code == 304 and stale is not None:
            document = stale.document
            etag = result.headers.get("etag") or stale.etag
        elif result.status_code == 200:
            document = _parse_body(result.content, result.content_type)
            etag = result.headers.get("etag")
        else:
            raise StatusListUnavailable(f"HTTP {result.status_code} from {url}")
        current = self._held(url)
        fetched_from = _valid_from(document)
        if (
            current is not None
            and current.valid_from is not None
            and (fetched_from is None or fetched_from < current.valid_from)
        ):
            # The registry still serves an older version than one an event already gave us.
            return current.document
        if (self._epoch, self._generation.get(url, 0)) == stamp:
            if current is None or (
                document is not current.document and document != current.document
            ):
                self.changes += 1
            self._store(url, document, etag=etag, ttl=_ttl_of(document, cache_control))
        else:
            self.changes += 1  # read across an event: not kept, and neither is what used it
        return document

    def _store(
        self,
        url: str,
        document: Mapping[str, Any] | str,
        *,
        etag: str | None,
        ttl: float | None,
        version: int | None = None,
    ) -> None:
        settings = self._settings
        seconds = settings.default_ttl_s if ttl is None else ttl
        seconds = max(0.0, min(seconds, settings.max_ttl_s))
        if seconds <= 0:
            self._entries.invalidate(url)
            return
        entry = _Entry(
            document=document,
            etag=etag,
            expires_at=self._clock() + seconds,
            valid_from=_valid_from(document),
            version=version,
        )
        self._entries.put(url, entry)

    def invalidate(self, url: str) -> None:
        """Forget ``url``: the next verification fetches it again."""
        self._generation[url] = self._generation.get(url, 0) + 1
        self.changes += 1
        self._entries.invalidate(url)
        self._inflight.pop(url, None)

    def publish(
        self,
        url: str,
        document: Mapping[str, Any],
        *,
        version: int,
        ttl_ms: int | None = None,
    ) -> bool:
        """Take a newly published list (from ``StatusListPublishedV1``); ignore older versions.

        Returns:
            Whether the cache now holds this version (``False`` for a late, older event).
        """
        current = self._held(url)
        if current is not None and current.version is not None and current.version >= version:
            return False
        self.invalidate(url)
        ttl = ttl_ms / 1000.0 if ttl_ms is not None else _ttl_of(document, None)
        self._store(url, dict(document), etag=None, ttl=ttl, version=version)
        return self._held(url) is not None

    def clear(self) -> None:
        """Forget every list (lists being fetched now are not stored either)."""
        self._epoch += 1
        self.changes += 1
        self._entries.clear()
        self._inflight.clear()
