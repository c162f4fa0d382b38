"""The registry's answer to "was this DID a trusted issuer at that date?", fetched and cached.

``GET {registry}/v1/issuers/{did}?at=<RFC3339>&verification_method=<url>`` (see docs/contracts.md)
answers as of ``at``: registered, status, accredited achievement types, the institution's names
and whether the signing key was valid then. Answers are cached per ``(did, at, method)`` for
``trust.cache_ttl_s`` (30 s); an ``AccreditationChangedV1`` event drops every cached answer about
the institution's DIDs, because a suspension or a corrected accreditation changes what the
registry says about past dates too, and an ``IssuerKeyPublishedV1`` (rotation, revocation) drops
the answers about its DID. For ``trust.settle_s`` after such an event, answers about the DID are
used but not kept: the registry may apply the same event a little later than this process.

An answer names its ``window`` (the dates around ``at`` over which the registry would answer the
same): the client keeps the windows of each ``(did, method)`` and answers any date inside one
from memory, so credentials of one key issued at hundreds of distinct times cost one request,
not hundreds, against the registry's per-client rate limit (issue 18, item 8).

Kept ``POST /v1/verify`` answers (``kept_answers.py``) are sent again only while nothing they
rest on was read anew; for trust answers that is :attr:`RegistryClient.changes`, which counts
the answers read that are new to this client or differ from the one it gave before for the same
question, not every request: at the field's 60 institutions an answer expires somewhere every
fraction of a second, and when each refresh counted, a kept answer rarely outlived one
(``bench/verify.py``'s field phase).

Failures (timeout, 5xx, 429, unparsable body) raise :class:`RegistryUnavailable` and are never
cached: the verifier turns them into an *inconclusive* issuer check, never a failed one.
"""

from __future__ import annotations

import asyncio
import time
import urllib.parse
from collections.abc import Callable, Iterable
from datetime import UTC, datetime

import httpx
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sceau_shared.cache import TtlCache
from sceau_verifier.errors import RegistryUnavailable
from sceau_verifier.settings import TrustSettings
from sceau_verifier.status_lists import host_allowed

__all__ = ["AnswerWindow", "IssuerKey", "IssuerRecord", "RegistryClient", "RegistryHosts"]


class RegistryHosts:
    """Which outbound URLs reach the registry, and the verifier token those requests carry.

    Trust lookups are not the verifier's only calls to the registry: status lists and the
    did:web documents the registry hosts come from it too, and in the public per-address bucket
    they were refused with 429 under load (reported as "inconclusive", issue 18, item 8). They
    draw from the verifiers' bucket as well when they present the token. The registry's hosts
    are the status lists' allow-list (by definition the hosts that serve the lists) and the
    host of ``trust.registry_url``; no other host ever sees the token.

    Args:
        token: the deployment's verifier token (``None``: no header is added anywhere).
        hosts: ``host`` or ``host:port`` entries, as in ``status.allowed_hosts``.
    """

    def __init__(self, token: str | None, hosts: Iterable[str]) -> None:
        self._headers = {REGISTRY_TOKEN_HEADER: token} if token else {}
        self._hosts = sorted({h.strip().lower() for h in hosts if h.strip()})

    @classmethod
    def of(cls, trust: TrustSettings, status_hosts: Iterable[str]) -> RegistryHosts:
        """The hosts of a verifier's settings (status allow-list + the trust URL's host)."""
        url = httpx.URL(trust.registry_url)
        own = (url.host or "").lower()
        if ":" in own:
            own = f"[{own}]"
        port = url.port or (443 if url.scheme == "https" else 80)
        token = trust.registry_token.get_secret_value() if trust.registry_token else None
        return cls(token, [*status_hosts, f"{own}:{port}"])

    def headers_for(self, url: str) -> dict[str, str]:
        """The token header for a request to ``url`` if it is the registry's, else nothing."""
        if not self._headers:
            return {}
        try:
            parsed = httpx.URL(url)
        except (httpx.InvalidURL, TypeError, ValueError):
            return {}
        return dict(self._headers) if host_allowed(parsed, self._hosts) else {}


_Key = tuple[str, str, str]
"""``(did, at as RFC 3339 or "now", verification method or "")``."""

