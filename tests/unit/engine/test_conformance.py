"""Conformance checks (1EdTech's OB 3.0 validator rules): one passing and one failing case per rule.

Every credential is signed here by the engine, so a finding is the rule's doing, not a sample's.
"""

from __future__ import annotations

import asyncio
import copy
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from engine_samples import did_key_signer, did_web_signer, ob3_v1_credential, ob3_v2_credential
from engine_samples import resolver_for as web_resolver

from sceau_credentials.cli import main
from sceau_credentials.conformance import Code, Finding, inspect_credential, offline_resolver
from sceau_credentials.conformance.findings import pointer
from sceau_credentials.conformance.rules import proof_type_findings, status_findings
from sceau_credentials.engine import Profile, shared_canonicalizer, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.keys_p256 import P256SigningKey
from sceau_credentials.proofs.data_integrity import add_proof
from sceau_credentials.proofs.ed25519_signature_2020 import ED25519_SIGNATURE_2020
from sceau_credentials.status.bitstring import Bitstring
from sceau_credentials.status.entries import bitstring_status_list_credential

NOW = datetime(2025, 6, 1, tzinfo=UTC)
LIST_URL = "https://college.example/status/1"
OB_CONTEXT = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"


async def signed(credential: dict[str, Any], key: SigningKey | None = None) -> dict[str, Any]:
    key = key or did_key_signer()
    result = await sign_credential(credential, key, Profile.OB3_V2)
    assert isinstance(result, dict)
    return result


def unsigned(key: SigningKey | None = None) -> dict[str, Any]:
    return ob3_v2_credential((key or did_key_signer()).controller)


async def findings_of(document: object, **kwargs: Any) -> list[Finding]:
    kwargs.setdefault("resolver", offline_resolver())
    kwargs.setdefault("now", NOW)
    return await inspect_credential(document, **kwargs)


def codes(findings: list[Finding]) -> set[Code]:
    return {f.code for f in findings}


async def test_a_default_credential_signed_by_the_engine_conforms() -> None:
    assert await findings_of(await signed(unsigned())) == []


async def test_a_did_web_credential_conforms_when_the_callers_resolver_finds_its_key() -> None:
    key = did_web_signer()
    document = await signed(unsigned(key), key)
    assert await findings_of(document, resolver=offline_resolver(web_resolver(key))) == []

    async def fetch(did: str) -> dict[str, Any]:
        return await web_resolver(key).resolve(did)

    assert await findings_of(document, resolver=offline_resolver(fetch)) == []


async def test_a_did_web_key_without_a_resolver_is_unresolvable() -> None:
    key = did_web_signer()
    found = await findings_of(await signed(unsigned(key), key))
    assert codes(found) == {Code.KEY_UNRESOLVABLE}
    assert found[0].pointer == "/proof/0/verificationMethod"
    assert "did:web" in found[0].message_en
    assert found[0].message_fr


@pytest.mark.parametrize(
    "contexts",
    [
        [OB_CONTEXT, "https://www.w3.org/ns/credentials/v2"],
        [
            "https://www.w3.org/ns/credentials/v2",
            "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.2.json",
        ],
    ],
)
async def test_context_must_be_vc_v2_then_ob_3_0_3(contexts: list[str]) -> None:
    credential = unsigned()
    credential["@context"] = contexts
    del credential["credentialSubject"]["achievement"]["inLanguage"]  # a 3.0.3 term
    found = await findings_of(await signed(credential), verify_signatures=False)
    assert Code.CONTEXT in codes(found)
    assert next(f for f in found if f.code is Code.CONTEXT).pointer == "/@context"


async def test_type_must_name_an_open_badge_credential() -> None:
    credential = unsigned()
    credential["type"] = ["VerifiableCredential", "AchievementCredential"]
    assert await findings_of(await signed(credential)) == []
    credential["type"] = ["VerifiableCredential"]
    found = await findings_of(await signed(credential))
    assert Code.TYPE in codes(found)


async def test_subject_needs_an_id_or_identifier_and_an_achievement() -> None:
    credential = unsigned()
    del credential["credentialSubject"]["identifier"]
    credential["credentialSubject"]["id"] = (
        "did:key:z6MknGc3ocHs3zdPiJbnaaqDi58NGb4pk1Sp9WxWufuXSdxf"
    )
    assert await findings_of(await signed(credential)) == []

    del credential["credentialSubject"]["id"]
    found = await findings_of(await signed(credential))
    assert any(f.code is Code.SUBJECT and f.pointer == "/credentialSubject" for f in found)

    credential = unsigned()
    del credential["credentialSubject"]["achievement"]
    found = await findings_of(await signed(credential))
    assert any(
        f.code is Code.SUBJECT and f.pointer == "/credentialSubject/achievement" for f in found
    )


