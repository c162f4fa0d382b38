"""Re-sign and publish status lists soon after a change, at most once per window per burst.

A status change is one update of the credential (status, ``status_changed_at``, events); the
status service then hands the credential's list to this publisher (``mark``). Pacing is
leading-edge: a change after a quiet period is published at once (after ``GATHER_S``, so that
changes of the same moment share one signature), and while changes keep coming the lists are
re-signed at most once per ``debounce_s`` — a bulk revocation is still one signature, and a lone
revocation is visible in well under a second instead of after a full window (issue 19: revocation
visible p99 < 500 ms). Each marked list is updated from the change log entries it has not applied
yet (``status/changes_repository.py``: numbered per list, read by primary key) and the current
status of those credentials (read by primary key): the cost of a re-sign follows the changes since
the previous one, not the size of the list or of the log. The list document keeps the indexes set
per purpose and the log position. Each purpose is signed once and stored as one
``StatusListPublishedV1`` in the list document's outbox, with ``published_at`` = the moment the
re-sign started. The publisher never writes to credentials. A re-sign whose publication loses
the version race to another replica is done again on top of the winner's version (the winner may
have read the credentials before this replica's change was visible). If the process dies between
a change and the publication, the sweep (at start-up and every ``poll_s``) finds lists whose next
log entry exists (one primary-key probe per list) and publishes them.

Key changes (issue 18, item 1): a list is signed by the institution's *current* key for its DID
(the active one; a rotated or revoked one only when the DID has no other, as with an old did:key).
A revoked did:web key leaves the DID document, so a list it signed would fail every credential
on it, including those the new key signed. Rotating or revoking a key therefore asks for every
list of the institution's DIDs to be signed again (``TenantService`` → ``request_resign``, read
here at the next round), and the sweep (at start-up and every ``poll_s``) also re-signs any list
whose recorded signer (``signed_with``) is no longer the key it would choose, in case the process
died between the key change and that request.

A log entry is written before its credential's update. An entry whose credential does not show
that change yet is applied as the credential stands, and the position stops there so that the
next re-sign (which the change's own ``mark`` triggers) reads it again; after ``PENDING_GRACE``
such an entry is taken as a change that never happened (refused, or its process died).

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
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.status.bitstring import Bitstring
from sceau_credentials.status.entries import (
    bitstring_status_list_credential,
    status_list_2021_credential,
)
from sceau_issuer.errors import InstitutionNotFound
from sceau_issuer.issuing.repository import CredentialRepository
from sceau_issuer.status.changes_repository import StatusChangeLog
from sceau_issuer.status.repository import ListPosition, StatusListRepository
from sceau_issuer.status.status_lists import BITSTRING
from sceau_issuer.tenants.models import KeyRecord, KeyState, KeyType, Tenant
from sceau_issuer.tenants.service import TenantService
from sceau_shared.events import StatusListPublishedV1, StatusPurpose, utcnow
from sceau_shared.events.envelope import capture_trace_context

_log = logging.getLogger(__name__)

GATHER_S = 0.02
"""After a quiet period, how long a first change waits for the changes of the same moment."""

PENDING_GRACE = timedelta(seconds=30)
"""How long a logged change may wait for its credential's update before it is taken as void."""

READ_CONCURRENCY = 32
"""Credentials read at once when applying log entries (primary-key lookups)."""

