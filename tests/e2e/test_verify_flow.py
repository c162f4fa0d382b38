"""End to end: the real registry, issuer and verifier as processes, on real Kafka and MongoDB.

An operator registers and accredits a college at the registry; the issuer creates its tenant and
key from the registry's event; the college defines and publishes a micro-credential and issues it;
an employer verifies it at the verifier, which fetches the status list from the registry and asks
the registry whether the issuer was accredited when it issued. Then the story goes on: revoke,
suspend and reinstate, the institution suspended after one credential and before another, a key
rotation, a tampered credential, a stranger's credential.

Not here, because the issuer cannot produce them: a credential that is already expired or not yet
valid (the issuer stamps ``validFrom`` with the issuing time). The verifier's handling of both is
covered with real signed credentials against the registry's HTTP contract in
``tests/unit/verifier/test_api.py::TestVerifyCredential::test_expired_and_not_yet_valid``.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

import httpx
import pytest
from verifier_support import Issuer

from sceau_credentials.results import (
    CREDENTIAL_REVOKED,
    CREDENTIAL_SUSPENDED,
    ISSUER_NOT_TRUSTED,
)
from sceau_dev.testing.journeys import (
    check,
    iso,
    issue,
    onboard,
    registry_knows_key,
    verified_once_published,
    verify,
)
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack

pytestmark = pytest.mark.e2e


async def test_issue_verify_revoke_verify(stack: Stack, http: httpx.AsyncClient) -> None:
    college = await onboard(http, stack, "Boréal")
    detail = await issue(http, stack, college, "ada@example.org")
    first = await verified_once_published(http, stack, detail["document"])
    assert first["summary"]["issuer"]["name"] == "Boréal College"
    assert first["summary"]["issuer"]["name_source"] == "registry"
    assert first["summary"]["hours"] == 15

    revoked = await http.post(
        f"{stack.url('issuer')}/v1/credentials/{detail['credential_id']}/revoke",
        headers=college.auth,
        json={"reason_code": "issued-in-error"},
    )
    assert revoked.status_code == 200, revoked.text
    started = time.monotonic()

    async def is_revoked() -> bool:
        answer = await verify(http, stack, detail["document"])
        return check(answer, "status")["problem_type"] == CREDENTIAL_REVOKED

    await eventually(
        is_revoked, timeout_s=30, message="verifier answers revoked", details=stack.logs
    )
    print(f"revocation visible at the verifier {time.monotonic() - started:.2f} s after the API")


async def test_suspend_then_reinstate(stack: Stack, http: httpx.AsyncClient) -> None:
    college = await onboard(http, stack, "Nord")
    # By default a credential carries one status entry (revocation) and cannot be suspended.
    plain = await issue(http, stack, college, "ada.nord@example.org")
    assert plain["document"]["credentialStatus"]["statusPurpose"] == "revocation"
    refused = await http.post(
        f"{stack.url('issuer')}/v1/credentials/{plain['credential_id']}/suspend",
        headers=college.auth,
        json={"reason_code": "under-review"},
    )
    assert refused.status_code == 409, refused.text
    assert refused.json()["reason"] == "no-suspension-entry"
    assert refused.json()["detail_fr"]
    # The college turns suspension on: credentials issued from now on can be suspended.
    opted_in = await http.put(
        f"{stack.url('issuer')}/v1/institution/settings",
        headers=college.auth,
        json={"suspension": True},
    )
    assert opted_in.status_code == 200, opted_in.text
    detail = await issue(http, stack, college, "grace@example.org")
    entries = detail["document"]["credentialStatus"]
    assert [e["statusPurpose"] for e in entries] == ["revocation", "suspension"]
    published = await verified_once_published(http, stack, detail["document"])
    # Two status entries: verified, with the official schema's single-entry rule named.
    assert any("single status entry" in w["message"] for w in published["warnings"])
    base = f"{stack.url('issuer')}/v1/credentials/{detail['credential_id']}"
    suspended = await http.post(
        f"{base}/suspend", headers=college.auth, json={"reason_code": "under-review"}
    )
    assert suspended.status_code == 200, suspended.text

    async def status_is(problem: str | None) -> Callable[[], Awaitable[bool]]:
        async def probe() -> bool:
            return (
                check(await verify(http, stack, detail["document"]), "status")["problem_type"]
                == problem
            )

        return probe

    await eventually(
        await status_is(CREDENTIAL_SUSPENDED), timeout_s=30, message="suspended", details=stack.logs
    )
    reinstated = await http.post(
        f"{base}/reinstate", headers=college.auth, json={"reason_code": "under-review"}
    )
    assert reinstated.status_code == 200, reinstated.text
    await eventually(await status_is(None), timeout_s=30, message="reinstated", details=stack.logs)
    assert (await verify(http, stack, detail["document"]))["verified"] is True


async def test_reissued_credentials_are_superseded_not_revoked(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    """R52: the verifier names the replacement (the issuer's public supersession answer)."""
    college = await onboard(http, stack, "Sud")
    renewed_old = await issue(http, stack, college, "lin@example.org")
    corrected_old = await issue(http, stack, college, "sam@example.org")
    first = await verified_once_published(http, stack, renewed_old["document"])
    assert first["superseded_by"] is None
    await verified_once_published(http, stack, corrected_old["document"])
    replacements = {}
    for detail, mode in ((renewed_old, "renewal"), (corrected_old, "correction")):
        response = await http.post(
            f"{stack.url('issuer')}/v1/credentials/{detail['credential_id']}/reissue",
            headers=college.auth | {"Idempotency-Key": uuid.uuid4().hex},
            json={"mode": mode},
        )
        assert response.status_code == 201, response.text
        replacements[mode] = response.json()["document"]["id"]

    async def superseded(document: Any, expected: str) -> bool:
        return (await verify(http, stack, document))["superseded_by"] == expected

    for detail, mode in ((renewed_old, "renewal"), (corrected_old, "correction")):
        await eventually(
            lambda d=detail, m=mode: superseded(d["document"], replacements[m]),
            timeout_s=30,
            message=f"verifier names the {mode}'s replacement",
            details=stack.logs,
        )
    renewed = await verify(http, stack, renewed_old["document"])
    assert renewed["verified"] is True  # a renewal does not revoke
    assert "warn_superseded" in [w["code"] for w in renewed["warnings"]]

    async def revoked_and_superseded() -> bool:
        answer = await verify(http, stack, corrected_old["document"])
        return check(answer, "status")["problem_type"] == CREDENTIAL_REVOKED and (
            "warn_superseded_revoked" in [w["code"] for w in answer["warnings"]]
        )

    await eventually(
        revoked_and_superseded, timeout_s=30, message="correction revokes", details=stack.logs
    )
    page = await http.post(
        f"{stack.url('verifier')}/?lang=fr",
        data={"credential": json.dumps(renewed_old["document"]), "lang": "fr"},
    )
    assert "Remplacé par" in page.text
    assert replacements["renewal"] in page.text


async def test_issuer_suspended_after_vs_before_issuance(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    college = await onboard(http, stack, "Sud")
    before = await issue(http, stack, college, "early@example.org")
    await asyncio.sleep(2.2)  # credential dates have one-second precision
    after = await issue(http, stack, college, "late@example.org")
    for detail in (before, after):  # fill the verifier's trust cache
        await verified_once_published(http, stack, detail["document"])
    issued_before = datetime.fromisoformat(before["document"]["validFrom"].replace("Z", "+00:00"))
    issued_after = datetime.fromisoformat(after["document"]["validFrom"].replace("Z", "+00:00"))
    # The operator records a suspension that took effect between the two issuances.
    effective = issued_before + (issued_after - issued_before) / 2
    suspended = await http.post(
        f"{stack.url('registry')}/v1/admin/institutions/{college.institution_id}/status",
        headers=stack.operator_headers(),
        json={"status": "suspended", "reason": "QA review", "effective_at": iso(effective)},
    )
    assert suspended.status_code == 200, suspended.text

    async def after_refused() -> bool:
        answer = await verify(http, stack, after["document"])
        return answer["verified"] is False

    await eventually(
        after_refused,
        timeout_s=60,
        message="AccreditationChangedV1 reached the verifier",
        details=stack.logs,
    )
    late = await verify(http, stack, after["document"])
    assert check(late, "issuer")["problem_type"] == ISSUER_NOT_TRUSTED
    assert "suspended" in check(late, "issuer")["reason_en"]
    early = await verify(http, stack, before["document"])
    assert early["verified"] is True, early["checks"]
    assert [w["code"] for w in early["warnings"]] == ["warn_issuer_inactive_now"]


async def test_rotated_key_keeps_old_credentials_valid(
    stack: Stack, http: httpx.AsyncClient
) -> None:
    college = await onboard(http, stack, "Est")
    old = await issue(http, stack, college, "old@example.org")
    rotated = await http.post(
        f"{stack.url('issuer')}/v1/institution/keys/rotate", headers=college.auth
    )
    assert rotated.status_code == 200, rotated.text
    new_key = rotated.json()
    await registry_knows_key(http, stack, new_key["did"], new_key["verification_method"])
    new = await issue(http, stack, college, "new@example.org")
    assert (
        check(await verify(http, stack, new["document"]), "proof")["details"]["verification_method"]
        == new_key["verification_method"]
    )
    await verified_once_published(http, stack, new["document"])
    again = await verify(http, stack, old["document"])
    assert again["verified"] is True, again["checks"]


async def test_tampered_and_stranger_credentials(stack: Stack, http: httpx.AsyncClient) -> None:
    college = await onboard(http, stack, "Ouest")
    detail = await issue(http, stack, college, "eve@example.org")
    tampered = json.loads(json.dumps(detail["document"]))
    tampered["credentialSubject"]["achievement"]["name"] = "Doctorat en médecine"
    answer = await verify(http, stack, tampered)
    assert answer["verified"] is False
    assert check(answer, "proof")["status"] == "failed"

    stranger = Issuer(name={"fr": "Collège Ouest", "en": "Ouest College"})
    forged, _ = await stranger.issue()
    answer = await verify(http, stack, forged)
    assert answer["verified"] is False
    assert check(answer, "proof")["status"] == "passed"
    assert check(answer, "issuer")["problem_type"] == ISSUER_NOT_TRUSTED
    assert "warn_unregistered_name" in [w["code"] for w in answer["warnings"]]
