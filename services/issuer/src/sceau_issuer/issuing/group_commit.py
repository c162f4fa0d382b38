"""Group commit for single issues: concurrent ``POST /v1/credentials`` share their writes.

On FerretDB every command costs the server about 2 ms of CPU (4 ms for an insert), whatever it
carries, and an issue done alone sends a dozen of them: the reservation and credential lookups,
the reservation insert, the status slot claim (which, with 16 requests in flight, collided on the
same counters ten times per credential), the credential insert, the relay's read and marker
insert. A batch chunk does the same work with a handful of commands for hundreds of credentials.

The :class:`IssueCollector` makes concurrent single issues a small batch. Requests that arrive
while the groups in flight are being written (or within ``window_s`` of the first one when a
group could start at once) form the next group, which is written step by step, each step one
command for the whole group where the store allows it:

1. the rules that read nothing: achievement version (cached), active institution, results
   that fit, the same key or recipient twice;
2. the status slots: from the replica's stock of claimed slots per list family
   (:class:`~sceau_issuer.status.reserve.SlotReserve`; the batch path's claim run only when the
   stock runs short);
3. signing, in the worker processes, one slice per worker (off the event loop), and *while it
   runs* the rules that read the database — the accreditation (read once per institution of the
   group) and the progressive prerequisites (one grouped call per achievement) — then the
   idempotency reservations: one unordered ``insert_many`` of unique ``_id``s (atomic on every
   store), each position winning or losing on its own. Signing has no effect until a credential
   is stored: a request refused by a rule or whose key lost leaves its signature unused and its
   slot unused (never set, never published). Those reads and the reservation insert were a
   tenth of a group's time at 16 clients, now spent while the workers sign;
4. the credentials with their embedded outbox: one unordered ``insert_many`` of the kept ones,
   each credential still protected by its derived ``_id`` (the events' pending markers, which
   must precede them, are inserted once the reservations are known, while the group is signed:
   ``sceau_issuer.pending_repository``);
5. the events: handed to the credentials relay from memory in one call, published together; the
   group's write has one pending marker for all its credentials (``mark_together``), which the
   relay deletes with one statement once they are all published
   (:meth:`sceau_issuer.relay.TargetedOutboxRelay.notify_written_together`).

Each request keeps its own answer and its own errors. Whatever is not the plain, new case — a key
used before (replay or mismatch), a recipient who already holds the version, a refusal by a rule,
the same key or recipient twice in one group — leaves the group *before* anything of it is
written, or right after its reservation lost, and is answered by
:meth:`IssuingService.issue`, the one-by-one path, once the group is written: its checks run in
the documented order (422, replay, 409, then 403/409 rules) and see what the group stored.
A request whose signature fails is answered with its own error; the others are signed again
without it. At most once holds as on the one-by-one path: the reservation is a unique ``_id``
insert made before anything is stored, the credential's ``_id`` is derived from the recipient and
the version, so a group that dies half-way (a crash, a store error) leaves reservations that a
retry finds and completes, never a second credential.

A client that gives up (timeout, disconnect) does not stop its group: the credential is stored
and a retry with the same key is answered from it.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sceau_credentials.ob3 import Evidence
from sceau_credentials.ob3.identity import normalize_email
from sceau_issuer.achievements.service import PinnedAchievement
from sceau_issuer.issuing.dedupe import dedupe_key
from sceau_issuer.issuing.idempotency_repository import reservation_document
from sceau_issuer.issuing.policy import check_fits
from sceau_issuer.issuing.schemas import IssueRequest
from sceau_issuer.issuing.service import Draft, IssuingService, request_fingerprint
from sceau_issuer.issuing.sign_jobs import Signed, SignJob
from sceau_issuer.status.status_lists import StatusSlot, list_format
from sceau_issuer.tenants.accreditation import check_accredited
from sceau_issuer.tenants.models import Tenant
from sceau_shared.events import utcnow
from sceau_shared.outbox import outbox_entry

_log = logging.getLogger(__name__)

SignGroup = Callable[[list[SignJob]], Awaitable[list[Signed]]]
#: Told a group's pending marker and each stored credential's id and outbox entries (the relay).
Written = Callable[[str | None, list[tuple[str, list[dict[str, Any]]]]], None]
Result = tuple[dict[str, Any], bool]

RECENT_S = 1.0
"""How far back the most requests in flight set how many close a window early (default)."""


@dataclass(eq=False)
class _Item:
    """One request waiting for its group."""

    tenant: Tenant
    request: IssueRequest
    idempotency_key: str
    future: asyncio.Future[Result]
    series_id: str | None = None
    extra_evidence: Sequence[Evidence] = ()
    # The request's context (its trace; its database deadline): the group writes in a context of
    # its own, and builds this request's events, or answers it one by one, in this one.
    context: contextvars.Context = field(default_factory=contextvars.copy_context)

    @property
    def idem(self) -> str:
        """The reservation's ``_id``."""
        return f"{self.tenant.institution_id}|{self.idempotency_key}"


