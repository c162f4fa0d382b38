"""Workload and credit metadata written with OB 3.0 terms, signed and verified by the engine."""

from __future__ import annotations

from typing import Any

import pytest
from build_specs import build_spec

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.engine import verify_proof
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3 import schema_problems
from sceau_issuer.achievements.schemas import AchievementInput
from sceau_issuer.issuing.metadata import Workload, identifiers, narrative, write_workload
from sceau_issuer.issuing.sign_jobs import BuildSpec, SignJob, sign_one
from sceau_issuer.status.status_lists import StatusSlot

FULL = Workload(
    weeks=9,
    hours_per_week=2.5,
    modules=3,
    sessions=12,
    credit_status="credit",
    credits=3.0,
    transcriptable=False,
)


def test_workload_of_a_definition(micro: dict[str, Any]) -> None:
    assert Workload.of(AchievementInput.model_validate(micro)) is None
    micro.update(weeks=1, credit_status="non-credit", credits=2)
    workload = Workload.of(AchievementInput.model_validate(micro))
    # A non-credit achievement carries no credit value, whatever was typed.
    assert workload == Workload(weeks=1, credit_status="non-credit")


def test_narrative_in_both_languages_with_singulars() -> None:
    assert narrative(FULL, "en") == (
        "Workload: 9 weeks, 2.5 h per week, 3 modules, 12 facilitated sessions. "
        "Credit: credit-bearing, 3 credits, not on the transcript."
    )
    assert narrative(FULL, "fr-CA") == (
        "Charge de travail\u00a0: 9 semaines, 2,5 h par semaine, 3 modules, 12 séances animées. "
        "Crédits\u00a0: avec crédits, 3 crédits, non inscrit au relevé de notes."
    )
    one = Workload(weeks=1, modules=1, sessions=1, credits=1)
    assert (
        narrative(one, "en")
        == "Workload: 1 week, 1 module, 1 facilitated session. Credit: 1 credit."
    )
    assert narrative(Workload(modules=2), "de") == "Workload: 2 modules."  # other languages: en
    assert narrative(Workload(credit_status="non-credit"), "fr") == "Crédits\u00a0: sans crédit."


def test_identifiers_use_ext_types() -> None:
    assert identifiers(FULL) == [
        {"type": "IdentifierEntry", "identifier": "9", "identifierType": "ext:weeks"},
        {"type": "IdentifierEntry", "identifier": "2.5", "identifierType": "ext:hoursPerWeek"},
        {"type": "IdentifierEntry", "identifier": "3", "identifierType": "ext:modules"},
        {"type": "IdentifierEntry", "identifier": "12", "identifierType": "ext:sessions"},
        {"type": "IdentifierEntry", "identifier": "credit", "identifierType": "ext:creditStatus"},
        {"type": "IdentifierEntry", "identifier": "false", "identifierType": "ext:transcriptable"},
    ]


def test_nothing_written_without_workload() -> None:
    credential: dict[str, Any] = {"credentialSubject": {"achievement": {"criteria": {}}}}
    assert write_workload(credential, None) == credential


def _spec(
    micro: dict[str, Any], key: SigningKey, profile: str, *, suspension: bool = False
) -> BuildSpec:
    micro.update(weeks=9, hours_per_week=2.5, modules=3, sessions=12, credit_status="credit")
    micro.update(credits=3, transcriptable=True)
    definition = AchievementInput.model_validate(micro)
    slot = StatusSlot(
        alloc_list_id="c1.x.bsl.1",
        index=7,
        list_ids={"revocation": "c1.r", "suspension": "c1.s"},
        list_urls={
            "revocation": "https://registry.example/v1/status-lists/c1.r",
            "suspension": "https://registry.example/v1/status-lists/c1.s",
        },
    )
    return build_spec(
        definition,
        key,
        profile=profile,
        slot=slot,
        language="en",
        workload=Workload.of(definition),
        suspension=suspension,
    )


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1"])
async def test_signed_credential_carries_fields_and_verifies(
    micro: dict[str, Any], profile: str
) -> None:
    key = SigningKey.generate()
    job = SignJob(_spec(micro, key, profile), key.seed, key.controller, 1)
    signed = await sign_one(job)
    assert isinstance(signed, dict)
    if profile == "ob3-v2":
        # By default: one status entry, and the official schema passes with no relaxation.
        assert schema_problems(signed) == []
    status = signed["credentialStatus"]
    assert isinstance(status, dict), status
    assert status["statusPurpose"] == "revocation"
    node = signed["credentialSubject"]["achievement"]
    assert node["creditsAvailable"] == 3
    assert {e["identifierType"]: e["identifier"] for e in node["otherIdentifier"]} == {
        "ext:weeks": "9",
        "ext:hoursPerWeek": "2.5",
        "ext:modules": "3",
        "ext:sessions": "12",
        "ext:creditStatus": "credit",
        "ext:transcriptable": "true",
    }
    assert node["criteria"]["narrative"].endswith("on the transcript.")
    assert node["related"][0]["criteria"]["narrative"].endswith("inscrit au relevé de notes.")
    result = await verify_proof(signed, DidKeyResolver())
    assert result.verified, result.reason


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1"])
async def test_suspension_entry_only_when_the_institution_opted_in(
    micro: dict[str, Any], profile: str
) -> None:
    key = SigningKey.generate()
    job = SignJob(_spec(micro, key, profile, suspension=True), key.seed, key.controller, 1)
    signed = await sign_one(job)
    assert isinstance(signed, dict)
    status = signed["credentialStatus"]
    if profile == "ob3-v1":  # VC Data Model 1.1: one entry whatever the setting
        assert isinstance(status, dict)
        assert status["statusPurpose"] == "revocation"
        return
    assert [e["statusPurpose"] for e in status] == ["revocation", "suspension"]
    # The cost, stated: the official schema refuses the array; only the named relaxation passes.
    assert [p.path for p in schema_problems(signed)] == ["credentialStatus"]
    assert schema_problems(signed, allow_status_array=True) == []
