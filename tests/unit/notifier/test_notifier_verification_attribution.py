"""A verification reaches an institution's webhooks only when its key signed (issue 18, item 10).

An unsigned document that names an institution's DID as issuer is anyone's to submit: before,
each one became a webhook delivery (and a stored delivery row) for the institution.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any

import pytest

from sceau_notifier.service.intake import Intake
from sceau_notifier.webhooks.pseudonyms import CredentialPseudonyms
from sceau_shared.events import VerificationCompletedV1, VerificationOutcome

DID = "did:web:cegep.example"


class _Webhooks:
    def __init__(self) -> None:
        self.fanned: list[dict[str, Any]] = []

    async def fan_out(self, **delivery: Any) -> None:
        self.fanned.append(delivery)


class _Dids:
    async def institution_of(self, did: str) -> str | None:
        return "cegep-test" if did == DID else None


def _intake() -> tuple[Intake, _Webhooks]:
    webhooks = _Webhooks()
    intake = Intake(
        emails=None,  # type: ignore[arg-type]
        webhooks=webhooks,  # type: ignore[arg-type]
        reminders=None,  # type: ignore[arg-type]
        dids=_Dids(),  # type: ignore[arg-type]
        pseudonyms=CredentialPseudonyms(base64.b64encode(b"k" * 32).decode()),
    )
    return intake, webhooks


def _event(**fields: Any) -> VerificationCompletedV1:
    return VerificationCompletedV1(
        producer="tests",
        credential_id_hash="ab" * 32,
        outcome=VerificationOutcome.NOT_VERIFIED,
        failed_checks=["proof"],
        verified_at=datetime.now(UTC),
        **fields,
    )


@pytest.mark.parametrize(
    "fields",
    [
        {"issuer_did": DID},  # a producer that does not say whether the proof verified
        {"issuer_did": DID, "issuer_proven": False},
    ],
    ids=["unsaid", "unproven"],
)
async def test_a_verification_that_only_names_the_did_makes_no_webhook(
    fields: dict[str, Any],
) -> None:
    intake, webhooks = _intake()
    await intake.verification_completed(_event(**fields))
    assert webhooks.fanned == []


async def test_a_proven_verification_reaches_the_institution() -> None:
    intake, webhooks = _intake()
    await intake.verification_completed(_event(issuer_did=DID, issuer_proven=True))
    [delivery] = webhooks.fanned
    assert delivery["institution_id"] == "cegep-test"
    assert delivery["data"]["issuer_did"] == DID