async def test_the_official_schema_is_applied_strictly() -> None:
    credential = unsigned()
    credential["credentialSubject"]["achievement"]["name"] = 42
    found = await findings_of(await signed(credential))
    assert any(
        f.code is Code.SCHEMA and f.pointer == "/credentialSubject/achievement/name" for f in found
    )
    # No status-array relaxation: one entry in an array is not the schema's single object.
    credential = unsigned()
    credential["credentialStatus"] = [credential["credentialStatus"]]
    found = await findings_of(await signed(credential))
    assert [(f.code, f.pointer) for f in found] == [(Code.SCHEMA, "/credentialStatus")]


async def test_a_revocation_and_suspension_pair_is_its_own_finding() -> None:
    credential = unsigned()
    revocation = credential["credentialStatus"]
    suspension = {**revocation, "statusPurpose": "suspension", "id": LIST_URL + "-s#94567"}
    credential["credentialStatus"] = [revocation, suspension]
    found = await findings_of(await signed(credential))
    assert [(f.code, f.pointer) for f in found] == [(Code.STATUS_SUSPENSION, "/credentialStatus")]
    assert "suspension" in found[0].message_fr


async def test_proof_must_be_a_data_integrity_proof_with_an_accepted_cryptosuite() -> None:
    key = did_key_signer()
    credential = unsigned(key)
    credential["@context"].append("https://w3id.org/security/suites/ed25519-2020/v1")
    legacy = add_proof(
        credential, key, shared_canonicalizer(), suite=ED25519_SIGNATURE_2020, created=NOW
    )
    found = await findings_of(legacy, verify_signatures=False)
    assert Code.PROOF_TYPE in codes(found)
    for suite in ("eddsa-rdfc-2022", "ecdsa-sd-2023"):
        proof = {"type": "DataIntegrityProof", "cryptosuite": suite}
        assert proof_type_findings({"proof": [proof]}) == []
    bad = {"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019"}
    assert codes(proof_type_findings({"proof": bad})) == {Code.PROOF_TYPE}


async def test_an_unsigned_credential_has_no_proof() -> None:
    found = await findings_of(unsigned())
    assert Code.PROOF_MISSING in codes(found)
    assert Code.KEY_UNRESOLVABLE not in codes(found)


async def test_a_tampered_credential_does_not_verify() -> None:
    document = await signed(unsigned())
    document["name"] = "Something else"
    found = await findings_of(document)
    assert codes(found) == {Code.PROOF_INVALID}
    assert await findings_of(document, verify_signatures=False) == []


async def test_eddsa_jwts_are_reported_and_es256_jwts_accepted() -> None:
    key = did_key_signer()
    eddsa = await sign_credential(ob3_v1_credential(key.controller), key, Profile.JWT)
    found = await findings_of(eddsa)
    algorithm = next(f for f in found if f.code is Code.JWT_ALGORITHM)
    assert "EdDSA" in algorithm.message_en
    assert "ES256" in algorithm.message_en
    assert "ob3-v2" in algorithm.message_fr

    p256 = P256SigningKey.generate()
    es256 = await sign_credential(ob3_v2_credential(p256.controller), p256, Profile.JWT)
    assert Code.JWT_ALGORITHM not in codes(await findings_of(es256, verify_signatures=False))


async def test_validity_dates_are_judged_at_the_given_clock() -> None:
    credential = unsigned()
    credential["validUntil"] = "2025-12-31T00:00:00Z"
    document = await signed(credential)
    assert await findings_of(document, now=NOW) == []
    before = datetime(2025, 2, 1, tzinfo=UTC)
    assert Code.NOT_YET_VALID in codes(await findings_of(document, now=before))
    after = datetime(2026, 1, 1, tzinfo=UTC)
    expired = await findings_of(document, now=after)
    assert Code.EXPIRED in codes(expired)
    assert next(f for f in expired if f.code is Code.EXPIRED).pointer == "/validUntil"


async def test_status_entries_must_be_of_an_accepted_type() -> None:
    key = did_key_signer()
    credential = unsigned(key)
    credential["@context"].append("https://w3id.org/vc/status-list/2021/v1")
    credential["credentialStatus"]["type"] = "StatusList2021Entry"
    found = await findings_of(await signed(credential, key), verify_signatures=False)
    assert any(f.code is Code.STATUS_TYPE and f.pointer == "/credentialStatus/type" for f in found)
    revocation_list = {"id": "https://x.example/rl", "type": "1EdTechRevocationList"}
    assert status_findings({"credentialStatus": revocation_list}) == []


class Lists:
    """Status list credentials by URL; a missing one cannot be fetched."""

    def __init__(self, lists: dict[str, Any]) -> None:
        self.lists = lists

    async def fetch(self, url: str) -> Any:
        return self.lists[url]


def status_list(length: int) -> dict[str, Any]:
    return bitstring_status_list_credential(
        list_url=LIST_URL,
        issuer=did_key_signer().controller,
        purpose="revocation",
        bitstring=Bitstring(length),
        valid_from=NOW - timedelta(days=1),
    )


