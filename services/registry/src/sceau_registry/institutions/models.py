"""The registry's domain: institutions, their lifecycle and accreditation — all *as of* a date.

Nothing here touches a database or a web framework. Every answer the registry gives about the past
("was this issuer accredited when it signed?") is computed from append-only histories kept on the
institution: status changes and accreditation scopes are never edited in place, only added (a
withdrawn scope keeps its record with the date it ended), so any date can be replayed.

Times are kept at millisecond precision, the precision MongoDB stores, so that a value read back
compares equal to the value written. Keys and their windows are in
:mod:`sceau_registry.keys.models`; the trust answer built from both is in
:mod:`sceau_registry.trust.models`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Final

from sceau_shared.events import DidMethod, InstitutionStatus

CATEGORIES: Final = (
    "public-college",
    "university",
    "indigenous-institute",
    "private-provider",
    "industry-association",
    "employer",
    "regulator",
)
"""The fixed list of institution categories (issue 5)."""

APPROVALS: Final = (
    "institutional-approval",
    "ministry-approval",
    "osap-eligible",
    "sector-review",
)
"""Quality-assurance facts an institution may be registered with (R59): its programmes pass an
institutional approval process, a ministry approves them (or they are OSAP-eligible), or a
sector or industry body reviews them."""


class Role(StrEnum):
    """What an accreditation scope lets an institution do."""

    ISSUER = "issuer"
    ENDORSER = "endorser"
    ACCREDITOR = "accreditor"


TRANSITIONS: Final[dict[InstitutionStatus, frozenset[InstitutionStatus]]] = {
    InstitutionStatus.PENDING: frozenset({InstitutionStatus.ACTIVE, InstitutionStatus.FORMER}),
    InstitutionStatus.ACTIVE: frozenset({InstitutionStatus.SUSPENDED, InstitutionStatus.FORMER}),
    InstitutionStatus.SUSPENDED: frozenset({InstitutionStatus.ACTIVE, InstitutionStatus.FORMER}),
    InstitutionStatus.FORMER: frozenset(),
}
"""Allowed lifecycle moves: pending → active ⇄ suspended, and any non-former state → former."""

INSTITUTION_ID: Final = re.compile(r"^[a-z0-9][a-z0-9-]{1,62}$")
DID_PATTERN: Final = re.compile(r"^did:[a-z0-9]+:(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2}|:)+$")
DOMAIN_PATTERN: Final = re.compile(
    r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$"
)


class DomainError(ValueError):
    """A governance request breaks a rule of the domain (message says which)."""


def to_ms(moment: datetime) -> datetime:
    """Return ``moment`` in UTC truncated to milliseconds (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    return moment.replace(microsecond=(moment.microsecond // 1000) * 1000)


def is_did(value: str) -> bool:
    """Return whether ``value`` is syntactically a DID (no fragment, query or path)."""
    return len(value) <= 2048 and DID_PATTERN.fullmatch(value) is not None


@dataclass(frozen=True)
class StatusChange:
    """One lifecycle step: the new status, from when it holds, and who decided it and why."""

    change_id: str
    status: InstitutionStatus
    effective_at: datetime
    recorded_at: datetime
    actor: str
    reason: str


@dataclass(frozen=True)
class Scope:
    """What an institution may do (role, achievement types, levels) and over which window.

    A withdrawn scope is kept with ``withdrawn_at``; it was valid before that date.
    """

    scope_id: str
    role: Role
    achievement_types: tuple[str, ...]
    levels: tuple[str, ...]
    valid_from: datetime
    valid_until: datetime | None
    accreditor: str | None
    granted_at: datetime
    granted_by: str
    reason: str
    withdrawn_at: datetime | None = None
    withdrawn_by: str | None = None
    withdraw_reason: str | None = None

    def valid_at(self, moment: datetime) -> bool:
        """Whether the scope covered ``moment``."""
        if moment < self.valid_from:
            return False
        if self.valid_until is not None and moment >= self.valid_until:
            return False
        return self.withdrawn_at is None or moment < self.withdrawn_at


@dataclass(frozen=True)
class Institution:
    """A registered institution with its full, append-only history."""

    institution_id: str
    name_fr: str
    name_en: str
    category: str
    jurisdiction: str
    domain: str | None
    qa_body: str | None
    contact_email: str | None
    did_method: DidMethod
    registered_at: datetime
    history: tuple[StatusChange, ...]
    scopes: tuple[Scope, ...] = ()
    dids: tuple[str, ...] = ()
    #: The languages it publishes in; bilingual (FR+EN required on publication) only when both
    #: French and English are listed (R18). Registrations from before the field are FR+EN.
    languages: tuple[str, ...] = ("fr", "en")
    #: QA facts recorded at registration (values of :data:`APPROVALS`), shown to verifiers.
    approvals: tuple[str, ...] = ()
    rev: int = 0

    @property
    def status(self) -> InstitutionStatus:
        """The current status (the latest step of the history)."""
        return self.history[-1].status

    def status_at(self, moment: datetime) -> InstitutionStatus | None:
        """The status in force at ``moment``; ``None`` before the institution was registered."""
        current: InstitutionStatus | None = None
        for change in self.history:
            if change.effective_at <= moment:
                current = change.status
            else:
                break
        return current

    def scopes_at(self, moment: datetime) -> list[Scope]:
        """Scopes in force at ``moment`` (whatever the institution's status was)."""
        return [scope for scope in self.scopes if scope.valid_at(moment)]

    def accredited_types_at(self, moment: datetime) -> list[str]:
        """Achievement types it was accredited to *issue* at ``moment`` (active status only)."""
        if self.status_at(moment) is not InstitutionStatus.ACTIVE:
            return []
        types: set[str] = set()
        for scope in self.scopes_at(moment):
            if scope.role is Role.ISSUER:
                types.update(scope.achievement_types)
        return sorted(types)

    def accredited_at(self, moment: datetime) -> bool:
        """Whether it was an active institution with an issuer scope in force at ``moment``."""
        return bool(self.accredited_types_at(moment))

    def roles_at(self, moment: datetime) -> list[str]:
        """Roles it held at ``moment`` (only while active)."""
        if self.status_at(moment) is not InstitutionStatus.ACTIVE:
            return []
        return sorted({scope.role.value for scope in self.scopes_at(moment)})

    # --- state changes (return new values; the repository persists them) ----------------------

    def transition(self, change: StatusChange) -> Institution:
        """Return the institution after ``change``, refusing moves the lifecycle forbids."""
        current = self.status
        if change.status not in TRANSITIONS[current]:
            raise DomainError(f"cannot go from {current.value} to {change.status.value}")
        if change.effective_at < self.history[-1].effective_at:
            raise DomainError(
                "effective_at is before the previous lifecycle change "
                f"({self.history[-1].effective_at.isoformat()}); history cannot be rewritten"
            )
        return replace(self, history=(*self.history, change))

    def grant(self, scope: Scope) -> Institution:
        """Return the institution with a new accreditation scope."""
        if self.status is InstitutionStatus.FORMER:
            raise DomainError("a former institution cannot be accredited")
        if scope.valid_until is not None and scope.valid_until <= scope.valid_from:
            raise DomainError("valid_until must be after valid_from")
        return replace(self, scopes=(*self.scopes, scope))

    def withdraw(self, scope_id: str, *, at: datetime, actor: str, reason: str) -> Institution:
        """Return the institution with one scope ended at ``at`` (kept in the history)."""
        for index, scope in enumerate(self.scopes):
            if scope.scope_id != scope_id:
                continue
            if scope.withdrawn_at is not None:
                raise DomainError(f"scope {scope_id} was already withdrawn")
            ended = replace(scope, withdrawn_at=at, withdrawn_by=actor, withdraw_reason=reason)
            return replace(self, scopes=(*self.scopes[:index], ended, *self.scopes[index + 1 :]))
        raise LookupError(scope_id)
