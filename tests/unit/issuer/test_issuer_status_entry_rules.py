"""How many status entries a credential carries, and what suspending one without an entry says.

By default every credential carries one status entry (revocation) as a single object, the only
shape 1EdTech's Open Badges 3.0 JSON Schema accepts; an ``ob3-v2`` credential of an institution
that turned suspension on also carries a suspension entry. A credential without a suspension
entry can be neither suspended nor reinstated: a 409 with French and English details.
"""

from __future__ import annotations

from typing import Any

import pytest

from sceau_issuer.errors import StatusTransitionRefused
from sceau_issuer.issuing.sign_jobs import status_purposes
from sceau_issuer.status.schemas import StatusAction
from sceau_issuer.status.suspension import check_suspendable, has_suspension_entry


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1", "jwt"])
def test_one_revocation_entry_by_default(profile: str) -> None:
    assert status_purposes(profile) == ("revocation",)
    assert status_purposes(profile, suspension=False) == ("revocation",)


def test_suspension_entry_only_for_vcdm_2_0_when_turned_on() -> None:
    assert status_purposes("ob3-v2", suspension=True) == ("revocation", "suspension")
    assert status_purposes("ob3-v1", suspension=True) == ("revocation",)
    assert status_purposes("jwt", suspension=True) == ("revocation", "suspension")


def stored(profile: str = "ob3-v2", *, suspension: bool, status: str = "active") -> dict[str, Any]:
    lists = {"revocation": "f.0.revocation"}
    if suspension:
        lists["suspension"] = "f.0.suspension"
    return {"_id": "c-1", "profile": profile, "status": status, "status_lists": lists}


@pytest.mark.parametrize("action", [StatusAction.SUSPEND, StatusAction.REINSTATE])
@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1", "jwt"])
def test_no_suspension_entry_is_a_bilingual_409(action: StatusAction, profile: str) -> None:
    doc = stored(profile, suspension=False)
    assert not has_suspension_entry(doc)
    with pytest.raises(StatusTransitionRefused) as refused:
        check_suspendable(doc, action)
    error = refused.value
    assert error.status == 409
    assert error.type.endswith("/status-transition-refused")
    assert error.extra["reason"] == "no-suspension-entry"
    assert error.extra["credential_id"] == "c-1"
    assert error.detail == error.extra["detail_en"]
    assert "no suspension entry" in str(error.extra["detail_en"])
    assert "pas d'entrée de suspension" in str(error.extra["detail_fr"])
    assert "/v1/institution/settings" in str(error.extra["detail_fr"])
    why = "VC Data Model 1.1" if profile == "ob3-v1" else "suspension was off"
    assert why in str(error.extra["detail_en"])


@pytest.mark.parametrize("action", [StatusAction.SUSPEND, StatusAction.REINSTATE])
def test_a_jwt_credential_issued_as_vcdm_1_1_is_told_so(action: StatusAction) -> None:
    """jwt credentials issued before 2026-12 (StatusList2021 lists) could never be suspended."""
    doc = stored("jwt", suspension=False)
    doc["status_lists"] = {"revocation": "inst.0123456789ab.sl21.0.revocation"}
    with pytest.raises(StatusTransitionRefused) as refused:
        check_suspendable(doc, action)
    assert "VC Data Model 1.1" in str(refused.value.extra["detail_en"])
    assert "VC Data Model 1.1" in str(refused.value.extra["detail_fr"])


def test_what_is_not_refused() -> None:
    check_suspendable(stored(suspension=False), StatusAction.REVOKE)
    check_suspendable(stored(suspension=True), StatusAction.SUSPEND)
    check_suspendable(stored(suspension=True, status="suspended"), StatusAction.REINSTATE)
    # A revoked credential is refused by the general rule (revocation is final), not this one.
    check_suspendable(stored(suspension=False, status="revoked"), StatusAction.REINSTATE)
    assert has_suspension_entry(stored(suspension=True))
    assert not has_suspension_entry({"_id": "old"})  # a record without status lists
