"""Key rotation and key revocation with credentials from before and after (issue 18, item 1).

A college whose did:web document the registry hosts issues a credential, rotates its key,
issues another, then revokes the old key. Each credential is checked the way a verifier does:
the engine's proof and status checks on the DID document and status lists the registry serves,
and the registry's trust answer (was the signing key valid on the issuance date?).

* after the rotation both credentials verify (the rotated key stays in the document);
* after the old key's revocation the credential it signed stops verifying — that is what
  revoking a key means — while the one the new key signed keeps verifying: its status list,
  last signed by the old key, is signed again by the new one. Before the fix that list kept the
  revoked key's signature and every credential on it, the new key's included, failed its status
  check for good ("the status list's proof is not valid");
* a credential issued after the revocation verifies.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from fault_support import figures, outcomes, peak_memory_mb, registry_trusts

from sceau_dev.testing.journeys import iso, issue, onboard, registry_knows_key
from sceau_dev.testing.polling import eventually
from sceau_dev.testing.stack import Stack

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

VALID = {"proof": "passed", "status": "passed"}


async def test_rotation_and_revocation_keep_every_valid_credential_verifying(
    fault_stack: Stack,
) -> None:
    stack = fault_stack
    run = uuid.uuid4().hex[:6]
    issuer, registry = stack.url("issuer"), stack.url("registry")
    requests = 0
    async with httpx.AsyncClient(timeout=60) as http:
        college = await onboard(http, stack, f"Clés {run}", did_method="hosted-web")
        assert college.did.startswith("did:web:"), college.did
        document_url = f"{registry}/institutions/{college.institution_id}/did.json"

        async def state(detail: dict[str, Any]) -> dict[str, str]:
            nonlocal requests
            requests += 3  # DID document, status list, (engine) nothing else
            did_document = (await http.get(document_url)).json()
            return await outcomes(http, detail["document"], did_document)

        async def trusted(detail: dict[str, Any]) -> bool:
            """The registry's answer: the signing key was valid on the issuance date."""
            nonlocal requests
            requests += 1
            return await registry_trusts(http, registry, college.did, detail["document"])

        async def verifies(*details: dict[str, Any]) -> bool:
            return all([await state(d) == VALID and await trusted(d) for d in details])

        before = await issue(http, stack, college, f"before-{run}@example.org")
        await eventually(lambda: verifies(before), timeout_s=60, message="first credential valid")

        rotated = await http.post(f"{issuer}/v1/institution/keys/rotate", headers=college.auth)
        assert rotated.status_code == 200, rotated.text
        new_key = rotated.json()
        assert new_key["did"] == college.did  # did:web: one DID across keys
        await registry_knows_key(http, stack, new_key["did"], new_key["verification_method"])
        after = await issue(http, stack, college, f"after-{run}@example.org")
        assert after["document"]["proof"][0]["verificationMethod"] == new_key["verification_method"]
        await eventually(
            lambda: verifies(before, after), timeout_s=60, message="both valid after rotation"
        )

        old_key_id = "k1"
        revoked = await http.post(
            f"{issuer}/v1/institution/keys/{old_key_id}/revoke",
            headers=college.auth,
            json={"as_of": iso(datetime.now(UTC))},
        )
        assert revoked.status_code == 200, revoked.text
        revoked_at = time.monotonic()

        async def old_key_gone() -> bool:
            return (await state(before))["proof"].startswith("failed")

        await eventually(old_key_gone, timeout_s=60, message="the registry dropped the old key")
        gone_s = time.monotonic() - revoked_at
        # The credential of the new key: valid throughout, or again within seconds.
        await eventually(lambda: verifies(after), timeout_s=30, message="new key's credential")
        after_valid_s = time.monotonic() - revoked_at
        latest = await issue(http, stack, college, f"latest-{run}@example.org")
        await eventually(
            lambda: verifies(latest, after), timeout_s=60, message="credential after revocation"
        )
        before_now = await state(before)
    assert before_now["proof"].startswith("failed"), before_now  # revoked key: by design
    figures(
        "key rotation and revocation",
        requests=requests + 5,
        faults="1 rotation + 1 revocation of the rotated key",
        credentials=3,
        lost=0,
        duplicated=0,
        old_key_dropped_by_registry_s=round(gone_s, 1),
        new_key_credential_valid_after_revocation_s=round(after_valid_s, 1),
        revoked_key_credential="proof failed (by design)",
        peak_memory_mb=peak_memory_mb(stack),
    )
