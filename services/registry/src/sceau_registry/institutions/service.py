"""Governance: registering institutions, moving them along their lifecycle, accrediting them.

Each operation reads the institution, computes the new state with the domain rules and writes it
back (one update, serialized with the service's other writes to institution documents). Its audit
entries and outgoing events are then *derived from the stored history* and inserted with ids taken
from the change ids, so inserting them again is a no-op: a crash between the steps is repaired by
:meth:`GovernanceService.reconcile` at the next start, and nothing accepted is ever lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta
from typing import Any

from sceau_registry.errors import (
    ConcurrentChange,
    DidTaken,
    InstitutionExists,
    InstitutionNotFound,
    InvalidGovernanceRequest,
    LifecycleConflict,
    ScopeNotFound,
)
from sceau_registry.institutions.models import DomainError, Institution, Scope, StatusChange, to_ms
from sceau_registry.institutions.repository import AuditLog, Institutions, StaleRevision
from sceau_registry.keys.didhosting import hosted_did, own_domain_did
from sceau_registry.outbox.repository import EventLog, event_id_for
from sceau_registry.schemas import ChangeStatus, GrantScope, RegisterInstitution, WithdrawScope
from sceau_shared.events import (
    AccreditationChangedV1,
    AccreditationScope,
    BilingualText,
    DidMethod,
    Event,
    InstitutionRegisteredV1,
    InstitutionStatus,
    utcnow,
)
from sceau_shared.transient import is_transient

MAX_CLOCK_SKEW = timedelta(minutes=5)
REPAIR_INTERVAL_S = 2.0

#: How long a queued institution that is not (yet) stored stays queued: a write that met an
#: outage may be applied by the server when it resumes, after the repair's first look.
REPAIR_GRACE_S = 120.0

_log = logging.getLogger(__name__)

Listener = Callable[[Institution], None]


def accreditation_event(
    inst: Institution, *, producer: str, effective_at: datetime, reason: str, change_id: str
) -> AccreditationChangedV1:
    """The event telling verifiers (and the issuer) that an institution's standing changed."""
    scopes = [
        AccreditationScope(
            achievement_types=list(s.achievement_types),
            levels=list(s.levels),
            role=s.role.value,
            valid_from=s.valid_from,
            valid_until=min(
                (d for d in (s.valid_until, s.withdrawn_at) if d is not None), default=None
            ),
        )
        for s in inst.scopes
    ]
    return AccreditationChangedV1(
        event_id=event_id_for(change_id, "accreditation-changed"),
        producer=producer,
        institution_id=inst.institution_id,
        dids=list(inst.dids),
        status=inst.status,
        scopes=scopes,
        effective_at=effective_at,
        reason=reason,
    )


def registered_event(inst: Institution, *, producer: str) -> InstitutionRegisteredV1:
    """The event that makes the issuer create the institution's tenant."""
    hosted = inst.dids[0] if inst.did_method is DidMethod.HOSTED_WEB and inst.dids else None
    return InstitutionRegisteredV1(
        event_id=event_id_for(inst.history[0].change_id, "institution-registered"),
        producer=producer,
        institution_id=inst.institution_id,
        legal_name=BilingualText(fr=inst.name_fr, en=inst.name_en),
        category=inst.category,
        jurisdiction=inst.jurisdiction,
        domain=inst.domain,
        did_method=inst.did_method,
        hosted_did=hosted,
        contact_email=inst.contact_email,
        languages=list(inst.languages),
    )


def did_link_change_id(institution_id: str, did: str) -> str:
    """The change id of "this DID was linked to this institution" (one per pair)."""
    return f"{institution_id}:did:{did}"


