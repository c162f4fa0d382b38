"""did:web resolution with our own, SSRF-guarded HTTP fetch (didkit never fetches did:web itself).

DID → URL (W3C CCG did:web Method Specification, "Read (Resolve)"):

* ``did:web:example.com`` → ``https://example.com/.well-known/did.json``
* ``did:web:example.com%3A8443`` → ``https://example.com:8443/.well-known/did.json``
* ``did:web:example.com:org:badges`` → ``https://example.com/org/badges/did.json``

Colon-separated segments after the host become path segments; each is percent-decoded. The
host must be a domain name: the spec forbids IP addresses, so an IP literal is refused except
in local development (``allow_private_hosts``), which also allows loopback/private destinations
and uses plain ``http`` for ``localhost``/loopback hosts so a developer needs no certificate.

The fetched document must be a JSON object whose ``id`` is the DID; anything else is refused,
which stops a compromised path on the same host from impersonating another DID. Documents are
cached per DID for ``cache_ttl_s`` seconds (an issuer's key rotation shows up within that time).

Anyone can write a credential naming their own did:web server, so everything a hostile server
can influence is bounded: a document is at most ``max_document_bytes`` (64 KB: a DID document with
a dozen keys is about 3 KB), the cache holds at most ``cache_max_entries`` documents *and*
``cache_max_bytes`` bytes, and at most ``max_fetches_per_host`` fetches run at once per host, so a
slow server only delays its own DIDs. The cache keeps the received bytes, which are immutable: a
hit parses them again (microseconds for a real document) instead of deep-copying a parsed tree,
and every caller still gets its own document to keep or change.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import re
import time
import urllib.parse
from collections.abc import Callable, Mapping
from typing import Any, Final

import httpx
from pydantic import BaseModel, ConfigDict, Field

from sceau_credentials.dids.resolver import (
    DidResolutionError,
    ResolutionErrorCode,
    split_did_url,
)
from sceau_shared.cache import TtlCache
from sceau_shared.ssrf import (
    FetchError,
    ResponseTooLargeError,
    UnsafeUrlError,
    UrlPolicy,
    safe_fetch,
)

__all__ = ["DidWebResolver", "DidWebSettings", "did_web_to_url", "url_to_did_web"]

_PREFIX: Final = "did:web:"
_LABEL: Final = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_ACCEPT: Final = "application/did+json, application/did+ld+json;q=0.9, application/json;q=0.8"


class DidWebSettings(BaseModel):
    """How did:web documents are fetched; services embed this in their settings.

    ``allow_private_hosts`` is for local development only: it lets did:web point at
    localhost/private addresses (plain http for loopback). Never enable it in production.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    allow_private_hosts: bool = False
    timeout_s: float = Field(default=5.0, gt=0, le=60)
    max_document_bytes: int = Field(default=64 * 1024, gt=0)
    cache_ttl_s: float = Field(default=300.0, ge=0)
    cache_max_entries: int = Field(default=1024, ge=0)
    cache_max_bytes: int = Field(
        default=8 * 1024 * 1024, ge=0, description="Total size of the cached documents."
    )
    max_fetches_per_host: int = Field(
        default=8, ge=1, description="Fetches running at once towards one host; others wait."
    )
    max_redirects: int = Field(default=2, ge=0, le=10)


def _invalid(did: str, why: str) -> DidResolutionError:
    return DidResolutionError(ResolutionErrorCode.INVALID_DID, f"invalid did:web {did!r}: {why}")


