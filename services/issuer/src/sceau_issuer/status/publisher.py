"""Re-sign and publish status lists once per burst of changes (debounced).

A status change is one update of the credential (status, ``status_changed_at``, events); the
status service then hands the credential's list to this publisher (``mark``). The loop waits until
no change arrived for ``debounce_s`` (so a burst — a bulk revocation, say — collects), rebuilds
each marked list from the credentials themselves (the source of truth: the credentials the
status change log names, read by primary key), signs it once, and stores
one ``StatusListPublishedV1`` per purpose in the list document's outbox with ``published_at`` =
the moment the rebuild started. The publisher never writes to credentials. A rebuild whose
publication loses the version race to another replica is done again on top of the winner's
version (the winner may have read the credentials before this replica's change was visible).
If the process dies
between a change and the publication, the sweep (at start-up and every ``poll_s``) finds lists
with a change logged after the list's ``published_at`` and publishes them (it reads the status
lists and the change log, both small; never the credentials).

Tracing: the re-sign runs in this background loop, long after the request that changed the
status has answered, so it has no trace of its own. ``mark`` therefore keeps the W3C trace
context of the first change of the burst per list, and the list's ``StatusListPublishedV1``
events carry it: the relay, the Kafka hop and the registry's update then join the trace of the
institution's request (later changes of the same burst are folded into that one publication).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sceau_credentials.keys import SigningKey
from sceau_credentials.status.bitstring import Bitstring
from sceau_credentials.status.entries import (
    bitstring_status_list_credential,
    status_list_2021_credential,
)
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.status.changes_repository import StatusChangeLog
from sceau_issuer.status.repository import StatusListRepository
from sceau_issuer.status.status_lists import BITSTRING
from sceau_issuer.tenants.models import KeyState, Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_shared.events import StatusListPublishedV1, StatusPurpose, utcnow
from sceau_shared.events.envelope import capture_trace_context

_log = logging.getLogger(__name__)

#: How long a change logged but not yet written to its credential is taken to be in flight
#: (after that it failed, and no publication waits for it).
_IN_FLIGHT = timedelta(seconds=60)


def _as_utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


SignFn = Callable[[dict[str, Any], SigningKey, str], Awaitable[dict[str, Any] | str]]


class StatusPublisher:
    """Debounced status list publication (one instance per process, run in the lifespan)."""

    def __init__(
        self,
        lists: StatusListRepository,
        credentials: CredentialRepository,
        changes: StatusChangeLog,
        tenants: TenantService,
        sign: SignFn,
        *,
        producer: str,
        debounce_s: float,
        ttl_ms: int,
        poll_s: float = 5.0,
        on_published: Callable[[], None] = lambda: None,
    ) -> None:
        self._lists = lists
        self._credentials = credentials
        self._changes = changes
        self._tenants = tenants
        self._sign = sign
        self._producer = producer
        self._debounce_s = debounce_s
        self._ttl_ms = ttl_ms
        self._poll_s = poll_s
        self._on_published = on_published
        self._wake = asyncio.Event()
        self._marked: set[str] = set()
        # List id → trace context of the first change of the current burst (see module doc).
        self._origins: dict[str, dict[str, str]] = {}
        self._next_sweep = 0.0  # sweep at start-up
        self.signatures = 0

    def wake(self) -> None:
        """A list was opened: publish after the debounce window."""
        self._wake.set()

    def mark(self, alloc_list_id: str | None) -> None:
        """A credential of this list changed status: re-sign the list after the burst."""
        if alloc_list_id:
            self._marked.add(alloc_list_id)
            origin = capture_trace_context()
            if origin:
                self._origins.setdefault(alloc_list_id, origin)
        self._wake.set()

    async def _quiet(self) -> None:
        """Wait until no change arrived for ``debounce_s`` (at most ten windows in all)."""
        for _ in range(10):
            self._wake.clear()
            await asyncio.sleep(self._debounce_s)
            if not self._wake.is_set():
                return

    async def run(self) -> None:
        """Publish until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
            if self._wake.is_set():
                await self._quiet()
            self._wake.clear()
            try:
                await self.publish_pending()
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - flags stay set; the next round retries
                _log.exception("status list publication failed; retrying")

    async def publish_pending(self) -> int:
        """Publish every list with unpublished changes; return how many were signed."""
        targets, self._marked = self._marked, set()
        async for alloc_id in self._lists.awaiting_first_publication():
            targets.add(alloc_id)
        if time.monotonic() >= self._next_sweep:
            self._next_sweep = time.monotonic() + self._poll_s
            since = {a: at async for a, at in self._lists.publication_times()}
            async for alloc_id in self._changes.changed_lists(since):
                targets.add(alloc_id)
        published = 0
        for alloc_id in sorted(targets):
            try:
                if await self.publish_list(alloc_id):
                    published += 1
            except Exception:
                self._marked.add(alloc_id)  # try again next round
                raise
        if published:
            self._on_published()
        return published

    async def _flags(self, alloc_id: str, now: datetime) -> tuple[dict[str, list[int]], datetime]:
        """The indexes to set in each purpose's bitstring, and up to when they are complete.

        Logged credentials are read by id. A change is logged *before* its credential is
        written, so a rebuild can meet one logged but not yet written (in flight on another
        replica): this publication does not cover it, and the time it returns (the
        ``published_at`` to record) stays before that change, so the sweep still sees it.
        """
        flags: dict[str, list[int]] = {"revocation": [], "suspension": []}
        covered = now
        changes = await self._changes.latest_changes_of(alloc_id)
        for credential_id in sorted(changes):
            doc = await self._credentials.status_of(credential_id)
            if doc is None or doc.get("status_alloc") != alloc_id:
                continue
            logged = changes[credential_id]
            written = doc.get("status_changed_at")
            in_flight = written is None or _as_utc(written) < _as_utc(logged)
            if in_flight and now - _as_utc(logged) < _IN_FLIGHT:
                covered = min(covered, _as_utc(logged) - timedelta(milliseconds=1))
            if doc.get("status") == "revoked":
                flags["revocation"].append(int(doc["status_index"]))
            elif doc.get("status") == "suspended":
                flags["suspension"].append(int(doc["status_index"]))
        return flags, covered

    @staticmethod
    def _key_for(tenant: Tenant, did: str) -> str:
        candidates = [k for k in tenant.keys if k.did == did]
        for state in (KeyState.ACTIVE, KeyState.ROTATED, KeyState.REVOKED):
            for key in candidates:
                if key.state == state:
                    return key.key_id
        raise LookupError(f"no key of {tenant.institution_id} for {did}")

    async def publish_list(self, alloc_id: str) -> bool:
        """Rebuild, sign and store one list's two purposes with their events."""
        doc = await self._lists.get(alloc_id)
        if doc is None:
            return False
        tenant = await self._tenants.get(doc["institution_id"])
        key_id = self._key_for(tenant, doc["did"])
        origin = self._origins.pop(alloc_id, None) or capture_trace_context()
        now = utcnow()  # before reading: a change after this moment gets its own round
        flags, covered = await self._flags(alloc_id, now)
        version = int(doc.get("version", 0)) + 1
        events = []
        # StatusList2021 credentials (VCDM 1.1) carry only a revocation entry.
        purposes = list(StatusPurpose) if doc["format"] == BITSTRING else [StatusPurpose.REVOCATION]
        for purpose in purposes:
            bits = Bitstring(int(doc["size"]))
            for index in flags[purpose.value]:
                bits.set_bit(index, True)
            list_id = doc["list_ids"][purpose.value]
            url = self._lists.url(list_id)
            if doc["format"] == BITSTRING:
                unsigned = bitstring_status_list_credential(
                    list_url=url,
                    issuer=doc["did"],
                    purpose=purpose.value,
                    bitstring=bits,
                    valid_from=now,
                    ttl_ms=self._ttl_ms or None,
                )
                profile = "ob3-v2"
            else:
                unsigned = status_list_2021_credential(
                    list_url=url,
                    issuer=doc["did"],
                    purpose=purpose.value,
                    bitstring=bits,
                    issuance_date=now,
                )
                profile = "ob3-v1"
            key = self._tenants.signing_key(tenant, key_id, profile)
            signed = await self._sign(unsigned, key, profile)
            self.signatures += 1
            if not isinstance(signed, dict):
                raise TypeError("status list credentials are JSON-LD documents")
            events.append(
                StatusListPublishedV1(
                    producer=self._producer,
                    list_id=list_id,
                    institution_id=doc["institution_id"],
                    issuer_did=doc["did"],
                    purpose=purpose,
                    list_url=url,
                    version=version,
                    format=doc["format"],
                    ttl_ms=self._ttl_ms or None,
                    credential=signed,
                    trace_context=origin,
                )
            )
        stored = await self._lists.record_publication(
            alloc_id,
            previous_version=int(doc.get("version", 0)),
            version=version,
            published_at=covered,
            events=events,
        )
        if not stored:
            # Another replica published this version first, perhaps from credentials it read
            # before this round's changes were visible: build the list again on top of its
            # version (next round) rather than drop the work.
            _log.info("status list %s: lost the version race, re-signing", alloc_id)
            self._marked.add(alloc_id)
            if origin:
                self._origins.setdefault(alloc_id, origin)
            self._wake.set()
        return stored
