"""The conformance mechanism end to end: a real issuer copies what it signs, the checker reads it.

The issuer runs with ``conformance_dir`` (``ISSUER_CONFORMANCE_DIR``) like every issuer of a
``scripts/test`` session; single issuance, a batch (signed in the worker pool's path) and every
profile land as files, and :func:`check_copies` judges them as the session check does.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from issuer_support import IssuerHarness, micro

from sceau_credentials.conformance import Code
from sceau_dev.testing.conformance import check_copies
from sceau_dev.testing.polling import eventually
from sceau_issuer.settings import IssuerSettings
from sceau_shared.events import DidMethod

pytestmark = pytest.mark.integration


@pytest.fixture
def copies(tmp_path: Path) -> Path:
    return tmp_path / "copies"


@pytest.fixture
def settings(settings: IssuerSettings, copies: Path) -> IssuerSettings:
    """The issuer fixtures' settings, copying into this test's own folder."""
    return settings.model_copy(update={"conformance_dir": copies})


async def test_every_signed_credential_is_copied_and_checked(
    harness: IssuerHarness, copies: Path
) -> None:
    on_key = await harness.tenant()
    on_web = await harness.tenant(method=DidMethod.HOSTED_WEB)
    for institution in (on_key, on_web):
        headers = await harness.api_key(institution)
        achievement = await harness.published(headers, micro())
        issued = await harness.issue(headers, achievement, f"one@{institution}.example")
        assert issued.status_code == 201, issued.text
    jwt = await harness.issue(headers, achievement, "jwt@example.org", profile="jwt")
    assert jwt.status_code == 201, jwt.text
    people = [{"email": f"b{i}@example.org"} for i in range(6)]
    accepted = await harness.http.post(
        "/v1/batches",
        json={"achievement_id": achievement, "recipients": people},
        headers={**headers, "Idempotency-Key": "conformance-batch"},
    )
    assert accepted.status_code == 202, accepted.text
    batch = f"/v1/batches/{accepted.json()['batch_id']}"

    async def done() -> bool:
        state = (await harness.http.get(batch, headers=headers)).json()
        return bool(state["state"] == "completed")

    await eventually(done, timeout_s=120, message="batch completed")

    report = await check_copies(copies)

    profiles = sorted(c.profile for c in report.checked)
    assert profiles == ["jwt", *["ob3-v2"] * 8]
    default = [c for c in report.checked if c.profile == "ob3-v2"]
    # Keys resolve (did:key offline, the hosted did:web from the recorded key), proofs verify,
    # and the schema, context, type, subject, date and status rules pass. The only finding a
    # default credential may carry is the suspension pair, for as long as the issuer adds a
    # suspension entry by default (the status work of issue 15 makes it an opt-in).
    assert {f.code for c in default for f in c.findings} <= {Code.STATUS_SUSPENSION}
    [token] = [c for c in report.checked if c.profile == "jwt"]
    # A did:web institution signs jwt ES256 (its recorded P-256 key resolves and verifies) over
    # the OB 3.0.3 credential itself (VC-JOSE-COSE): nothing is found, and jwt is enforced.
    assert token.findings == ()
    assert not token.violations