async def test_status_lists_must_hold_at_least_131072_entries_when_a_fetcher_is_given() -> None:
    document = await signed(unsigned())
    full = Lists({LIST_URL: status_list(131_072)})
    assert await findings_of(document, status_lists=full) == []
    short = Lists({LIST_URL: status_list(16_384)})
    found = await findings_of(document, status_lists=short)
    assert [(f.code, f.pointer) for f in found] == [
        (Code.STATUS_LIST_SIZE, "/credentialStatus/statusListCredential")
    ]
    missing = await findings_of(document, status_lists=Lists({}))
    assert codes(missing) == {Code.STATUS_LIST_UNAVAILABLE}


def endorsement(endorser: SigningKey, **changes: Any) -> dict[str, Any]:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2", OB_CONTEXT],
        "id": "urn:uuid:9a1b2c3d-0000-4000-8000-000000000001",
        "type": ["VerifiableCredential", "EndorsementCredential"],
        "name": "Endorsement by the Order of Engineers",
        "issuer": {"id": endorser.controller, "type": ["Profile"], "name": "Ordre"},
        "validFrom": "2025-02-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://college.example/achievements/python-101",
            "type": ["EndorsementSubject"],
            "endorsementComment": "Meets the Order's expectations.",
        },
    }
    credential.update(changes)
    return credential


async def test_embedded_endorsements_are_inspected_with_the_same_rules() -> None:
    endorser = did_key_signer(3)
    good = await signed(endorsement(endorser), endorser)
    credential = unsigned()
    credential["credentialSubject"]["achievement"]["endorsement"] = [good]
    assert await findings_of(await signed(credential)) == []

    bad = await signed(endorsement(endorser, validFrom="2025-09-01T00:00:00Z"), endorser)
    bad["credentialSubject"]["endorsementComment"] = "changed after signing"
    credential["credentialSubject"]["achievement"]["endorsement"] = [good, bad]
    found = await findings_of(await signed(credential))
    where = "/credentialSubject/achievement/endorsement/1"
    assert {(f.code, f.pointer) for f in found} == {
        (Code.NOT_YET_VALID, f"{where}/validFrom"),
        (Code.PROOF_INVALID, f"{where}/proof"),
    }


async def test_an_endorsement_must_be_an_endorsement_credential() -> None:
    endorser = did_key_signer(3)
    wrong = await signed(
        endorsement(endorser, type=["VerifiableCredential", "OpenBadgeCredential"]), endorser
    )
    credential = unsigned()
    credential["endorsement"] = [wrong]
    found = await findings_of(await signed(credential), verify_signatures=False)
    assert (Code.ENDORSEMENT_TYPE, "/endorsement/0/type") in {(f.code, f.pointer) for f in found}


async def test_what_is_neither_a_credential_nor_a_jwt_is_unreadable() -> None:
    assert codes(await findings_of(42)) == {Code.UNREADABLE}
    assert codes(await findings_of("not.a.jwt")) == {Code.UNREADABLE}


def test_problem_paths_become_json_pointers() -> None:
    assert pointer("credentialSubject.achievement.alignment[2].targetUrl") == (
        "/credentialSubject/achievement/alignment/2/targetUrl"
    )
    assert pointer("") == ""
    assert pointer("@context[0]") == "/@context/0"


def test_the_cli_prints_findings_and_exits_non_zero_on_any(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = asyncio.run(signed(unsigned()))
    bad = copy.deepcopy(good)
    bad["@context"] = list(reversed(bad["@context"]))
    (tmp_path / "good.json").write_text(json.dumps(good), encoding="utf-8")
    (tmp_path / "bad.json").write_text(json.dumps(bad), encoding="utf-8")
    (tmp_path / "empty.json").write_text("", encoding="utf-8")
    at = ["--at", "2025-06-01T00:00:00Z"]

    assert main(["conformance", str(tmp_path / "good.json"), *at]) == 0
    assert "good.json: conforms" in capsys.readouterr().out

    assert main(["conformance", str(tmp_path / "good.json"), str(tmp_path / "bad.json"), *at]) == 1
    out = capsys.readouterr().out
    assert "[context.order] /@context" in out
    assert "good.json: conforms" in out

    assert main(["conformance", str(tmp_path / "bad.json"), "--json", "--lang", "fr", *at]) == 1
    report = json.loads(capsys.readouterr().out)
    assert "context.order" in {f["code"] for f in report[str(tmp_path / "bad.json")]}

    assert main(["conformance", str(tmp_path / "empty.json")]) == 2


async def test_a_stand_alone_endorsement_is_checked_against_its_schema_definition() -> None:
    endorser = did_key_signer(3)
    assert await findings_of(await signed(endorsement(endorser), endorser)) == []
    unnamed = endorsement(endorser)
    del unnamed["name"]
    found = await findings_of(await signed(unnamed, endorser))
    assert [(f.code, f.pointer) for f in found] == [(Code.SCHEMA, "")]
    assert "'name' is a required property" in found[0].message_en