REGISTRY_TOKEN_HEADER = "X-Sceau-Registry-Token"  # noqa: S105 - a header name, not a secret

_WINDOWS_PER_KEY = 8
"""Windows kept per ``(did, method)``: a key's life has a few (suspensions, scope changes)."""

_GIVEN_S = 3600.0
"""How long the answers given are remembered, to tell a refreshed answer that changed from one
that did not (far longer than a kept answer lives: ``AnswerSettings.ttl_s`` is 60 s at most)."""

_Windows = TtlCache[tuple[str, str], tuple[tuple["AnswerWindow", "IssuerRecord"], ...]]


class IssuerKey(BaseModel):
    """The registry's view of one verification method, as of the asked date."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    verification_method: str
    valid_at: bool
    active_from: datetime | None = None
    rotated_at: datetime | None = None
    revoked_as_of: datetime | None = None


class AnswerWindow(BaseModel):
    """``[from, until)``: dates over which the registry answers the same (``None``: unbounded)."""

    model_config = ConfigDict(frozen=True, extra="ignore", populate_by_name=True)

    start: datetime | None = Field(default=None, alias="from")
    until: datetime | None = None

    def holds(self, moment: datetime) -> bool:
        """Whether ``moment`` is inside the window."""
        return (self.start is None or self.start <= moment) and (
            self.until is None or moment < self.until
        )


class IssuerRecord(BaseModel):
    """``GET /v1/issuers/{did}`` answer (unknown fields ignored so the registry may add some)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    did: str
    registered: bool
    institution_id: str | None = None
    status: str | None = None
    accredited: bool = False
    accredited_types: list[str] = Field(default_factory=list)
    #: Roles held at ``at`` (issuer, endorser, accreditor; active institutions only).
    roles: list[str] = Field(default_factory=list)
    name: dict[str, str] = Field(default_factory=dict)
    #: Quality-assurance facts the registry recorded (R59); older registries send neither.
    qa_body: str | None = None
    approvals: list[str] = Field(default_factory=list)
    key: IssuerKey | None = None
    #: Older registries send none: the answer then holds for its own ``at`` only.
    window: AnswerWindow | None = None

    def display_name(self, lang: str) -> str | None:
        """The institution's registered name in ``lang``, falling back to the other language."""
        other = "en" if lang == "fr" else "fr"
        return self.name.get(lang) or self.name.get(other) or None


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class RegistryClient:
    """Ask the registry about issuers, with a bounded TTL cache and one request per key at a time.

    Answers live in a :class:`~sceau_shared.cache.TtlCache` (LRU, ``trust.cache_ttl_s``,
    ``trust.cache_max_entries``). An answer whose request started before an invalidation of its
    DID (or before :meth:`clear`) is returned to its callers but not stored: it may predate the
    change the event announced.

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
        self._cache: TtlCache[_Key, IssuerRecord] = TtlCache(
            ttl_s=settings.cache_ttl_s, max_entries=settings.cache_max_entries, clock=clock
        )
        self._windows: _Windows = TtlCache(
            ttl_s=settings.cache_ttl_s, max_entries=settings.cache_max_entries, clock=clock
        )
        # The last answers given, by question and by window, kept past the cache's time.
        self._given: TtlCache[_Key, IssuerRecord] = TtlCache(
            ttl_s=_GIVEN_S, max_entries=settings.cache_max_entries, clock=clock
        )
        self._given_windows: _Windows = TtlCache(
            ttl_s=_GIVEN_S, max_entries=settings.cache_max_entries, clock=clock
        )
        self._inflight: dict[_Key, asyncio.Future[IssuerRecord]] = {}
        self._generation: dict[str, int] = {}
        self._settling: dict[str, float] = {}
        self._clock = clock
        self._epoch = 0
        self._headers = {"Accept": "application/json"}
        if settings.registry_token is not None:
            # The verifiers' own rate bucket at the registry (sceau_registry.trust.callers).
            self._headers[REGISTRY_TOKEN_HEADER] = settings.registry_token.get_secret_value()
        self.requests = 0
        """Number of HTTP requests made (for tests and the benchmark)."""
        self.changes = 0
        """Answers read that are new here or differ from the one given before for the same
        question (a kept answer computed before one of them is not sent again)."""

    async def issuer(
        self, did: str, *, at: datetime | None, verification_method: str | None
    ) -> IssuerRecord:
        """Return the registry's record of ``did`` as of ``at`` (``None``: as of now).

        "Now" answers are cached like dated ones: until the TTL or an accreditation event.
        """
        key = (did, _iso(at) if at is not None else "now", verification_method or "")
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        if at is not None:
            for window, record in self._windows.get((did, key[2])) or ():
                if window.holds(at):
                    return record
        pending = self._inflight.get(key)
        if pending is not None:
            return await asyncio.shield(pending)
        future: asyncio.Future[IssuerRecord] = asyncio.get_running_loop().create_future()
        self._inflight[key] = future
        stamp = (self._epoch, self._generation.get(did, 0))
        try:
            record = await self._ask(key)
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        else:
            future.set_result(record)
            if (self._epoch, self._generation.get(did, 0)) == stamp and not self._settles(did):
                if self._given_before(key, at) != record:
                    self.changes += 1
                self._cache.put(key, record)
                self._given.put(key, record)
                self._keep_window(self._windows, did, key[2], record)
                self._keep_window(self._given_windows, did, key[2], record)
            else:
                self.changes += 1  # maybe an answer from before the event: not kept either
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
                    headers=self._headers,
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

    def _given_before(self, key: _Key, at: datetime | None) -> IssuerRecord | None:
        """The answer this client gave before to ``key``'s question, when it remembers one."""
        given = self._given.get(key)
        if given is not None or at is None:
            return given
        for window, record in self._given_windows.get((key[0], key[2])) or ():
            if window.holds(at):
                return record
        return None

    @staticmethod
    def _keep_window(windows: _Windows, did: str, method: str, record: IssuerRecord) -> None:
        if record.window is None:
            return
        known = windows.get((did, method)) or ()
        kept = ((record.window, record), *known[: _WINDOWS_PER_KEY - 1])
        windows.put((did, method), kept)

    def _settles(self, did: str) -> bool:
        """Whether ``did`` changed less than ``settle_s`` ago (its answers are not kept)."""
        until = self._settling.get(did)
        if until is None:
            return False
        if until > self._clock():
            return True
        del self._settling[did]
        return False

    def invalidate(
        self,
        dids: Iterable[str] = (),
        *,
        institution_id: str | None = None,
        settle: bool = False,
    ) -> int:
        """Drop every cached answer about ``dids`` or about ``institution_id``'s DIDs.

        Args:
            dids: the DIDs whose answers go.
            institution_id: an institution whose cached answers (and so DIDs) go.
            settle: also keep no answer about these DIDs for ``settle_s`` (the event comes from
                the issuer, so the registry may not have applied it yet).

        Returns:
            How many cached answers were dropped.
        """
        targets = set(dids)
        dropped = 0
        if institution_id:
            # The institution's DIDs are those of its cached answers (an event may list none).
            def of_institution(key: _Key, record: IssuerRecord) -> bool:
                if record.institution_id == institution_id:
                    targets.add(key[0])
                    return True
                return False

            dropped += self._cache.invalidate_where(of_institution)
            self._given.invalidate_where(of_institution)
            self._windows.invalidate_where(
                lambda key, kept: any(of_institution((key[0], "", ""), r) for _, r in kept)
            )
        for did in targets:
            self._generation[did] = self._generation.get(did, 0) + 1
        if settle and self._settings.settle_s > 0:
            now = self._clock()
            for did in [d for d, until in self._settling.items() if until <= now]:
                del self._settling[did]
            for did in targets:
                self._settling[did] = now + self._settings.settle_s
        if targets:
            dropped += self._cache.invalidate_where(lambda key, _: key[0] in targets)
            self._windows.invalidate_where(lambda key, _: key[0] in targets)
            # What the registry says about them next counts as a change, whatever it is.
            self._given.invalidate_where(lambda key, _: key[0] in targets)
            self._given_windows.invalidate_where(lambda key, _: key[0] in targets)
        for key in [k for k in self._inflight if k[0] in targets]:
            del self._inflight[key]
        return dropped

    def clear(self) -> None:
        """Forget every cached answer (answers being fetched now are not stored either)."""
        self._epoch += 1
        self._cache.clear()
        self._windows.clear()
        self._given.clear()
        self._given_windows.clear()
        self._inflight.clear()
