"""Revoke, suspend, reinstate (one or many) and re-issue; each change carries its events."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sceau_issuer.errors import StatusTransitionRefused
from sceau_issuer.issuing.repository import CredentialQuery, CredentialRepository
from sceau_issuer.issuing.schemas import IssueRequest, RecipientInput
from sceau_issuer.issuing.service import IssuingService
from sceau_issuer.status.changes_repository import StatusChangeLog
from sceau_issuer.status.schemas import (
    CredentialFilter,
    ReasonCode,
    ReissueRequest,
    StatusAction,
)
from sceau_issuer.status.suspension import check_suspendable
from sceau_issuer.tenants.models import Tenant
from sceau_shared.errors import InvalidInput
from sceau_shared.events import (
    BilingualText,
    CredentialStatusChangedV1,
    Event,
    NotificationKind,
    NotificationRequestedV1,
    StatusChange,
    utcnow,
)

# action -> (states it applies to, new state, change, notification kind)
TRANSITIONS: dict[StatusAction, tuple[tuple[str, ...], str, StatusChange, NotificationKind]] = {
    StatusAction.REVOKE: (
        ("active", "suspended"),
        "revoked",
        StatusChange.REVOKED,
        NotificationKind.REVOKED,
    ),
    StatusAction.SUSPEND: (
        ("active",),
        "suspended",
        StatusChange.SUSPENDED,
        NotificationKind.SUSPENDED,
    ),
    StatusAction.REINSTATE: (
        ("suspended",),
        "active",
        StatusChange.REINSTATED,
        NotificationKind.REINSTATED,
    ),
}

MAX_BULK = 10_000


class StatusService:
    """Applies status changes; the publisher re-signs the affected lists afterwards."""

    def __init__(
        self,
        credentials: CredentialRepository,
        issuing: IssuingService,
        changes: StatusChangeLog,
        *,
        producer: str,
        on_change: Callable[[str | None], None] = lambda alloc_list_id: None,
        on_event: Callable[[str], None] = lambda credential_id: None,
    ) -> None:
        self._on_event = on_event
        self._credentials = credentials
        self._changes = changes
        self._issuing = issuing
        self._producer = producer
        self._on_change = on_change
        self._touched: set[str | None] = set()

    def _events(
        self,
        tenant: Tenant,
        doc: dict[str, Any],
        change: StatusChange,
        kind: NotificationKind,
        reason: str,
        superseded_by: str | None = None,
        note: str | None = None,
    ) -> list[Event]:
        now = utcnow()
        credential_id = f"urn:uuid:{doc['_id']}"
        recipient = doc["recipient"]
        pinned_name = doc.get("achievement_name") or {}
        return [
            CredentialStatusChangedV1(
                producer=self._producer,
                credential_id=credential_id,
                institution_id=tenant.institution_id,
                issuer_did=doc["issuer_did"],
                change=change,
                reason_code=reason,
                effective_at=now,
                superseded_by=superseded_by,
            ),
            NotificationRequestedV1(
                producer=self._producer,
                kind=kind,
                credential_id=credential_id,
                institution_id=tenant.institution_id,
                recipient_email=recipient["email"],
                recipient_name=recipient.get("name"),
                language=recipient.get("language", "fr"),
                institution_name=tenant.name,
                institution_contact=tenant.contact_email,
                achievement_name=BilingualText(**pinned_name),
                issued_at=doc["issued_at"],
                valid_until=doc.get("valid_until"),
                verification_url=f"{self._issuing.config.verifier_public_url}/",
                reason_code=reason,
                note=note,
                superseded_by=superseded_by,
                learner_page_url=self._issuing.learner_page_url(tenant.institution_id, doc["_id"]),
            ),
        ]

    async def _named(self, tenant: Tenant, doc: dict[str, Any]) -> dict[str, Any]:
        pinned = await self._issuing.achievements.pinned(
            tenant, doc["achievement_id"], int(doc["achievement_version"])
        )
        name = BilingualText.of(pinned.engine.name)
        return {**doc, "achievement_name": {"fr": name.fr, "en": name.en}}

    async def change(
        self,
        tenant: Tenant,
        credential_id: str,
        action: StatusAction,
        reason: ReasonCode | str,
        *,
        superseded_by: str | None = None,
        notify: bool = True,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Apply one change; repeating a change already in effect is a no-op, not an error.

        ``note`` (the institution's own words) is stored with the change, replacing the note
        of an earlier change, and told to the learner with the reason.
        """
        doc = await self._issuing.get(tenant.institution_id, credential_id)
        from_states, new_state, change, kind = TRANSITIONS[action]
        check_suspendable(doc, action)
        if doc["status"] == new_state:
            return doc
        if doc["status"] not in from_states:
            raise StatusTransitionRefused(
                f"cannot {action.value} a {doc['status']} credential"
                + (" (revocation is final)" if doc["status"] == "revoked" else ""),
                extra={"credential_id": doc["_id"], "status": doc["status"]},
            )
        reason_text = str(getattr(reason, "value", reason))
        if superseded_by and action == StatusAction.REVOKE:
            change, kind = StatusChange.REVOKED, NotificationKind.SUPERSEDED
        events = self._events(
            tenant, await self._named(tenant, doc), change, kind, reason_text, superseded_by, note
        )
        at = utcnow()
        values = {
            "status": new_state,
            "reason_code": reason_text,
            "status_note": note,
            "status_changed_at": at,
        }
        if doc.get("status_alloc"):
            # Logged first: the list's rebuild finds every change without scanning credentials.
            await self._changes.record(str(doc["status_alloc"]), str(doc["_id"]), at)
        if superseded_by:
            values["superseded_by"] = superseded_by.removeprefix("urn:uuid:")
        changed = await self._credentials.change_status(
            tenant.institution_id, doc["_id"], from_states=from_states, values=values, events=events
        )
        if changed:
            self._on_event(doc["_id"])
            self._on_change_list(doc.get("status_alloc"), notify)
        else:
            again = await self._issuing.get(tenant.institution_id, credential_id)
            if again["status"] != new_state:
                raise StatusTransitionRefused(f"the credential became {again['status']} meanwhile")
            return again
        return {**doc, **values}

    def _on_change_list(self, alloc_list_id: str | None, wake: bool) -> None:
        self._touched.add(alloc_list_id)
        if wake:
            self._flush()

    def _flush(self) -> None:
        touched, self._touched = self._touched, set()
        for alloc_list_id in touched:
            self._on_change(alloc_list_id)

    async def change_many(
        self,
        tenant: Tenant,
        action: StatusAction,
        reason: ReasonCode,
        *,
        ids: list[str] | None,
        flt: CredentialFilter | None,
        note: str | None = None,
    ) -> list[dict[str, Any]]:
        """Apply a change to many credentials; one result per credential, never all-or-nothing.

        ``note`` goes with every change, as on :meth:`change` (stored, told to each learner).
        """
        if ids is None:
            ids = await self._credentials.ids(_selection(tenant, flt), limit=MAX_BULK)
        results = []
        for credential_id in dict.fromkeys(ids):
            try:
                doc = await self.change(
                    tenant, credential_id, action, reason, notify=False, note=note
                )
                results.append(
                    {"credential_id": credential_id, "status": doc["status"], "ok": True}
                )
            except (StatusTransitionRefused, LookupError) as exc:
                results.append({"credential_id": credential_id, "ok": False, "error": str(exc)})
            except Exception as exc:
                if getattr(exc, "status", 500) >= 500:
                    raise
                results.append(
                    {
                        "credential_id": credential_id,
                        "ok": False,
                        "error": getattr(exc, "detail", str(exc)),
                    }
                )
        self._flush()  # the burst's lists, handed over together
        return results

    async def supersede_status(
        self, tenant: Tenant, old: dict[str, Any], new_id: str, mode: str
    ) -> None:
        """Mark ``old`` as replaced: revoked (correction) or superseded only (renewal)."""
        if mode == "correction":
            if old["status"] != "revoked":
                await self.change(
                    tenant,
                    old["_id"],
                    StatusAction.REVOKE,
                    ReasonCode.SUPERSEDED,
                    superseded_by=f"urn:uuid:{new_id}",
                )
            return
        if old.get("superseded_by"):
            return
        doc = await self._named(tenant, old)
        events = self._events(
            tenant,
            doc,
            StatusChange.SUPERSEDED,
            NotificationKind.SUPERSEDED,
            "superseded",
            superseded_by=f"urn:uuid:{new_id}",
        )
        if await self._credentials.change_status(
            tenant.institution_id,
            old["_id"],
            from_states=("active", "suspended"),
            values={"superseded_by": new_id, "status_changed_at": utcnow()},
            events=events,
        ):
            self._on_event(old["_id"])

    async def reissue(
        self, tenant: Tenant, credential_id: str, request: ReissueRequest, *, idempotency_key: str
    ) -> tuple[dict[str, Any], bool]:
        """Issue the replacement, then mark the old credential (safe to retry with the same key)."""
        old = await self._issuing.get(tenant.institution_id, credential_id)
        if old["status"] == "revoked" and old.get("superseded_by") is None:
            raise StatusTransitionRefused("a revoked credential cannot be re-issued")
        recipient = dict(old["recipient"])
        recipient.pop("email_norm", None)
        if request.recipient_name:
            recipient["name"] = request.recipient_name
        issue = IssueRequest(
            achievement_id=old["achievement_id"],
            achievement_version=request.achievement_version,
            recipient=RecipientInput.model_validate(recipient),
        )
        new, replayed = await self._issuing.issue(
            tenant, issue, idempotency_key=idempotency_key, supersedes=old["_id"]
        )
        await self.supersede_status(tenant, old, str(new["_id"]), request.mode)
        return new, replayed


def _selection(tenant: Tenant, flt: CredentialFilter | None) -> CredentialQuery:
    """The credentials a bulk change by filter is about (always the caller's own).

    No filter is not "everything": a bulk change names its credentials or a filter that
    selects (:class:`CredentialFilter` refuses an empty one).
    """
    if flt is None:
        raise InvalidInput("give credential_ids or a filter")
    return CredentialQuery(
        institution_id=tenant.institution_id,
        achievement_id=flt.achievement_id,
        achievement_version=flt.achievement_version,
        status=flt.status,
        batch_id=flt.batch_id,
        issued_after=flt.issued_after,
        issued_before=flt.issued_before,
    )