SignFn = Callable[
    [dict[str, Any], SigningKey | P256SigningKey, str], Awaitable[dict[str, Any] | str]
]


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
        self._last_round = float("-inf")  # monotonic start of the previous publication round
        self.signatures = 0

    def wake(self) -> None:
        """A list was opened: publish after the debounce window."""
        self._wake.set()

    def sweep_now(self) -> None:
        """Make the next round run the safety sweep (tests, operators' tooling)."""
        self._next_sweep = 0.0
        self._wake.set()

    def mark(self, alloc_list_id: str | None) -> None:
        """A credential of this list changed status: re-sign the list after the burst."""
        if alloc_list_id:
            self._marked.add(alloc_list_id)
            origin = capture_trace_context()
            if origin:
                self._origins.setdefault(alloc_list_id, origin)
        self._wake.set()

    async def _pace(self) -> None:
        """Leading edge: at once after a quiet period, else one window after the last round."""
        due = self._last_round + self._debounce_s - time.monotonic()
        await asyncio.sleep(max(min(GATHER_S, self._debounce_s), due))

    async def run(self) -> None:
        """Publish until cancelled."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self._poll_s)
            if self._wake.is_set():
                await self._pace()
            self._wake.clear()
            self._last_round = time.monotonic()
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
            tenants: dict[str, Tenant | None] = {}
            async for listed in self._lists.positions():
                if await self._behind(listed) or await self._signer_outdated(listed, tenants):
                    targets.add(listed.alloc_list_id)
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

    async def flags_of(self, doc: dict[str, Any], now: datetime) -> tuple[dict[str, set[int]], int]:
        """The indexes to set per purpose, and the first log entry still to apply.

        From the list's stored flags and position, applying the entries logged since; a list
        without a position (written before the numbered log) is rebuilt from every credential
        the log names, once.
        """
        alloc_id = str(doc["_id"])
        position = doc.get("log_next")
        flags: dict[str, set[int]] = {"revocation": set(), "suspension": set()}
        entries = await self._changes.since(alloc_id, 0 if position is None else int(position))
        if position is None:
            credential_ids = await self._changes.credentials_of(alloc_id)
            start = 0
        else:
            for purpose, indexes in (doc.get("flags") or {}).items():
                flags.setdefault(purpose, set()).update(int(i) for i in indexes)
            credential_ids = {e.credential_id for e in entries}
            start = int(position)
        current: dict[str, dict[str, Any] | None] = {}
        ordered = sorted(credential_ids)
        for i in range(0, len(ordered), READ_CONCURRENCY):
            chunk = ordered[i : i + READ_CONCURRENCY]
            docs = await asyncio.gather(*(self._credentials.status_of(c) for c in chunk))
            current.update(zip(chunk, docs, strict=True))
        for credential in current.values():
            if credential is None or credential.get("status_alloc") != alloc_id:
                continue
            index = int(credential["status_index"])
            for indexes in flags.values():
                indexes.discard(index)
            if credential.get("status") == "revoked":
                flags["revocation"].add(index)
            elif credential.get("status") == "suspended":
                flags["suspension"].add(index)
        next_position = start
        for entry in entries:
            credential = current.get(entry.credential_id)
            changed_at = (credential or {}).get("status_changed_at")
            landed = changed_at is not None and _as_utc(changed_at) >= _as_utc(entry.at)
            if not landed and now - _as_utc(entry.at) < PENDING_GRACE:
                break  # its update may still come: read it again next time
            next_position = entry.number + 1
        return flags, next_position

    async def _behind(self, listed: ListPosition) -> bool:
        """Whether a list has logged changes it has not applied (or predates the numbered log)."""
        position = listed.log_next
        return position is None or await self._changes.has_since(listed.alloc_list_id, position)

    async def _signer_outdated(
        self, listed: ListPosition, tenants: dict[str, Tenant | None]
    ) -> bool:
        """Whether a published list was signed by another key than the one it would use now.

        ``tenants`` keeps this sweep's tenant reads (one primary-key read per institution). A
        list published before signers were recorded counts as outdated only when its DID has
        had several keys.
        """
        if not listed.institution_id or not listed.did:
            return False
        if listed.institution_id not in tenants:
            try:
                tenants[listed.institution_id] = await self._tenants.get(listed.institution_id)
            except InstitutionNotFound:
                tenants[listed.institution_id] = None
        tenant = tenants[listed.institution_id]
        if tenant is None:
            return False
        try:
            current = self._key_for(tenant, listed.did)
        except LookupError:
            return False
        if listed.signed_with is None:
            return sum(1 for k in tenant.keys if k.did == listed.did and _signs_lists(k)) > 1
        return listed.signed_with != current

    @staticmethod
    def _key_for(tenant: Tenant, did: str) -> str:
        # Lists are JSON-LD credentials signed with Ed25519 (P-256 keys sign ES256 JWTs only).
        candidates = [k for k in tenant.keys if k.did == did and _signs_lists(k)]
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
        flags, log_next = await self.flags_of(doc, now)
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
            key = self._tenants.signing_key(tenant, key_id, profile)  # an Ed25519 key (_key_for)
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
            published_at=now,
            events=events,
            flags={purpose: sorted(indexes) for purpose, indexes in flags.items()},
            log_next=log_next,
            signed_with=key_id,
            resign=doc.get("resign"),
        )
        if not stored:
            # Another replica published this version first, perhaps from credentials it read
            # before this round's changes were visible, or a key change asked for a new
            # signature meanwhile: build the list again on top of the stored version (next
            # round) rather than drop the work (issue 18, items 3 and 1).
            _log.info("status list %s: lost the version race, re-signing", alloc_id)
            self._marked.add(alloc_id)
            if origin:
                self._origins.setdefault(alloc_id, origin)
            self._wake.set()
        return stored


def _signs_lists(key: KeyRecord) -> bool:
    """Whether ``key`` can sign status lists (JSON-LD proofs: Ed25519 keys only)."""
    return key.key_type is KeyType.ED25519


def _as_utc(moment: datetime) -> datetime:
    """Stored datetimes come back naive (UTC) from some clients and stores: compare them aware."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
