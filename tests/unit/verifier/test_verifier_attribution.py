"""Verification events name the issuer only when its key signed (issue 18, item 10).

Before, any submission that merely *named* an institution's DID as its issuer (no proof, or a
proof by someone else's key) produced an event with that DID, and the notifier sent the
institution one webhook for each: thousands per batch request. The events also had no bound
per request: a batch of presentations could produce thousands.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sceau_credentials.results import (
    Check,
    CheckName,
    CredentialSummary,
    VerificationResult,
)
from sceau_shared.events import VerificationCompletedV1
from sceau_verifier.service import VerificationService

DID = "did:web:cegep.example"


def _credential(number: int) -> dict[str, Any]:
    return {"id": f"urn:uuid:{number:032x}", "issuer": DID, "type": ["VerifiableCredential"]}


def _result(proof: Check) -> VerificationResult:
    return VerificationResult(
        checks=(proof,),
        credential=CredentialSummary(issuer_id=DID, achievement_id="https://a.example/1"),
    )


PASSED = Check.passed(CheckName.PROOF, "ok", "ok")
NO_PROOF = Check.failed(CheckName.PROOF, None, "no proof", "aucune preuve")
UNREACHABLE = Check.inconclusive(CheckName.PROOF, None, "key unreachable", "clé injoignable")


class _Lookups:
    records: tuple[Any, ...] = ()


class _Engine:
    def __init__(self, proof: Check) -> None:
        self.proof = proof

    async def __call__(
        self, document: Mapping[str, Any] | str, **_: Any
    ) -> tuple[VerificationResult, _Lookups]:
        assert isinstance(document, Mapping)
        if document.get("type") == ["VerifiablePresentation"]:
            inner = tuple(_result(self.proof) for _ in document["verifiableCredential"])
            return (
                VerificationResult(checks=(PASSED,), credentials=inner, is_presentation=True),
                _Lookups(),
            )
        return _result(self.proof), _Lookups()


class _Reports:
    def __init__(self) -> None:
        self.events: list[VerificationCompletedV1] = []

    def offer(self, event: VerificationCompletedV1) -> bool:
        self.events.append(event)
        return True


def _service(proof: Check, *, per_request: int = 100) -> tuple[VerificationService, _Reports]:
    reports = _Reports()
    service = VerificationService(
        _Engine(proof),
        None,
        reports=reports,  # type: ignore[arg-type]
        timeout_s=5,
        producer="sceau-verifier",
        events_per_request=per_request,
    )
    return service, reports


async def test_a_proof_by_the_issuers_key_is_attributed() -> None:
    service, reports = _service(PASSED)
    await service.verify(_credential(1), lang="en")
    [event] = reports.events
    assert (event.issuer_did, event.issuer_proven) == (DID, True)


async def test_a_document_that_only_names_the_did_is_not_attributed() -> None:
    for proof in (NO_PROOF, UNREACHABLE):
        service, reports = _service(proof)
        await service.verify(_credential(1), lang="en")
        [event] = reports.events
        assert (event.issuer_did, event.issuer_proven) == (None, False), proof.status


async def test_one_request_reports_a_bounded_number_of_events() -> None:
    service, reports = _service(NO_PROOF, per_request=10)
    presentation = {
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [_credential(n) for n in range(500)],
    }
    answer = await service.verify(presentation, lang="en")
    assert len(answer.credentials) == 500  # every credential is still answered
    assert len(reports.events) == 10


async def test_a_batch_shares_one_budget() -> None:
    service, reports = _service(PASSED, per_request=25)
    budget = service.budget()
    for number in range(100):
        await service.verify(_credential(number), lang="en", budget=budget)
    assert len(reports.events) == 25
    assert budget.dropped == 75