def events_of(inst: Institution, *, producer: str) -> list[Event]:
    """Every event the institution's history calls for, in order, with stable ids."""
    events: list[Event] = [registered_event(inst, producer=producer)]
    for step in inst.history[1:]:
        events.append(
            accreditation_event(
                inst,
                producer=producer,
                effective_at=step.effective_at,
                reason=f"status:{step.status.value}: {step.reason}",
                change_id=step.change_id,
            )
        )
    for scope in inst.scopes:
        events.append(
            accreditation_event(
                inst,
                producer=producer,
                effective_at=scope.valid_from,
                reason=f"scope-granted: {scope.reason}",
                change_id=scope.scope_id,
            )
        )
        if scope.withdrawn_at is not None:
            events.append(
                accreditation_event(
                    inst,
                    producer=producer,
                    effective_at=scope.withdrawn_at,
                    reason=f"scope-withdrawn: {scope.withdraw_reason or ''}",
                    change_id=f"{scope.scope_id}:withdrawn",
                )
            )
    first_linked = 0 if inst.did_method is DidMethod.KEY else 1
    for did in inst.dids[first_linked:]:
        events.append(
            accreditation_event(
                inst,
                producer=producer,
                effective_at=inst.registered_at,
                reason="did-linked",
                change_id=did_link_change_id(inst.institution_id, did),
            )
        )
    return events