@dataclass(eq=False)
class _Accepted:
    """A request the rules accept, with what the group derived for it."""

    item: _Item
    pinned: PinnedAchievement
    credential_id: str
    profile: str
    draft: Draft | None = None
    stored: dict[str, Any] = field(default_factory=dict)


class IssueCollector:
    """Coalesces concurrent single issues into grouped writes (a few groups in flight).

    Args:
        issuing: the issuing mechanics and rules (drafts, events, slots, the one-by-one path).
        sign_group: signs a group's jobs in order, off the event loop.
        on_written: told, in one call, the group's pending marker and each stored credential's
            id and outbox entries (the relay).
        window_s: how long the first request of a group waits for others when a group could
            start at once (fewer than ``groups_in_flight`` in flight); when none could, requests
            gather until one is written. At 16 clients 6 ms gave bigger groups, less CPU per
            credential and a shorter p99 than 2, 4, 8 or 10 ms (docs/benchmarks.md). The window
            closes early once as many requests wait as were in flight (waiting or in a group)
            when a group last formed, the most of the last second (at least two): clients
            answered together come back together, within a couple of milliseconds, and waiting
            the rest of the window for more of them only delays the group. (In flight, not the
            last group's size: after the clients split into two groups, the full window is what
            lets the two halves merge again.) A lone client — groups formed during the last
            second, none with more than one request in flight — is written at once: there is no
            one to wait for (one client: 44 -> 62 issues/s, p50 22 -> 16 ms). With no group in
            the last second a first request still waits for a second one: a burst may be
            starting, and sending its first request alone split 16 clients into a group of one
            and one of fifteen (docs/benchmarks.md, 2026-12-07).
        max_group: requests per group at most.
        groups_in_flight: groups being written at once (the next forms while one is signing).
        recent_s: how far back the requests in flight count for closing a window early.
    """

    def __init__(
        self,
        issuing: IssuingService,
        *,
        sign_group: SignGroup,
        on_written: Written,
        window_s: float = 0.006,
        max_group: int = 64,
        groups_in_flight: int = 2,
        recent_s: float = RECENT_S,
    ) -> None:
        self._issuing = issuing
        self._sign_group = sign_group
        self._on_written = on_written
        self._window_s = window_s
        self._max_group = max_group
        self._in_flight = groups_in_flight
        self._recent_s = recent_s
        self._queue: list[_Item] = []
        self._arrived = asyncio.Event()  # replaced, with the runner, in the running loop
        self._pending = 0  # requests issued and not answered yet (waiting or in a group)
        self._recent: deque[tuple[float, int]] = deque()  # (when, pending) as groups formed
        self._target = 2
        self._gathered: asyncio.Future[None] | None = None
        self._runner: asyncio.Task[None] | None = None
        self._groups: set[asyncio.Task[None]] = set()
        self.groups = 0
        """Groups written so far (tests and benchmarks read it)."""

    async def issue(
        self,
        tenant: Tenant,
        request: IssueRequest,
        *,
        idempotency_key: str,
        series_id: str | None = None,
        extra_evidence: Sequence[Evidence] = (),
    ) -> Result:
        """Issue one credential as :meth:`IssuingService.issue` does, written with others.

        ``series_id`` and ``extra_evidence`` are a series' overall credential's (its components).
        """
        loop = asyncio.get_running_loop()
        item = _Item(
            tenant, request, idempotency_key, loop.create_future(), series_id, extra_evidence
        )
        self._pending += 1
        item.future.add_done_callback(self._answered)
        self._queue.append(item)
        gathered = self._gathered
        if gathered is not None and not gathered.done() and len(self._queue) >= self._target:
            gathered.set_result(None)
        if self._runner is None or self._runner.done():
            self._arrived = asyncio.Event()
            # A context of its own: created from the first request's, the collector would carry
            # that request's trace into every later group and its database deadline (10 s,
            # sceau_shared.http.deadline) into every later write.
            self._runner = loop.create_task(
                self._run(self._arrived), name="issue-collector", context=contextvars.Context()
            )
        self._arrived.set()
        # The group goes on if this caller gives up: its retry is answered from what it stored.
        return await asyncio.shield(item.future)

    async def close(self) -> None:
        """Let the groups being written finish; refuse what has not started."""
        if self._runner is not None:
            self._runner.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._runner
            self._runner = None
        if self._groups:
            await asyncio.gather(*self._groups, return_exceptions=True)
        for item in self._queue:
            if not item.future.done():
                item.future.set_exception(RuntimeError("the issuer is stopping"))
        self._queue = []

    async def _run(self, arrived: asyncio.Event) -> None:
        slots = asyncio.Semaphore(self._in_flight)
        while True:
            while not self._queue:
                arrived.clear()
                await arrived.wait()
            waited = slots.locked()
            await slots.acquire()
            if not waited and self._window_s > 0:
                # A group could start at once: give concurrent requests a moment to join.
                await self._gather()
            group, self._queue = self._queue[: self._max_group], self._queue[self._max_group :]
            self._recent.append((time.monotonic(), self._pending))
            self._forget_old_groups()
            task = asyncio.get_running_loop().create_task(self._write(group))
            self._groups.add(task)

            def done(finished: asyncio.Task[None]) -> None:
                self._groups.discard(finished)
                slots.release()

            task.add_done_callback(done)

    async def _gather(self) -> None:
        """Wait the window, or less once as many wait as were in flight lately."""
        self._forget_old_groups()
        most = max((pending for _, pending in self._recent), default=0)
        self._target = min(1 if most == 1 else max(most, 2), self._max_group)
        if len(self._queue) >= self._target:
            return
        gathered = self._gathered = asyncio.get_running_loop().create_future()
        try:
            await asyncio.wait((gathered,), timeout=self._window_s)
        finally:
            self._gathered = None
            gathered.cancel()

    def _answered(self, _: asyncio.Future[Result]) -> None:
        self._pending -= 1

    def _forget_old_groups(self) -> None:
        recent, since = self._recent, time.monotonic() - self._recent_s
        while recent and recent[0][0] < since:
            recent.popleft()

    async def _write(self, group: list[_Item]) -> None:
        """Write one group; every request's future is resolved, whatever happens."""
        self.groups += 1
        apart: list[_Item] = []
        try:
            candidates = await self._judge(group, apart)
            slots = await self._allocate(candidates)
            # The rules that read the database (accreditation, prerequisites) and the key
            # reservations run while the group is signed: signing has no effect until a
            # credential is stored, and only those that passed and won their key are. One that
            # did not leaves its signature unused and its slot unused (never set, never
            # published), as a key used before always did.
            checking = asyncio.get_running_loop().create_task(
                self._check_and_reserve(candidates, apart)
            )
            try:
                ready, marker = await self._sign(candidates, slots, checking)
            finally:
                await _stopped(checking)  # the group failed while its checks were running
            await self._store(ready, apart, marker)
        except Exception as exc:  # noqa: BLE001 - each waiting request gets the failure
            _log.exception("issuing group of %d failed", len(group))
            for item in group:
                if not item.future.done() and item not in apart:
                    item.future.set_exception(exc)
        # The requests that left the group are answered one by one, now that it is written, each
        # in its own request's context.
        loop = asyncio.get_running_loop()
        await asyncio.gather(
            *(
                loop.create_task(self._one_by_one(item), context=item.context.copy())
                for item in apart
            )
        )

    async def _one_by_one(self, item: _Item) -> None:
        if item.future.done():
            return
        try:
            result = await self._issuing.issue(
                item.tenant,
                item.request,
                idempotency_key=item.idempotency_key,
                series_id=item.series_id,
                extra_evidence=item.extra_evidence,
            )
        except Exception as exc:  # noqa: BLE001 - handed to the request
            item.future.set_exception(exc)
        else:
            item.future.set_result(result)

    async def _judge(self, group: list[_Item], apart: list[_Item]) -> list[_Accepted]:
        """The rules that need no database read (the achievement version is cached).

        Whatever is not plainly new leaves the group; the rest are the group's candidates, checked
        further by :meth:`_check_and_reserve` while they are signed.
        """
        issuing = self._issuing
        ready: list[_Accepted] = []
        seen: set[str] = set()
        for item in group:
            tenant, request = item.tenant, item.request
            try:
                issuing.check_active(tenant)
                pinned = await issuing.achievements.pinned(
                    tenant, request.achievement_id, request.achievement_version
                )
                check_fits(pinned, request.results, request.credits_earned)
            except Exception:  # noqa: BLE001 - answered, in the rules' order, one by one
                apart.append(item)
                continue
            credential_id = issuing.credential_id(
                dedupe_key(
                    tenant.institution_id, pinned.achievement_id, pinned.version, request.recipient
                )
            )
            if item.idem in seen or credential_id in seen:
                apart.append(item)  # the same key or recipient twice: after the first
                continue
            seen.update((item.idem, credential_id))
            profile = (request.profile or pinned.definition.profile).value
            ready.append(_Accepted(item, pinned, credential_id, profile))
        return ready

    async def _check_and_reserve(
        self, candidates: list[_Accepted], apart: list[_Item]
    ) -> list[_Accepted]:
        """The rules that read the database, then the key reservations: who is stored."""
        accredited = await self._accredited(candidates, apart)
        return await self._reserve(await self._prerequisites(accredited, apart), apart)

    async def _accredited(self, candidates: list[_Accepted], apart: list[_Item]) -> list[_Accepted]:
        """The registry's accreditation, read once per institution of the group."""
        accreditations: dict[str, Any] = {}
        kept: list[_Accepted] = []
        now = utcnow()
        for accepted in candidates:
            institution_id = accepted.item.tenant.institution_id
            try:
                if institution_id not in accreditations:
                    accreditations[institution_id] = await self._issuing.tenants.accreditation(
                        institution_id
                    )
                check_accredited(
                    accreditations[institution_id],
                    institution_id=institution_id,
                    achievement_type=accepted.pinned.achievement_type,
                    level=accepted.pinned.definition.level,
                    now=now,
                )
            except Exception:  # noqa: BLE001 - answered, in the rules' order, one by one
                apart.append(accepted.item)
                continue
            kept.append(accepted)
        return kept

    async def _prerequisites(self, ready: list[_Accepted], apart: list[_Item]) -> list[_Accepted]:
        """Progressive series: learners lacking an earlier module are answered apart."""
        by_achievement: dict[tuple[str, str, int], list[_Accepted]] = {}
        for accepted in ready:
            key = (
                accepted.item.tenant.institution_id,
                accepted.pinned.achievement_id,
                accepted.pinned.version,
            )
            by_achievement.setdefault(key, []).append(accepted)
        kept: list[_Accepted] = []
        for same in by_achievement.values():
            emails = [normalize_email(str(a.item.request.recipient.email)) for a in same]
            try:
                lacking = await self._issuing.policy.prerequisite_problems(
                    same[0].item.tenant, same[0].pinned, emails
                )
            except Exception:  # noqa: BLE001 - answered one by one
                apart.extend(a.item for a in same)
                continue
            for accepted, email in zip(same, emails, strict=True):
                if email in lacking:
                    apart.append(accepted.item)
                else:
                    kept.append(accepted)
        return kept

    async def _reserve(self, ready: list[_Accepted], apart: list[_Item]) -> list[_Accepted]:
        """Reserve the keys in one insert; a key used before is answered one by one."""
        at = utcnow()
        taken = await self._issuing.reservations.reserve_many(
            [
                reservation_document(
                    a.item.idem,
                    request_fingerprint(a.item.request, series_id=a.item.series_id),
                    a.credential_id,
                    a.pinned.version,
                    at,
                )
                for a in ready
            ]
        )
        apart.extend(a.item for n, a in enumerate(ready) if n in taken)
        return [a for n, a in enumerate(ready) if n not in taken]

    async def _allocate(self, ready: list[_Accepted]) -> dict[str, StatusSlot]:
        """The group's status slots by credential id, per list family from the replica's stock."""
        families: dict[tuple[str, str], list[_Accepted]] = {}
        for accepted in ready:
            key = (accepted.item.tenant.institution_id, list_format(accepted.profile))
            families.setdefault(key, []).append(accepted)
        slots: dict[str, StatusSlot] = {}
        for same in families.values():
            tenant, profile = same[0].item.tenant, same[0].profile
            run = await self._issuing.allocate_many(tenant, profile, len(same))
            slots.update((a.credential_id, slot) for a, slot in zip(same, run, strict=True))
        return slots

    async def _sign(
        self,
        candidates: list[_Accepted],
        slots: dict[str, StatusSlot],
        checking: asyncio.Task[list[_Accepted]],
    ) -> tuple[list[_Accepted], str | None]:
        """Draft and sign the candidates (in the signing processes) while ``checking`` runs.

        Returns the candidates ``checking`` kept (rules passed, key won), each with its signed
        document or with its own error set (the others left the group for the one-by-one path),
        and the pending marker of the kept ones' events.
        """
        issuing = self._issuing
        failed: dict[_Accepted, BaseException] = {}
        for accepted in candidates:
            slot = slots[accepted.credential_id]
            request = accepted.item.request
            try:
                accepted.draft = issuing.draft(
                    tenant=accepted.item.tenant,
                    pinned=accepted.pinned,
                    recipient=request.recipient,
                    profile=accepted.profile,
                    slot=slot,
                    idem=accepted.item.idem,
                    series_id=accepted.item.series_id,
                    extra_evidence=accepted.item.extra_evidence,
                    results=request.results,
                    evidence=request.evidence,
                    credits_earned=request.credits_earned,
                )
            except Exception as exc:  # noqa: BLE001 - this request's own error (if it is kept)
                failed[accepted] = exc
        drafts = [(a, a.draft) for a in candidates if a.draft is not None]
        for accepted, draft in drafts:
            # Built in the request's context: the events carry its trace, not the group's.
            events = accepted.item.context.copy().run(
                issuing.events, accepted.item.tenant, accepted.pinned, draft.doc
            )
            accepted.stored = {**draft.doc, "outbox": [outbox_entry(e) for e in events]}

        async def mark_kept() -> str | None:
            # The events' pending marker (one for the kept credentials) goes in while the group
            # is signed: it must precede the credentials; one whose signature then fails is
            # never stored, and the sweep passes over it.
            kept = set(await asyncio.shield(checking))
            return await issuing.credentials.mark_group([a.stored for a, _ in drafts if a in kept])

        marking = asyncio.get_running_loop().create_task(mark_kept())
        jobs = [draft.job for _, draft in drafts]
        try:
            outcomes: list[Signed | BaseException] = list(await self._sign_group(jobs))
        except Exception:  # noqa: BLE001 - find whose credential failed: sign them apart
            outcomes = list(
                await asyncio.gather(*(self._sign_one(job) for job in jobs), return_exceptions=True)
            )
        finally:
            marker = await marking
        ready = await checking
        kept = set(ready)
        for accepted in ready:
            if accepted in failed:
                accepted.item.future.set_exception(failed[accepted])
        for (accepted, draft), outcome in zip(drafts, outcomes, strict=True):
            if accepted not in kept:
                accepted.draft = None  # left the group: answered one by one
            elif isinstance(outcome, BaseException):
                accepted.item.future.set_exception(outcome)
                accepted.draft = None
            else:
                draft.doc["document"] = outcome
                accepted.stored["document"] = outcome
        signed = [(a, d) for a, d in drafts if a.draft is not None]
        # Institutions that chose selective disclosure: the ecdsa-sd-2023 base copy, stored too.
        await issuing.add_base_proofs([(a.item.tenant, a.stored) for a, _ in signed])
        for accepted, draft in signed:
            if "sd_document" in accepted.stored:
                draft.doc["sd_document"] = accepted.stored["sd_document"]
        return ready, marker

    async def _sign_one(self, job: SignJob) -> Signed:
        [signed] = await self._sign_group([job])
        return signed

    async def _store(self, ready: list[_Accepted], apart: list[_Item], marker: str | None) -> None:
        """Insert the signed credentials with their events; hand the events to the relay.

        The stored ones go to the relay in one call, with their write's ``marker``: it is
        deleted once all of them are published.
        """
        issuing = self._issuing
        signed = [(a, a.draft) for a in ready if a.draft is not None]
        try:
            duplicates = await issuing.credentials.insert_many(
                [a.stored for a, _ in signed], marked=True
            )
        except Exception:
            # Some may be stored (unordered insert): have the relay read them back by id.
            for accepted, _ in signed:
                issuing.notify_stored("credential", accepted.credential_id)
            raise
        stored = [(a, d) for n, (a, d) in enumerate(signed) if n not in duplicates]
        self._on_written(marker, [(a.credential_id, a.stored["outbox"]) for a, _ in stored])
        for accepted, draft in stored:
            accepted.item.future.set_result((draft.doc, False))
        for n, (accepted, _) in enumerate(signed):
            if n in duplicates:
                await self._collided(accepted, apart)

    async def _collided(self, accepted: _Accepted, apart: list[_Item]) -> None:
        """The credential's ``_id`` was taken between the rules and the insert."""
        issuing, item = self._issuing, accepted.item
        held = await issuing.credentials.by_id(accepted.credential_id)
        if held is not None and held.get("idem") == item.idem:
            # Stored under this very key by a retry answered one by one meanwhile.
            item.future.set_result((held, True))
            return
        # Another key's credential: this key changes nothing and the request is answered (409)
        # one by one.
        await issuing.reservations.release(item.idem, accepted.credential_id)
        apart.append(item)


async def _stopped(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` if it is still running and wait for it (its outcome is not wanted)."""
    if not task.done():
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
