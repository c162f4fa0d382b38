"""The endorsement checker's rules with a fake registry (the real one: integration tests).

Standing at the endorsement's date and today, the registry being down, the cap on how many
endorsements one credential gets checked, and what is not an endorsement at all.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_dev.testing.credentials import Issuer
from sceau_verifier.endorsements import MAX_ENDORSEMENTS, EndorsementChecker
from sceau_verifier.errors import RegistryUnavailable
from sceau_verifier.registry import IssuerKey, IssuerRecord

ACHIEVEMENT = "https://college.example/achievements/a1"
NOW = datetime.now(UTC)
#: Endorsements are dated before NOW: signed "now" in a long test run, they would be later than
#: NOW (taken at import) and read as not yet valid.
SIGNED = NOW - timedelta(hours=1)


class FakeRegistry:
    """Answers from a function of (did, at); counts the questions."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.asked = 0

    async def issuer(
        self, did: str, *, at: datetime | None, verification_method: str | None
    ) -> IssuerRecord:
        self.asked += 1
        record: IssuerRecord = self.answer(did, at, verification_method)
        return record


def active_endorser(did: str, at: datetime | None, method: str | None) -> IssuerRecord:
    key = None
    if method:
        key = IssuerKey(
            verification_method=method, valid_at=True, active_from=NOW - timedelta(days=9)
        )
    return IssuerRecord(
        did=did,
        registered=True,
        institution_id="ordre",
        status="active",
        roles=["endorser"],
        name={"fr": "Ordre", "en": "Order"},
        key=key,
    )


def checker(registry: FakeRegistry) -> EndorsementChecker:
    return EndorsementChecker(
        CompositeResolver({"key": DidKeyResolver()}),
        verify_proof,
        registry,  # type: ignore[arg-type]
    )


def credential(*endorsements: object) -> dict[str, Any]:
    return {
        "id": "urn:uuid:c",
        "credentialSubject": {
            "achievement": {"id": ACHIEVEMENT, "endorsement": list(endorsements)}
        },
    }


def test_active_endorser_then_and_now_is_verified() -> None:
    endorsement = asyncio.run(Issuer().endorse(ACHIEVEMENT, issued_at=SIGNED))
    [found] = asyncio.run(
        checker(FakeRegistry(active_endorser)).check(credential(endorsement), lang="en", now=NOW)
    )
    assert (found.status, found.endorser.name, found.endorser.name_source) == (
        "verified",
        "Order",
        "registry",
    )


def test_revoked_key_is_unverified() -> None:
    def revoked(did: str, at: datetime | None, method: str | None) -> IssuerRecord:
        record = active_endorser(did, at, method)
        if record.key is None:
            return record
        key = record.key.model_copy(update={"valid_at": False, "revoked_as_of": NOW})
        return record.model_copy(update={"key": key})

    endorsement = asyncio.run(Issuer().endorse(ACHIEVEMENT, issued_at=SIGNED))
    [found] = asyncio.run(
        checker(FakeRegistry(revoked)).check(credential(endorsement), lang="fr", now=NOW)
    )
    assert [r.code for r in found.reasons] == ["key_invalid"]
    assert "clé" in found.reasons[0].message


def test_registry_down_is_unverified_with_its_reason() -> None:
    def down(did: str, at: datetime | None, method: str | None) -> IssuerRecord:
        raise RegistryUnavailable("timeout")

    endorsement = asyncio.run(Issuer().endorse(ACHIEVEMENT, issued_at=SIGNED))
    [found] = asyncio.run(
        checker(FakeRegistry(down)).check(credential(endorsement), lang="en", now=NOW)
    )
    assert [r.code for r in found.reasons] == ["registry_unavailable"]


def test_not_an_endorsement_and_the_cap() -> None:
    registry = FakeRegistry(active_endorser)
    items: list[object] = ["text", {"type": ["VerifiableCredential"]}]
    items += [{"type": ["EndorsementCredential"]}] * MAX_ENDORSEMENTS
    found = asyncio.run(checker(registry).check(credential(*items), lang="en", now=NOW))
    assert len(found) == len(items)
    assert [r.code for r in found[0].reasons] == ["not_endorsement"]
    assert [r.code for r in found[1].reasons] == ["not_endorsement"]
    assert [r.code for r in found[-1].reasons] == ["too_many"]
    assert registry.asked == 0  # nothing proven: the registry is never asked
    assert found[-1].message == "Endorsement by ? — unverified"