class GovernanceService:
    """Operator actions on institutions (every one audited with who, when and why)."""

    def __init__(
        self,
        institutions: Institutions,
        audit: AuditLog,
        events: EventLog,
        *,
        write_lock: asyncio.Lock,
        public_base_url: str,
        producer: str,
        on_change: Listener,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._institutions = institutions
        self._audit = audit
        self._events = events
        self._lock = write_lock
        self._base_url = public_base_url
        self._producer = producer
        self._on_change = on_change
        self._clock = clock
        # Institutions whose audit entries and events may be missing (a write met an outage).
        self._unrecorded: dict[str, float] = {}  # institution -> when queued (monotonic)
        self._repair_wakeup = asyncio.Event()

    def _now(self) -> datetime:
        return to_ms(self._clock())

    def _effective(self, requested: datetime | None, now: datetime) -> datetime:
        if requested is None:
            return now
        moment = to_ms(requested)
        if moment > now + MAX_CLOCK_SKEW:
            raise InvalidGovernanceRequest(
                "effective_at may not be in the future: schedule the change when it happens"
            )
        return moment

    async def _load(self, institution_id: str) -> Institution:
        inst = await self._institutions.get(institution_id)
        if inst is None:
            raise InstitutionNotFound(f"no institution {institution_id!r}")
        return inst

    async def get(self, institution_id: str) -> Institution:
        """Return one institution or raise :class:`InstitutionNotFound`."""
        return await self._load(institution_id)

    async def register(self, request: RegisterInstitution, *, actor: str) -> Institution:
        """Register an institution as ``pending`` and announce it (the issuer makes a tenant)."""
        if not (request.legal_name.fr or request.legal_name.en):
            raise InvalidGovernanceRequest("a legal name in French or English is required")
        institution_id = request.institution_id or uuid.uuid4().hex
        dids: tuple[str, ...] = ()
        if request.did_method is DidMethod.WEB:
            if request.domain is None:
                raise InvalidGovernanceRequest("did_method 'web' needs the institution's domain")
            dids = (own_domain_did(request.domain),)
        elif request.did_method is DidMethod.HOSTED_WEB:
            dids = (hosted_did(self._base_url, institution_id),)
        now = self._now()
        since = self._effective(request.effective_at, now)
        inst = Institution(
            institution_id=institution_id,
            name_fr=request.legal_name.fr,
            name_en=request.legal_name.en,
            category=request.category,
            jurisdiction=request.jurisdiction,
            domain=request.domain,
            qa_body=request.qa_body,
            contact_email=str(request.contact_email) if request.contact_email else None,
            did_method=request.did_method,
            registered_at=since,
            history=(
                StatusChange(
                    change_id=uuid.uuid4().hex,
                    status=InstitutionStatus.PENDING,
                    effective_at=since,
                    recorded_at=now,
                    actor=actor,
                    reason=request.reason,
                ),
            ),
            dids=dids,
            languages=tuple(request.languages),
            approvals=tuple(dict.fromkeys(request.approvals)),
        )
        async with self._repaired_on_outage(institution_id):
            inserted = await self._institutions.insert(inst)
        if not inserted:
            raise InstitutionExists(f"institution {institution_id!r} is already registered")
        await self._record(inst)
        return inst

    async def change_status(
        self, institution_id: str, request: ChangeStatus, *, actor: str
    ) -> Institution:
        """Move an institution to another lifecycle status, effective now or at a past date."""
        async with self._lock:
            return await self._change_status(institution_id, request, actor=actor)

    async def _change_status(
        self, institution_id: str, request: ChangeStatus, *, actor: str
    ) -> Institution:
        inst = await self._load(institution_id)
        now = self._now()
        change = StatusChange(
            change_id=uuid.uuid4().hex,
            status=request.status,
            effective_at=self._effective(request.effective_at, now),
            recorded_at=now,
            actor=actor,
            reason=request.reason,
        )
        try:
            changed = inst.transition(change)
        except DomainError as exc:
            raise LifecycleConflict(str(exc)) from exc
        return await self._save(inst, changed)

    async def grant_scope(
        self, institution_id: str, request: GrantScope, *, actor: str
    ) -> tuple[Institution, Scope]:
        """Add an accreditation scope."""
        async with self._lock:
            return await self._grant_scope(institution_id, request, actor=actor)

    async def _grant_scope(
        self, institution_id: str, request: GrantScope, *, actor: str
    ) -> tuple[Institution, Scope]:
        inst = await self._load(institution_id)
        now = self._now()
        scope = Scope(
            scope_id=uuid.uuid4().hex,
            role=request.role,
            achievement_types=tuple(dict.fromkeys(request.achievement_types)),
            levels=tuple(dict.fromkeys(request.levels)),
            valid_from=to_ms(request.valid_from),
            valid_until=to_ms(request.valid_until) if request.valid_until else None,
            accreditor=request.accreditor,
            granted_at=now,
            granted_by=actor,
            reason=request.reason,
        )
        try:
            changed = inst.grant(scope)
        except DomainError as exc:
            raise InvalidGovernanceRequest(str(exc)) from exc
        return await self._save(inst, changed), scope

    async def withdraw_scope(
        self, institution_id: str, scope_id: str, request: WithdrawScope, *, actor: str
    ) -> Institution:
        """End an accreditation scope at a date (now by default)."""
        async with self._lock:
            return await self._withdraw_scope(institution_id, scope_id, request, actor=actor)

    async def _withdraw_scope(
        self, institution_id: str, scope_id: str, request: WithdrawScope, *, actor: str
    ) -> Institution:
        inst = await self._load(institution_id)
        now = self._now()
        at = self._effective(request.effective_at, now)
        try:
            changed = inst.withdraw(scope_id, at=at, actor=actor, reason=request.reason)
        except LookupError as exc:
            raise ScopeNotFound(f"no scope {scope_id!r} on {institution_id!r}") from exc
        except DomainError as exc:
            raise LifecycleConflict(str(exc)) from exc
        return await self._save(inst, changed)

    async def _save(self, before: Institution, after: Institution) -> Institution:
        try:
            async with self._repaired_on_outage(before.institution_id):
                await self._institutions.save(after, expected_rev=before.rev)
        except StaleRevision as exc:
            raise ConcurrentChange(
                f"institution {before.institution_id!r} changed meanwhile; read it again and retry"
            ) from exc
        try:
            saved = await self._load(before.institution_id)
        except Exception as exc:
            if not is_transient(exc):
                raise
            self._queue_repair(before.institution_id)
            return after  # stored; its audit entries and events follow with the repair
        await self._record(saved)
        return saved

    async def _record(self, inst: Institution) -> None:
        """Append what the stored history calls for: audit entries, then outgoing events.

        The change itself is stored already: an outage here queues the repair instead of
        failing a request whose change was accepted.
        """
        try:
            await self._audit.record_for(inst)
            await self._events.add(events_of(inst, producer=self._producer))
        except Exception as exc:
            self._queue_repair(inst.institution_id)
            if not is_transient(exc):
                raise
            _log.warning(
                "events of institution %s queued for repair: %s",
                inst.institution_id,
                type(exc).__name__,
            )
        self._on_change(inst)

    @contextlib.asynccontextmanager
    async def _repaired_on_outage(self, institution_id: str) -> AsyncIterator[None]:
        # A write that meets an outage may still land (a paused server applies it on resuming):
        # queue the institution so its events are written if it did.
        try:
            yield
        except Exception as exc:
            if is_transient(exc):
                self._queue_repair(institution_id)
            raise

    def _queue_repair(self, institution_id: str) -> None:
        self._unrecorded.setdefault(institution_id, time.monotonic())
        self._repair_wakeup.set()

    @property
    def awaiting_repair(self) -> list[str]:
        """Institutions whose audit entries and events have not been confirmed written."""
        return list(self._unrecorded)

    async def repair(self) -> int:
        """Write what queued institutions' histories call for; return how many were repaired."""
        repaired = 0
        for institution_id, queued_at in list(self._unrecorded.items()):
            async with self._lock:
                inst = await self._institutions.get(institution_id)
                if inst is None and time.monotonic() - queued_at < REPAIR_GRACE_S:
                    # Not stored, or not yet: the write that met the outage may still be applied
                    # (a paused server resumes the requests it had received). Look again later.
                    continue
                if inst is not None:
                    await self._audit.record_for(inst)
                    await self._events.add(events_of(inst, producer=self._producer))
                    self._on_change(inst)
            self._unrecorded.pop(institution_id, None)
            repaired += 1
        return repaired

    async def run_repairs(self, interval_s: float = REPAIR_INTERVAL_S) -> None:
        """Repair queued institutions until cancelled, retrying while the database is away."""
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(interval_s):
                    await self._repair_wakeup.wait()
            self._repair_wakeup.clear()
            if not self._unrecorded:
                continue
            try:
                await self.repair()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - the queue stays; try again next round
                _log.warning("institution repair failed, retrying: %s", type(exc).__name__)

    async def link_did(self, institution_id: str, did: str) -> Institution | None:
        """Attach a DID announced by the issuer to its institution (once)."""
        async with self._lock:
            inst = await self._institutions.get(institution_id)
            if inst is None:
                return None
            if did not in inst.dids:
                try:
                    await self._institutions.link_did(institution_id, did)
                except DidTaken as exc:
                    # A key event for a DID another institution owns: never attach it twice.
                    _log.error("DID not linked to %s: %s", institution_id, exc.detail)
                    return inst
                inst = await self._load(institution_id)
            await self._events.add(events_of(inst, producer=self._producer))
            self._on_change(inst)
            return inst

    async def audit(
        self, *, institution_id: str | None, page: int, page_size: int
    ) -> tuple[list[dict[str, Any]], int]:
        """Audit entries, oldest first."""
        return await self._audit.list(institution_id=institution_id, page=page, page_size=page_size)

    async def reconcile(self) -> int:
        """Write audit entries and events a crash left unwritten; return how many were missing."""
        added = 0
        for inst in await self._institutions.all():
            # Institutions stored before DIDs had owners get their claims (first come wins).
            for conflict in await self._institutions.claim_dids(inst):
                _log.error("institution %s: %s", inst.institution_id, conflict.detail)
            added += await self._audit.record_for(inst)
            added += await self._events.add(events_of(inst, producer=self._producer))
        return added
