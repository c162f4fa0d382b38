"""The registry's answer to "was this DID a trusted issuer at that date?", fetched and cached.

``GET {registry}/v1/issuers/{did}?at=<RFC3339>&verification_method=<url>`` (see CONTRACTS.md)
answers as of ``at``: registered, status, accredited achievement types, the institution's names
and whether the signing key was valid then. Answers are cached per ``(did, at, method)``; an
``AccreditationChangedV1`` event drops every cached answer about the institution's DIDs, because
a suspension or a corrected accreditation changes what the registry says about past dates too.

Failures (timeout, 5xx, unparsable body) raise :class:`RegistryUnavailable` and are never cached:
the verifier turns them into an *inconclusive* issuer check.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections import OrderedDict
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sceau_verifier.settings import TrustSettings

__all__ = ["IssuerKey", "IssuerRecord", "RegistryClient", "RegistryUnavailable"]


class RegistryUnavailable(Exception):
    """The registry could not answer (network, timeout, unexpected status or body)."""


class IssuerKey(BaseModel):
    """The registry's view of one verification method, as of the asked date."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    verification_method: str
    valid_at: bool
    active_from: datetime | None = None
    rotated_at: datetime | None = None
    revoked_as_of: datetime | None = None


class IssuerRecord(BaseModel):
    """``GET /v1/issuers/{did}`` answer (unknown fields ignored so the registry may add some)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    did: str
    registered: bool
    institution_id: str | None = None
    status: str | None = None
    accredited: bool = False
    accredited_types: list[str] = Field(default_factory=list)
    name: dict[str, str] = Field(default_factory=dict)
    key: IssuerKey | None = None

    def display_name(self, lang: str) -> str | None:
        """The institution's registered name in ``lang``, falling back to the other language."""
        other = "en" if lang == "fr" else "fr"
        return self.name.get(lang) or self.name.get(other) or None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class RegistryClient:
    """Ask the registry about issuers, with a bounded TTL cache and one request per key at a time.

    Args:
        client: HTTP client (the registry is a configured, trusted URL, so no SSRF guard).
        settings: registry URL, timeout and cache bounds.
        clock: monotonic time source (injectable for tests).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: TrustSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._settings = settings
        self._clock = clock
        self._cache: OrderedDict[tuple[str, str, str], tuple[float, IssuerRecord]] = OrderedDict()
        self._inflight: dict[tuple[str, str, str], asyncio.Future[IssuerRecord]] = {}
        self._generation: dict[str, int] = {}
        self.requests = 0
        """Number of HTTP requests made (for tests and the benchmark)."""

    async def issuer(
        self, did: str, *, at: datetime | None, verification_method: str | None
    ) -> IssuerRecord:
        """Return the registry's record of ``did`` as of ``at`` (``None``: as of now).

        "Now" answers are cached like dated ones: until the TTL or an accreditation event.
        """
        key = (did, _iso(at) if at is not None else "now", verification_method or "")
        cached = self._cache.get(key)
        if cached is not None and cached[0] > self._clock():
            self._cache.move_to_end(key)
            return cached[1]
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[IssuerRecord] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        generation = self._generation.get(did, 0)
        try:
            record = await self._ask(key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        else:
            future.set_result(record)
            if self._generation.get(did, 0) == generation and self._settings.cache_ttl_s > 0:
                self._cache[key] = (self._clock() + self._settings.cache_ttl_s, record)
                while len(self._cache) > self._settings.cache_max_entries:
                    self._cache.popitem(last=False)
            return record
        finally:
            if self._inflight.get(key) is future:
                del self._inflight[key]

    async def _ask(self, key: tuple[str, str, str]) -> IssuerRecord:
        did, at, method = key
        params = {"at": at} if at != "now" else {}
        if method:
            params["verification_method"] = method
        base = self._settings.registry_url.rstrip("/")
        url = f"{base}/v1/issuers/{urllib.parse.quote(did, safe=':')}"
        self.requests += 1
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                response = await self._client.get(
                    url,
                    params=params,
                    headers={"Accept": "application/json"},
                    timeout=self._settings.timeout_s,
                )
        except (TimeoutError, httpx.HTTPError) as exc:
            raise RegistryUnavailable(f"registry unreachable: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise RegistryUnavailable(f"registry answered HTTP {response.status_code}")
        if len(response.content) > self._settings.max_bytes:
            raise RegistryUnavailable("registry answer too large")
        try:
            return IssuerRecord.model_validate_json(response.content)
        except ValidationError as exc:
            raise RegistryUnavailable("registry answer is not an issuer record") from exc

    def invalidate(self, dids: Iterable[str] = (), *, institution_id: str | None = None) -> int:
        """Drop every cached answer about ``dids`` or about ``institution_id``'s DIDs.

        Returns:
            How many cached answers were dropped.
        """
        targets = set(dids)
        if institution_id:
            targets.update(
                key[0]
                for key, (_, rec) in self._cache.items()
                if rec.institution_id == institution_id
            )
        for did in targets:
            self._generation[did] = self._generation.get(did, 0) + 1
        stale = [key for key in self._cache if key[0] in targets]
        for key in stale:
            del self._cache[key]
        for key in [k for k in self._inflight if k[0] in targets]:
            del self._inflight[key]
        return len(stale)

    def clear(self) -> None:
        """Forget every cached answer."""
        self.invalidate({key[0] for key in self._cache})
