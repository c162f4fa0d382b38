"""``1EdTechRevocationList``: the credential's id looked up among a fetched list's revoked ids.

Fakes for the proof engine and the fetcher (``ob3_samples``); the verifier's integration test
serves a list over real HTTP.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from ob3_samples import (
    ISSUED,
    ISSUER_DID,
    OTHER_DID,
    FakeFetcher,
    FakeProofVerifier,
    credential,
    with_fake_proof,
)

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.results import (
    CREDENTIAL_REVOKED,
    STATUS_RETRIEVAL_ERROR,
    STATUS_VERIFICATION_ERROR,
    Check,
    CheckName,
    CheckStatus,
)
from sceau_credentials.status import ListStatusChecker, parse_status_entries
from sceau_credentials.status.errors import StatusMalformedError
from sceau_credentials.status.revocation_list import (
    REVOCATION_LIST_1EDTECH,
    read_revocation_list,
)
from sceau_credentials.verification import verify

NOW = ISSUED + timedelta(days=30)
LIST = "https://college.example/credentials/revocations"
CREDENTIAL_ID = "urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d"


def listed_credential() -> dict[str, Any]:
    document = credential("ob3-v2", status=[])
    document["credentialStatus"] = {"id": LIST, "type": REVOCATION_LIST_1EDTECH}
    return with_fake_proof(document)


def revocation_list(*ids: str, issuer: str = ISSUER_DID, **extra: Any) -> dict[str, Any]:
    return {
        "id": LIST,
        "issuer": issuer,
        "revokedCredentials": [{"id": i, "revocationReason": "Erreur de saisie"} for i in ids],
        **extra,
    }


async def status_check(served: Any) -> Check:
    fetcher = FakeFetcher({LIST: served} if served is not None else {})
    checker = ListStatusChecker(fetcher, DidKeyResolver(), proof_verifier=FakeProofVerifier())
    result = await verify(
        listed_credential(),
        resolver=DidKeyResolver(),
        status=checker,
        now=NOW,
        proof_verifier=FakeProofVerifier(),
    )
    check = result.check(CheckName.STATUS)
    assert check is not None
    return check


async def test_a_credential_on_the_list_is_revoked_with_its_reason_in_both_languages() -> None:
    check = await status_check(revocation_list("urn:uuid:other", CREDENTIAL_ID))
    assert check.status is CheckStatus.FAILED
    assert check.problem_type == CREDENTIAL_REVOKED
    assert "revocation list (Erreur de saisie)" in check.reason_en
    assert "liste de révocation de son émetteur (Erreur de saisie)" in check.reason_fr
    entry = check.details["entries"][0]
    assert entry["purpose"] == "revocation"
    assert entry["message"] == "Erreur de saisie"


async def test_a_credential_not_on_the_list_passes() -> None:
    check = await status_check(revocation_list("urn:uuid:other"))
    assert check.status is CheckStatus.PASSED
    assert (
        check.details["entries"][0]["reason_fr"]
        == "Absent de la liste de révocation de son émetteur."
    )


async def test_a_signed_list_is_checked_and_its_subject_read() -> None:
    signed = with_fake_proof(
        {
            "@context": ["https://www.w3.org/ns/credentials/v2"],
            "id": LIST,
            "type": ["VerifiableCredential"],
            "issuer": ISSUER_DID,
            "validFrom": ISSUED.isoformat(),
            "credentialSubject": {"revokedCredentials": [{"id": CREDENTIAL_ID}]},
        }
    )
    assert (await status_check(signed)).problem_type == CREDENTIAL_REVOKED
    forged = {**signed, "credentialSubject": {"revokedCredentials": [], "note": "TAMPERED"}}
    check = await status_check(forged)
    assert check.status is CheckStatus.FAILED
    assert check.problem_type == STATUS_VERIFICATION_ERROR


@pytest.mark.parametrize(
    "served",
    [
        revocation_list(CREDENTIAL_ID, issuer=OTHER_DID),  # someone else's list
        {**revocation_list(), "id": "https://elsewhere.example/list"},  # copied from elsewhere
        {"id": LIST, "issuer": ISSUER_DID},  # no revokedCredentials
        {"id": LIST, "issuer": ISSUER_DID, "revokedCredentials": [{"reason": "x"}]},
        {"id": LIST, "issuer": ISSUER_DID, "revokedCredentials": "all"},
    ],
)
async def test_lists_that_prove_nothing_fail_the_status_check(served: Any) -> None:
    check = await status_check(served)
    assert check.status is CheckStatus.FAILED
    assert check.problem_type == STATUS_VERIFICATION_ERROR
    assert check.reason_fr
    assert check.reason_en


async def test_an_unreachable_list_is_inconclusive_never_valid() -> None:
    check = await status_check(None)
    assert check.status is CheckStatus.INCONCLUSIVE
    assert check.problem_type == STATUS_RETRIEVAL_ERROR


async def test_an_expired_signed_list_is_inconclusive() -> None:
    signed = with_fake_proof(
        {**revocation_list(), "validUntil": (ISSUED + timedelta(days=1)).isoformat()}
    )
    check = await status_check(signed)
    assert check.status is CheckStatus.INCONCLUSIVE


async def test_a_credential_without_id_cannot_be_looked_up() -> None:
    document = credential("ob3-v2", status=[])
    document.pop("id")
    document["credentialStatus"] = {"id": LIST, "type": REVOCATION_LIST_1EDTECH}
    checker = ListStatusChecker(
        FakeFetcher({LIST: revocation_list()}), DidKeyResolver(), proof_verifier=FakeProofVerifier()
    )
    entries = parse_status_entries(document["credentialStatus"])
    (result,) = await checker.check(entries, issuer=ISSUER_DID, now=NOW)
    assert result.outcome is CheckStatus.INCONCLUSIVE
    assert "no id" in result.reason_en


async def test_the_same_served_list_is_parsed_once() -> None:
    served = revocation_list(CREDENTIAL_ID)
    fetcher = FakeFetcher({LIST: served})
    checker = ListStatusChecker(fetcher, DidKeyResolver(), proof_verifier=FakeProofVerifier())
    entries = parse_status_entries({"id": LIST, "type": REVOCATION_LIST_1EDTECH})
    first = await checker.check(entries, issuer=ISSUER_DID, now=NOW, credential_id=CREDENTIAL_ID)
    again = await checker.check(entries, issuer=ISSUER_DID, now=NOW, credential_id="urn:uuid:x")
    assert first[0].outcome is CheckStatus.FAILED
    assert again[0].outcome is CheckStatus.PASSED
    # a different issuer reading the same cached list is still refused
    other = await checker.check(entries, issuer=OTHER_DID, now=NOW, credential_id=CREDENTIAL_ID)
    assert other[0].problem_type == STATUS_VERIFICATION_ERROR


def test_reader_bounds_reasons_and_refuses_malformed_entries() -> None:
    parsed = read_revocation_list(
        {
            "issuer": {"id": ISSUER_DID},
            "revokedCredentials": [{"id": "a", "revocationReason": "x" * 900}],
        }
    )
    assert parsed.issuer == ISSUER_DID
    assert len(parsed.revoked["a"] or "") == 500
    with pytest.raises(StatusMalformedError):
        read_revocation_list({"revokedCredentials": [None]})