def _is_loopback_host(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _check_host(did: str, host: str, allow_local: bool) -> str:
    """Validate the host part and return it as it goes in the URL (IPv6 bracketed)."""
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        ip = None
    if ip is not None:
        if not allow_local:
            raise _invalid(did, "the host must be a domain name, not an IP address")
        return f"[{ip}]" if ip.version == 6 else str(ip)
    labels = host.split(".")
    if not all(_LABEL.match(label) for label in labels):
        raise _invalid(did, f"{host!r} is not a valid domain name")
    if len(labels) < 2 and not (allow_local and host == "localhost"):
        raise _invalid(did, f"{host!r} is not a fully qualified domain name")
    return host


def did_web_to_url(did: str, *, allow_local: bool = False) -> str:
    """Return the URL of the DID document of a did:web DID (a fragment is ignored).

    Args:
        did: The DID (``did:web:…``).
        allow_local: Accept IP literals and ``localhost``; use ``http`` for loopback hosts.

    Raises:
        DidResolutionError: ``invalidDid`` for anything the spec does not allow.
    """
    bare, _ = split_did_url(did)
    if not bare.startswith(_PREFIX):
        raise _invalid(did, "not a did:web DID")
    segments = bare[len(_PREFIX) :].split(":")
    if any(not segment for segment in segments):
        raise _invalid(did, "empty segment")
    host_port = urllib.parse.unquote(segments[0], errors="strict").lower()
    host, port = host_port, None
    if re.search(r":\d+$", host_port) and not host_port.endswith("]"):
        host, _sep, port_text = host_port.rpartition(":")
        port = int(port_text)
        if not 0 < port < 65536:
            raise _invalid(did, f"port {port} out of range")
    if any(char in host for char in "/?#@\\%") or not host:
        raise _invalid(did, f"bad host {host!r}")
    url_host = _check_host(did, host, allow_local)
    path: list[str] = []
    for raw in segments[1:]:
        segment = urllib.parse.unquote(raw, errors="strict")
        if segment in {".", ".."} or any(char in segment for char in "/\\?#\0"):
            raise _invalid(did, f"path segment {segment!r} is not allowed")
        path.append(urllib.parse.quote(segment, safe="-._~!$&'()*+,;=@"))
    scheme = "http" if allow_local and _is_loopback_host(host) else "https"
    authority = url_host if port is None else f"{url_host}:{port}"
    suffix = "/".join([*path, "did.json"]) if path else ".well-known/did.json"
    return f"{scheme}://{authority}/{suffix}"


def url_to_did_web(url: str) -> str:
    """Return the did:web DID whose document lives at ``url`` (inverse of :func:`did_web_to_url`).

    ``https://example.edu/.well-known/did.json`` and ``https://example.edu`` both give
    ``did:web:example.edu``; ``https://example.edu:8443/issuers/a`` gives
    ``did:web:example.edu%3A8443:issuers:a``.
    """
    parsed = urllib.parse.urlsplit(url if "://" in url else f"https://{url}")
    if not parsed.hostname:
        raise ValueError(f"{url!r} has no host")
    host = parsed.hostname.lower()
    authority = host if parsed.port is None else f"{host}%3A{parsed.port}"
    segments = [s for s in parsed.path.split("/") if s]
    if segments[-1:] == ["did.json"]:
        segments.pop()
        if segments == [".well-known"]:
            segments = []
    parts = [authority, *(urllib.parse.quote(urllib.parse.unquote(s), safe="") for s in segments)]
    return _PREFIX + ":".join(parts)


class DidWebResolver:
    """Resolve did:web DIDs over HTTPS with SSRF guards, limits and a TTL cache.

    Args:
        client: Shared HTTP client; build it with :class:`sceau_shared.ssrf.GuardedTransport`
            so the address check also holds at connect time.
        settings: Limits and the local-development switch.
        clock: Monotonic time source (injectable for cache tests).
        headers_for: Extra request headers for a document URL, e.g. a deployment's own token
            towards its own DID host (``{}`` for every other URL). A fetch that carries any
            follows no redirect, so they reach no other host.
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: DidWebSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        headers_for: Callable[[str], Mapping[str, str]] | None = None,
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._headers_for = headers_for
        keeps = settings.cache_max_entries > 0 and settings.cache_max_bytes > 0
        self._cache: TtlCache[str, bytes] = TtlCache(
            ttl_s=settings.cache_ttl_s if keeps else 0,
            max_entries=max(settings.cache_max_entries, 1),
            clock=clock,
            max_weight=settings.cache_max_bytes,
            weigh=len,
        )
        self._inflight: dict[str, asyncio.Future[bytes]] = {}
        self._hosts: dict[str, tuple[asyncio.Semaphore, int]] = {}
        schemes = {"https", "http"} if settings.allow_private_hosts else {"https"}
        self._policy = UrlPolicy(
            allowed_schemes=frozenset(schemes), allow_private=settings.allow_private_hosts
        )

    def clear_cache(self) -> None:
        """Forget every cached document (e.g. after an issuer announced a key revocation)."""
        self._cache.clear()

    def forget(self, did: str) -> None:
        """Forget the cached document of ``did`` (its keys changed)."""
        self._cache.invalidate(split_did_url(did)[0])

    @property
    def cached_bytes(self) -> int:
        """Total size of the cached documents (bounded by ``cache_max_bytes``)."""
        return self._cache.weight

    async def resolve(self, did: str) -> dict[str, Any]:
        """Return the DID document of ``did``, from the cache when fresh."""
        bare, _ = split_did_url(did)
        url = did_web_to_url(bare, allow_local=self._settings.allow_private_hosts)
        raw = self._cache.get(bare)
        if raw is None:
            raw = await self._fetch_once(bare, url)
            self._cache.put(bare, raw)
        return _parse(bare, url, raw)

    async def _fetch_once(self, did: str, url: str) -> bytes:
        """Fetch ``did``, sharing one request among concurrent callers.

        A verifier checking a batch of credentials from one institution would otherwise send
        one request per credential before the first answer reaches the cache.
        """
        pending = self._inflight.get(did)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[bytes] = asyncio.get_running_loop().create_future()
        self._inflight[did] = future
        try:
            document = await self._fetch(did, url)
        except asyncio.CancelledError:
            future.cancel()
            raise
        except Exception as exc:
            future.set_exception(exc)
            future.exception()  # mark retrieved: no waiter is not an error
            raise
        else:
            future.set_result(document)
            return document
        finally:
            del self._inflight[did]

    async def _fetch(self, did: str, url: str) -> bytes:
        """Fetch and check the document; at most ``max_fetches_per_host`` at once per host.

        Waiting for a slot counts in the same ``timeout_s`` as the fetch, so a hostile host
        holding every slot delays its own DIDs by at most that, and nobody else's.
        """
        host = urllib.parse.urlsplit(url).netloc
        gate, users = self._hosts.get(host) or (
            asyncio.Semaphore(self._settings.max_fetches_per_host),
            0,
        )
        self._hosts[host] = (gate, users + 1)
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                await gate.acquire()
        except TimeoutError as exc:
            raise DidResolutionError(
                ResolutionErrorCode.RETRIEVAL_ERROR,
                f"cannot retrieve {did}: too many fetches waiting for {host}",
            ) from exc
        else:
            try:
                return await self._get(did, url)
            finally:
                gate.release()
        finally:
            left = self._hosts[host][1] - 1
            if left:
                self._hosts[host] = (gate, left)
            else:
                del self._hosts[host]

    async def _get(self, did: str, url: str) -> bytes:
        settings = self._settings
        extra = self._headers_for(url) if self._headers_for is not None else {}
        try:
            result = await safe_fetch(
                self._client,
                url,
                policy=self._policy,
                timeout_s=settings.timeout_s,
                max_bytes=settings.max_document_bytes,
                headers={"Accept": _ACCEPT, **extra},
                max_redirects=0 if extra else settings.max_redirects,
            )
        except UnsafeUrlError as exc:
            raise DidResolutionError(
                ResolutionErrorCode.UNSAFE_URL, f"refused to fetch {did}: {exc}"
            ) from exc
        except ResponseTooLargeError as exc:
            raise DidResolutionError(
                ResolutionErrorCode.INVALID_DOCUMENT, f"DID document of {did} is too large: {exc}"
            ) from exc
        except FetchError as exc:
            raise DidResolutionError(
                ResolutionErrorCode.RETRIEVAL_ERROR, f"cannot retrieve {did}: {exc}"
            ) from exc
        if result.status_code in (404, 410):
            raise DidResolutionError(
                ResolutionErrorCode.NOT_FOUND,
                f"{did} not found (HTTP {result.status_code} at {url})",
            )
        if result.status_code != 200:
            raise DidResolutionError(
                ResolutionErrorCode.RETRIEVAL_ERROR,
                f"cannot retrieve {did}: HTTP {result.status_code} at {url}",
            )
        _parse(did, url, result.content)
        return result.content


def _parse(did: str, url: str, raw: bytes) -> dict[str, Any]:
    """The document in ``raw``, checked to be a JSON object whose ``id`` is ``did``."""
    try:
        document = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise DidResolutionError(
            ResolutionErrorCode.INVALID_DOCUMENT, f"DID document of {did} is not JSON: {exc}"
        ) from exc
    if not isinstance(document, dict):
        raise DidResolutionError(
            ResolutionErrorCode.INVALID_DOCUMENT, f"DID document of {did} is not a JSON object"
        )
    if document.get("id") != did:
        raise DidResolutionError(
            ResolutionErrorCode.INVALID_DOCUMENT,
            f"DID document at {url} has id {document.get('id')!r}, expected {did!r}",
        )
    return document
