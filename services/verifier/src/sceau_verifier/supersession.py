"""Which credential replaces this one: the issuer's public supersession answer (R52), cached.

When an institution re-issues a credential (a correction or a renewal), the old one is
*superseded*: a renewal leaves it valid, a correction also revokes it. A status list bit could
say "revoked" but cannot name the replacement, and the old credential's signed content cannot
change, so the verifier asks the one party that knows: the issuer, at
``GET {issuer}/v1/public/credentials/{id}/supersession`` (200 names the replacement and the
issuer's DID; 404 means "nothing to report", for unknown and current credentials alike).

Asked only after a credential's proof passed and the registry recognised its issuer (only
Sceau institutions' credentials can be known to Sceau's issuer), for ``urn:uuid:`` ids. The
answer counts only when its issuer DID is the credential's issuer. Answers, "nothing to
report" included, are kept (an employer re-checking a file costs nothing): a supersession for
``_TTL_S`` (it never reverts), "nothing to report" for ``_CURRENT_TTL_S`` only (a re-issue
shows within that time). A failure is never kept, and after one the issuer is not asked for
``_PAUSE_S`` (a verifier whose issuer is down answers at full speed, without the notice, rather
than waiting on every request).
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Final

import httpx
from pydantic import BaseModel, ConfigDict, ValidationError

from sceau_shared.cache import TtlCache
from sceau_verifier.settings import SharesSettings

__all__ = ["Supersession", "SupersessionClient"]

_log = logging.getLogger(__name__)

_UUID: Final = re.compile(
    r"^urn:uuid:([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$"
)
_TTL_S: Final = 60.0
_CURRENT_TTL_S: Final = 10.0
_PAUSE_S: Final = 5.0
_MAX_ENTRIES: Final = 8192
_MAX_BYTES: Final = 16 * 1024


class Supersession(BaseModel):
    """The issuer's answer for a superseded credential."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    credential_id: str
    issuer_did: str
    superseded_by: str
    superseded_at: datetime | None = None
    revoked: bool = False


@dataclass(frozen=True, slots=True)
class _Answer:
    found: Supersession | None
    until: float


class SupersessionClient:
    """Asks the issuer whether a credential was superseded, and remembers the answer briefly.

    Args:
        client: the HTTP client for Sceau's own services (operator-configured URLs).
        settings: where the issuer is (``issuer_url``) and its timeout (shared with shares).
        clock: monotonic time (injectable).
    """

    def __init__(
        self,
        client: httpx.AsyncClient,
        settings: SharesSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._base = settings.issuer_url.rstrip("/")
        self._timeout_s = settings.timeout_s
        self._clock = clock
        self._answers: TtlCache[str, _Answer] = TtlCache(
            ttl_s=_TTL_S, max_entries=_MAX_ENTRIES, clock=clock
        )
        self._paused_until = 0.0
        self.requests = 0
        """Requests made to the issuer (for tests)."""

    async def lookup(self, credential_id: str | None, issuer: str) -> Supersession | None:
        """The replacement of ``credential_id`` issued by ``issuer``, or ``None``.

        Never raises: an unreachable issuer means no notice, not a failed verification.
        """
        match = _UUID.match((credential_id or "").lower())
        if match is None:
            return None
        key = match.group(1)
        held = self._answers.get(key)
        if held is not None and held.until <= self._clock():
            held = None
        if held is None:
            if self._clock() < self._paused_until:
                return None
            answer = await self._ask(key)
            if answer is None:
                self._paused_until = self._clock() + _PAUSE_S
                return None
            self._answers.put(key, answer)
            held = answer
        found = held.found
        if found is None or found.issuer_did.split("#")[0] != issuer.split("#")[0]:
            return None
        return found

    async def _ask(self, key: str) -> _Answer | None:
        url = f"{self._base}/v1/public/credentials/urn:uuid:{key}/supersession"
        self.requests += 1
        try:
            response = await self._client.get(
                url, timeout=self._timeout_s, headers={"Accept": "application/json"}
            )
        except httpx.HTTPError as exc:
            _log.warning("supersession lookup failed: %s", type(exc).__name__)
            return None
        if response.status_code == 404:
            return _Answer(None, self._clock() + _CURRENT_TTL_S)
        if response.status_code != 200 or len(response.content) > _MAX_BYTES:
            _log.warning("supersession lookup answered HTTP %s", response.status_code)
            return None
        try:
            found = Supersession.model_validate_json(response.content)
        except ValidationError:
            _log.warning("supersession lookup answered an unreadable body")
            return None
        if found.credential_id.lower() != f"urn:uuid:{key}":
            return None
        return _Answer(found, self._clock() + _TTL_S)
