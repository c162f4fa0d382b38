"""The audit log is append-only: later changes add entries and never alter earlier ones."""

from __future__ import annotations

import inspect
from typing import Any

from pymongo.errors import DuplicateKeyError
from registry_samples import at, change, institution, scope

from sceau_registry.institutions.repository import AuditLog, audit_entries
from sceau_shared.events import InstitutionStatus as S


class RecordingCollection:
    """Fake collection that records every call; only inserts are allowed."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Any]] = {}
        self.calls: list[str] = []

    async def insert_one(self, doc: dict[str, Any]) -> None:
        self.calls.append("insert_one")
        if doc["_id"] in self.docs:
            raise DuplicateKeyError("dup")
        self.docs[doc["_id"]] = dict(doc)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"the audit log must not call {name}")


def test_entries_only_grow_as_the_institution_changes() -> None:
    inst = institution()
    seen = audit_entries(inst)
    for n, status in enumerate((S.ACTIVE, S.SUSPENDED, S.ACTIVE), start=1):
        inst = inst.transition(change(status, at(n + 1), n))
        entries = audit_entries(inst)
        assert entries[: len(seen)] == seen  # earlier facts unchanged
        assert len(entries) == len(seen) + 1
        seen = entries
    inst = inst.grant(scope())
    with_scope = audit_entries(inst)
    inst = inst.withdraw("s1", at=at(9), actor="bob", reason="lapsed")
    withdrawn = audit_entries(inst)
    granted = [e for e in with_scope if e["action"] == "accreditation.granted"]
    assert granted == [e for e in withdrawn if e["action"] == "accreditation.granted"]
    last = withdrawn[-1]
    assert last["action"] == "accreditation.withdrawn"
    assert (last["actor"], last["reason"]) == ("bob", "lapsed")


def test_every_entry_says_who_when_why() -> None:
    inst = institution((S.ACTIVE, at(2)), (S.SUSPENDED, at(3)), scopes=(scope(),))
    for entry in audit_entries(inst):
        assert entry["actor"]
        assert entry["at"] is not None
        assert entry["reason"]
        assert entry["institution_id"] == "cegep-a"


async def test_append_inserts_only_and_never_overwrites() -> None:
    collection = RecordingCollection()
    log = AuditLog(collection)  # type: ignore[arg-type]
    inst = institution((S.ACTIVE, at(2)))
    assert await log.record_for(inst) == 2
    snapshot = {k: dict(v) for k, v in collection.docs.items()}
    # Replaying (e.g. the start-up reconciliation) adds nothing and changes nothing.
    assert await log.record_for(inst) == 0
    assert collection.docs == snapshot
    # A tampered copy of an existing fact cannot replace the stored one.
    forged = dict(audit_entries(inst)[0], actor="mallory")
    assert await log.append([forged]) == 0
    assert collection.docs == snapshot
    assert set(collection.calls) == {"insert_one"}


def test_audit_log_offers_no_way_to_edit_or_delete() -> None:
    public = {name for name, _ in inspect.getmembers(AuditLog) if not name.startswith("_")}
    assert public == {"append", "ensure_indexes", "list", "record_for"}
