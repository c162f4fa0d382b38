"""verify(): every check, its problem type and bilingual reason; fakes for proofs, lists, registry.

The proof engine is replaced by ``FakeProofVerifier`` (the orchestrator's logic is under test
here); the last tests run the real engine end to end with did:key.
"""

from __future__ import annotations

import base64
import copy
import json
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ob3_samples import (
    ISSUED,
    ISSUER_DID,
    LIST_URL,
    OTHER_DID,
    FakeFetcher,
    FakeProofVerifier,
    credential,
    with_fake_proof,
)

from sceau_credentials.dids import DidKeyResolver
from sceau_credentials.results import (
    CREDENTIAL_EXPIRED,
    CREDENTIAL_NOT_YET_VALID,
    CREDENTIAL_REVOKED,
    CREDENTIAL_SUSPENDED,
    CRYPTOGRAPHIC_SECURITY_ERROR,
    INVALID_CHALLENGE_ERROR,
    INVALID_DOMAIN_ERROR,
    ISSUER_NOT_TRUSTED,
    ISSUER_TRUST_UNKNOWN,
    MALFORMED_VALUE_ERROR,
    PARSING_ERROR,
    PROOF_VERIFICATION_ERROR,
    RANGE_ERROR,
    STATUS_LIST_LENGTH_ERROR,
    STATUS_RETRIEVAL_ERROR,
    STATUS_VERIFICATION_ERROR,
    CheckName,
    CheckStatus,
    Outcome,
    VerificationResult,
)
from sceau_credentials.status import (
    Bitstring,
    ListStatusChecker,
    bitstring_status_list_credential,
    status_entry,
    status_list_2021_credential,
)
from sceau_credentials.verification import IssuerTrustInfo, verify

NOW = ISSUED + timedelta(days=30)
RESOLVER = DidKeyResolver()


async def run(document: object, **kwargs: Any) -> VerificationResult:
    kwargs.setdefault("proof_verifier", FakeProofVerifier())
    kwargs.setdefault("now", NOW)
    result = await verify(document, resolver=RESOLVER, **kwargs)
    # verify() has a last-resort guard; reaching it would mean some input was not handled
    assert not _hit_guard(result), result
    return result


def _hit_guard(result: VerificationResult) -> bool:
    reasons = [c.reason_en for c in result.checks]
    return any("could not be processed" in r for r in reasons) or any(
        _hit_guard(r) for r in result.credentials
    )


def status_of(result: VerificationResult, name: CheckName) -> CheckStatus:
    check = result.check(name)
    assert check is not None, name
    return check.status


def signed(profile: str = "ob3-v2", **kwargs: Any) -> dict[str, Any]:
    return with_fake_proof(credential(profile, **kwargs))


def status_list(
    revoked: tuple[int, ...] = (), *, issuer: str = ISSUER_DID, purpose: Any = "revocation",
    length: int = 131_072, v1: bool = False,
) -> dict[str, Any]:  # fmt: skip
    bits = Bitstring(length)
    for index in revoked:
        bits.set(index, True)
    if v1:
        unsigned = status_list_2021_credential(
            list_url=LIST_URL, issuer=issuer, purpose=purpose, bitstring=bits, issuance_date=ISSUED
        )
    else:
        unsigned = bitstring_status_list_credential(
            list_url=LIST_URL, issuer=issuer, purpose=purpose, bitstring=bits, valid_from=ISSUED
        )
    return with_fake_proof(unsigned, did=issuer)


def checker(*lists: tuple[str, dict[str, Any]], **kwargs: Any) -> ListStatusChecker:
    return ListStatusChecker(
        FakeFetcher(dict(lists)), RESOLVER, proof_verifier=FakeProofVerifier(**kwargs)
    )


class Registry:
    """A fake issuer registry."""

    def __init__(self, info: IssuerTrustInfo | None = None, fail: bool = False) -> None:
        self.info = info or IssuerTrustInfo(
            registered=True, accredited=True, key_valid=True, name_fr="Collège", name_en="College"
        )
        self.fail = fail
        self.calls: list[dict[str, Any]] = []

    async def lookup(self, issuer: str, **kwargs: Any) -> IssuerTrustInfo:
        self.calls.append({"issuer": issuer, **kwargs})
        if self.fail:
            raise TimeoutError("registry down")
        return self.info


# --- the happy path -------------------------------------------------------------------------------


async def test_sound_credential_verifies_with_every_check_passed() -> None:
    registry = Registry()
    result = await run(signed(), status=checker((LIST_URL, status_list())), trust=registry)
    assert result.verified
    assert result.outcome is Outcome.VERIFIED
    assert [(c.name, c.status) for c in result.checks] == [
        (CheckName.STRUCTURE, CheckStatus.PASSED),
        (CheckName.PROOF, CheckStatus.PASSED),
        (CheckName.VALIDITY, CheckStatus.PASSED),
        (CheckName.STATUS, CheckStatus.PASSED),
        (CheckName.ISSUER, CheckStatus.PASSED),
    ]
    assert all(c.reason_en and c.reason_fr for c in result.checks)
    assert registry.calls == [
        {
            "issuer": ISSUER_DID,
            "achievement_type": "MicroCredential",
            "issued_at": ISSUED,
            "verification_method": f"{ISSUER_DID}#{ISSUER_DID.split(':')[-1]}",
        }
    ]
    summary = result.credential
    assert summary is not None
    assert summary.format == "ob3-v2"
    assert summary.issuer_id == ISSUER_DID
    assert summary.achievement_names == {"fr": "Enseigner avec l'IA", "en": "Teaching with AI"}
    assert summary.valid_from == ISSUED


async def test_vcdm_1_1_credentials_verify() -> None:
    result = await run(signed("ob3-v1"), status=checker((LIST_URL, status_list(v1=True))))
    assert result.verified, [c.reason_en for c in result.checks]
    assert result.credential is not None
    assert result.credential.format == "ob3-v1"


async def test_result_round_trips_through_json() -> None:
    result = await run(signed(), status=checker((LIST_URL, status_list())))
    reloaded = VerificationResult.model_validate_json(result.model_dump_json())
    assert reloaded == result
    assert json.loads(result.model_dump_json())["outcome"] == "verified"


# --- proof ----------------------------------------------------------------------------------------


async def test_tampered_credential_fails_the_proof_with_its_problem_type() -> None:
    tampered = signed()
    tampered["name"] = "TAMPERED"
    result = await run(tampered, status=checker((LIST_URL, status_list())))
    proof = result.check(CheckName.PROOF)
    assert proof is not None
    assert proof.status is CheckStatus.FAILED
    assert proof.problem_type == PROOF_VERIFICATION_ERROR
    assert "signature does not match" in proof.reason_en
    assert result.outcome is Outcome.NOT_VERIFIED
    # no URL named by an unauthenticated document is fetched, no issuer vouched for
    assert status_of(result, CheckName.STATUS) is CheckStatus.INCONCLUSIVE
    assert status_of(result, CheckName.ISSUER) is CheckStatus.INCONCLUSIVE


async def test_no_fetch_for_forged_credentials() -> None:
    fetcher = FakeFetcher({LIST_URL: status_list()})
    status = ListStatusChecker(fetcher, RESOLVER, proof_verifier=FakeProofVerifier())
    forged = with_fake_proof(credential(), did=OTHER_DID)
    await run(forged, status=status)
    assert fetcher.fetched == []


async def test_missing_proof_fails_without_calling_the_engine() -> None:
    verifier = FakeProofVerifier()
    result = await run(credential(), proof_verifier=verifier)
    assert status_of(result, CheckName.PROOF) is CheckStatus.FAILED
    assert verifier.calls == []


async def test_proof_by_a_key_of_someone_else_fails() -> None:
    result = await run(
        with_fake_proof(credential(), did=OTHER_DID),
        proof_verifier=FakeProofVerifier(trusted={ISSUER_DID, OTHER_DID}),
    )
    proof = result.check(CheckName.PROOF)
    assert proof is not None
    assert proof.status is CheckStatus.FAILED
    assert proof.problem_type == CRYPTOGRAPHIC_SECURITY_ERROR
    assert OTHER_DID in proof.reason_en


async def test_a_crashing_proof_engine_is_a_failed_proof() -> None:
    result = await run(signed(), proof_verifier=FakeProofVerifier(raise_error=True))
    proof = result.check(CheckName.PROOF)
    assert proof is not None
    assert proof.status is CheckStatus.FAILED
    assert proof.problem_type == PROOF_VERIFICATION_ERROR


# --- validity -------------------------------------------------------------------------------------


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1"])
async def test_expired_credential(profile: str) -> None:
    document = signed(profile, valid_until=ISSUED + timedelta(days=1))
    result = await run(document, status=checker((LIST_URL, status_list(v1=profile != "ob3-v2"))))
    validity = result.check(CheckName.VALIDITY)
    assert validity is not None
    assert validity.status is CheckStatus.FAILED
    assert validity.problem_type == CREDENTIAL_EXPIRED
    assert "expired" in validity.reason_en
    assert "expiré" in validity.reason_fr
    assert status_of(result, CheckName.STATUS) is CheckStatus.PASSED  # expired, not revoked
    assert not result.verified


async def test_not_yet_valid_credential() -> None:
    result = await run(signed(), now=ISSUED - timedelta(hours=1))
    validity = result.check(CheckName.VALIDITY)
    assert validity is not None
    assert validity.problem_type == CREDENTIAL_NOT_YET_VALID


async def test_validity_boundaries() -> None:
    document = signed(valid_until=ISSUED + timedelta(days=1))
    at_start = await run(document, now=ISSUED)
    at_end = await run(document, now=ISSUED + timedelta(days=1))
    assert status_of(at_start, CheckName.VALIDITY) is CheckStatus.PASSED
    assert status_of(at_end, CheckName.VALIDITY) is CheckStatus.FAILED


# --- status ---------------------------------------------------------------------------------------


async def test_revoked_credential() -> None:
    result = await run(signed(), status=checker((LIST_URL, status_list((94567,)))))
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.status is CheckStatus.FAILED
    assert status.problem_type == CREDENTIAL_REVOKED
    assert status.reason_fr == "Le titre a été révoqué."
    assert status.details["entries"][0]["status"] == 1
    assert result.outcome is Outcome.NOT_VERIFIED


async def test_suspension_and_its_lifting() -> None:
    entries = [
        status_entry("ob3-v2", "revocation", LIST_URL, 94567),
        status_entry("ob3-v2", "suspension", LIST_URL, 94567),
    ]
    document = signed(status=entries)
    suspended = status_list((94567,), purpose=["revocation", "suspension"])
    result = await run(document, status=checker((LIST_URL, suspended)))
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.problem_type == CREDENTIAL_REVOKED  # one bitstring: both purposes set
    both = status_list(purpose=["revocation", "suspension"])
    assert (await run(document, status=checker((LIST_URL, both)))).verified


async def test_suspended_only() -> None:
    document = signed(status=[status_entry("ob3-v2", "suspension", LIST_URL, 3)])
    result = await run(
        document, status=checker((LIST_URL, status_list((3,), purpose="suspension")))
    )
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.problem_type == CREDENTIAL_SUSPENDED


async def test_unreachable_list_is_inconclusive_never_valid() -> None:
    result = await run(signed(), status=checker())
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.status is CheckStatus.INCONCLUSIVE
    assert status.problem_type == STATUS_RETRIEVAL_ERROR
    assert not result.verified
    assert result.outcome is Outcome.INCONCLUSIVE


async def test_without_a_status_checker_status_is_inconclusive() -> None:
    result = await run(signed())
    assert status_of(result, CheckName.STATUS) is CheckStatus.INCONCLUSIVE
    assert result.outcome is Outcome.INCONCLUSIVE


async def test_credential_without_status_passes_the_status_check() -> None:
    result = await run(signed(status=[]))
    assert status_of(result, CheckName.STATUS) is CheckStatus.PASSED


@pytest.mark.parametrize(
    ("the_list", "problem"),
    [
        (status_list(issuer=OTHER_DID), STATUS_VERIFICATION_ERROR),
        (status_list(purpose="suspension"), STATUS_VERIFICATION_ERROR),
        (status_list(length=1024), STATUS_LIST_LENGTH_ERROR),
        (status_list(v1=True), STATUS_VERIFICATION_ERROR),  # wrong list type for the entry
        ({**status_list(), "name": "TAMPERED"}, STATUS_VERIFICATION_ERROR),
    ],
)
async def test_bad_status_lists_fail_with_the_spec_errors(the_list: Any, problem: str) -> None:
    result = await run(
        signed(),
        status=checker((LIST_URL, the_list), trusted={ISSUER_DID, OTHER_DID}),
    )
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.status is CheckStatus.FAILED
    assert status.problem_type == problem
    assert not result.verified


async def test_index_beyond_the_list_is_a_range_error() -> None:
    document = signed(status=[status_entry("ob3-v2", "revocation", LIST_URL, 200_000)])
    result = await run(document, status=checker((LIST_URL, status_list())))
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.problem_type == RANGE_ERROR


async def test_expired_status_list_is_inconclusive() -> None:
    stale = status_list()
    stale["validUntil"] = (ISSUED + timedelta(days=1)).isoformat()
    result = await run(signed(), status=checker((LIST_URL, stale)))
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.status is CheckStatus.INCONCLUSIVE
    assert status.problem_type == STATUS_VERIFICATION_ERROR


async def test_unsupported_status_method_is_inconclusive() -> None:
    document = signed(status=[])
    document["credentialStatus"] = {
        "id": "https://c.example/status/2017",
        "type": "CredentialStatusList2017",
    }
    result = await run(document, status=checker())
    status = result.check(CheckName.STATUS)
    assert status is not None
    assert status.status is CheckStatus.INCONCLUSIVE
    assert "not supported" in status.reason_en


async def test_shared_list_is_fetched_once() -> None:
    fetcher = FakeFetcher({LIST_URL: status_list(purpose=["revocation", "suspension"])})
    entries = [
        status_entry("ob3-v2", "revocation", LIST_URL, 1),
        status_entry("ob3-v2", "suspension", LIST_URL, 1),
    ]
    status = ListStatusChecker(fetcher, RESOLVER, proof_verifier=FakeProofVerifier())
    assert (await run(signed(status=entries), status=status)).verified
    assert fetcher.fetched == [LIST_URL]


async def test_a_hundred_status_lists_cost_at_most_eight_fetches() -> None:
    fetcher = FakeFetcher({LIST_URL: status_list()})
    entries = [status_entry("ob3-v2", "revocation", LIST_URL, 1)] + [
        status_entry("ob3-v2", "revocation", f"{LIST_URL}-{n}", 1) for n in range(100)
    ]
    status = ListStatusChecker(fetcher, RESOLVER, proof_verifier=FakeProofVerifier())
    result = await run(signed(status=entries), status=status)
    assert len(fetcher.fetched) == 8
    check = result.check(CheckName.STATUS)
    assert check is not None
    assert check.status is CheckStatus.INCONCLUSIVE
    assert "more than 8 status lists" in check.reason_en
    assert "plus de 8 listes" in check.reason_fr


async def test_a_crashing_status_checker_leaves_status_unknown() -> None:
    class Broken:
        async def check(self, entries: Any, *, issuer: Any, now: Any, **_: Any) -> Any:
            raise RuntimeError("down")

    result = await run(signed(), status=Broken())
    assert status_of(result, CheckName.STATUS) is CheckStatus.INCONCLUSIVE


# --- issuer trust ---------------------------------------------------------------------------------


async def test_unregistered_issuer_is_shown_but_does_not_unverify() -> None:
    registry = Registry(IssuerTrustInfo(registered=False))
    result = await run(signed(status=[]), trust=registry)
    issuer = result.check(CheckName.ISSUER)
    assert issuer is not None
    assert issuer.status is CheckStatus.FAILED
    assert issuer.problem_type == ISSUER_NOT_TRUSTED
    assert not issuer.required
    assert result.verified


@pytest.mark.parametrize(
    ("info", "expected"),
    [
        (IssuerTrustInfo(registered=True, key_valid=False), CheckStatus.FAILED),
        (IssuerTrustInfo(registered=True, key_valid=True, accredited=False), CheckStatus.FAILED),
        (IssuerTrustInfo(registered=True), CheckStatus.INCONCLUSIVE),
        (IssuerTrustInfo(), CheckStatus.INCONCLUSIVE),
        (IssuerTrustInfo(registered=True, key_valid=True, name_fr="Cégep"), CheckStatus.PASSED),
    ],
)
async def test_registry_answers(info: IssuerTrustInfo, expected: CheckStatus) -> None:
    result = await run(signed(status=[]), trust=Registry(info))
    assert status_of(result, CheckName.ISSUER) is expected


async def test_registry_names_appear_in_both_languages() -> None:
    info = IssuerTrustInfo(
        registered=True, key_valid=True, name_fr="Cégep Ex", name_en="Ex College"
    )
    issuer = (await run(signed(status=[]), trust=Registry(info))).check(CheckName.ISSUER)
    assert issuer is not None
    assert "Ex College" in issuer.reason_en
    assert "Cégep Ex" in issuer.reason_fr
    assert issuer.details["name_fr"] == "Cégep Ex"


async def test_no_registry_or_registry_down_is_inconclusive() -> None:
    for trust in (None, Registry(fail=True)):
        issuer = (await run(signed(status=[]), trust=trust)).check(CheckName.ISSUER)
        assert issuer is not None
        assert issuer.status is CheckStatus.INCONCLUSIVE
        assert issuer.problem_type == ISSUER_TRUST_UNKNOWN


# --- structure ------------------------------------------------------------------------------------


async def test_structure_defects_are_listed() -> None:
    document = signed()
    del document["credentialSubject"]["achievement"]["criteria"]
    result = await run(document)
    structure = result.check(CheckName.STRUCTURE)
    assert structure is not None
    assert structure.status is CheckStatus.FAILED
    assert structure.problem_type == MALFORMED_VALUE_ERROR
    assert "credentialSubject.achievement.criteria" in structure.reason_en
    assert structure.details["problems"][0]["path"] == "credentialSubject.achievement.criteria"


async def test_schema_violations_are_warnings() -> None:
    document = signed()
    document["awardedDate"] = "yesterday"
    result = await run(document, status=checker((LIST_URL, status_list())))
    assert result.verified
    assert any("awardedDate" in w.message_en for w in result.warnings)


async def test_several_status_entries_are_told_they_fail_the_official_schema() -> None:
    """The verifier's schema check is strict: a revocation + suspension array gets a warning."""
    single = signed(status=[status_entry("ob3-v2", "revocation", LIST_URL, 3)])
    both = status_list(purpose=["revocation", "suspension"])
    result = await run(single, status=checker((LIST_URL, both)))
    assert result.verified
    assert not result.warnings
    entries = [
        status_entry("ob3-v2", "revocation", LIST_URL, 3),
        status_entry("ob3-v2", "suspension", LIST_URL, 3),
    ]
    result = await run(signed(status=entries), status=checker((LIST_URL, both)))
    assert result.verified  # a warning, never a failure
    [warning] = result.warnings
    assert "credentialStatus" in warning.message_en
    assert "single status entry" in warning.message_en
    assert "1EdTech" in warning.message_fr


async def test_non_ob_credentials_get_a_warning() -> None:
    document = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "issuer": ISSUER_DID,
        "credentialSubject": {"id": "did:example:1"},
    }
    result = await run(with_fake_proof(document))
    assert result.verified
    assert result.credential is not None
    assert result.credential.format == "vcdm-2.0"
    assert "not an Open Badges" in result.warnings[0].message_en


# --- VC-JWT ---------------------------------------------------------------------------------------


def jwt(claims: dict[str, Any], header: dict[str, Any] | None = None) -> str:
    def part(value: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()

    return ".".join(
        [part(header or {"alg": "EdDSA", "kid": f"{ISSUER_DID}#key"}), part(claims), "c2ln"]
    )


def jwt_claims(**extra: Any) -> dict[str, Any]:
    """The claims of a VC Data Model 1.1 VC-JWT (the jwt profile's shape before 2026-12)."""
    vc = credential("ob3-v1", status=[])
    issuer, issued = vc["issuer"]["id"], vc.pop("issuanceDate")
    subject = vc["credentialSubject"].pop("id")
    del vc["issuer"]["id"]
    return {
        "iss": issuer,
        "nbf": int(datetime.fromisoformat(issued).timestamp()),
        "jti": vc.pop("id"),
        "sub": subject,
        "vc": vc,
        **extra,
    }


async def test_vc_jwt_claims_are_restored() -> None:
    result = await run(jwt(jwt_claims()))
    assert result.verified, [c.reason_en for c in result.checks]
    summary = result.credential
    assert summary is not None
    assert summary.format == "jwt"
    assert summary.issuer_id == ISSUER_DID
    assert summary.valid_from == ISSUED
    assert summary.credential_id == "urn:uuid:6f3c2f64-0e58-4a43-9d52-3f2d4b5a6c7d"


async def test_vc_jose_cose_jwt_is_checked_like_its_credential() -> None:
    """The jwt profile's VCDM 2.0 shape: the payload is the credential, Bitstring status."""
    payload = credential("jwt")
    header = {"alg": "ES256", "kid": f"{ISSUER_DID}#key", "typ": "vc+jwt", "cty": "vc"}
    result = await run(jwt(payload, header), status=checker((LIST_URL, status_list())))
    assert result.verified, [c.reason_en for c in result.checks]
    summary = result.credential
    assert summary is not None
    assert summary.format == "jwt"
    assert summary.valid_from == ISSUED
    assert summary.credential_id == payload["id"]
    revoked = checker(
        (LIST_URL, status_list((int(payload["credentialStatus"]["statusListIndex"]),)))
    )
    status = (await run(jwt(payload, header), status=revoked)).check(CheckName.STATUS)
    assert status is not None
    assert status.status is CheckStatus.FAILED


async def test_vc_jwt_exp_is_the_expiry() -> None:
    claims = jwt_claims(exp=int((ISSUED + timedelta(days=1)).timestamp()))
    result = await run(jwt(claims))
    validity = result.check(CheckName.VALIDITY)
    assert validity is not None
    assert validity.problem_type == CREDENTIAL_EXPIRED


async def test_vc_jwt_claims_must_match_the_credential() -> None:
    claims = jwt_claims()
    claims["vc"]["issuer"]["id"] = OTHER_DID
    structure = (await run(jwt(claims))).check(CheckName.STRUCTURE)
    assert structure is not None
    assert structure.status is CheckStatus.FAILED
    assert "'iss'" in structure.reason_en


@pytest.mark.parametrize(
    "token",
    ["e30.e30.", "bm90IGpzb24.e30.c2ln", jwt({"iss": ISSUER_DID}), jwt({"vc": "text"})],
)
async def test_bad_jwts_are_parsing_errors(token: str) -> None:
    structure = (await run(token)).check(CheckName.STRUCTURE)
    assert structure is not None
    assert structure.problem_type == PARSING_ERROR


# --- presentations --------------------------------------------------------------------------------


def presentation(
    *credentials: Any, challenge: str = "c-123", domain: str = "verifier.example"
) -> dict[str, Any]:
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": ISSUER_DID,
        "verifiableCredential": list(credentials),
    }
    return with_fake_proof(
        unsigned, proofPurpose="authentication", challenge=challenge, domain=domain
    )


async def test_presentation_with_expected_challenge_and_domain() -> None:
    result = await run(
        presentation(signed(status=[]), jwt(jwt_claims())),
        expected_challenge="c-123",
        expected_domain="verifier.example",
    )
    assert result.is_presentation
    assert result.verified
    assert [c.name for c in result.checks] == [
        CheckName.STRUCTURE,
        CheckName.PROOF,
        CheckName.PRESENTATION,
    ]
    assert len(result.credentials) == 2
    assert all(r.verified for r in result.credentials)


@pytest.mark.parametrize(
    ("kwargs", "problem"),
    [
        ({"expected_challenge": "other"}, INVALID_CHALLENGE_ERROR),
        ({"expected_domain": "evil.example"}, INVALID_DOMAIN_ERROR),
    ],
)
async def test_presentation_challenge_and_domain_mismatch(kwargs: Any, problem: str) -> None:
    result = await run(presentation(signed(status=[])), **kwargs)
    check = result.check(CheckName.PRESENTATION)
    assert check is not None
    assert check.problem_type == problem
    assert not result.verified


async def test_presentation_fails_when_an_embedded_credential_fails() -> None:
    bad = signed(status=[])
    bad["name"] = "TAMPERED"
    result = await run(presentation(signed(status=[]), bad))
    assert not result.verified
    assert result.outcome is Outcome.NOT_VERIFIED
    assert [r.verified for r in result.credentials] == [True, False]


async def test_unsigned_presentation_with_a_challenge_fails() -> None:
    unsigned = presentation(signed(status=[]))
    del unsigned["proof"]
    result = await run(unsigned, expected_challenge="c-123")
    assert status_of(result, CheckName.PROOF) is CheckStatus.FAILED
    assert not (await run(unsigned)).check(CheckName.PROOF).required  # type: ignore[union-attr]


async def test_presentation_signed_by_someone_other_than_the_holder() -> None:
    document = presentation(signed(status=[]))
    document["holder"] = OTHER_DID
    result = await run(document)
    assert status_of(result, CheckName.PROOF) is CheckStatus.FAILED


async def test_nested_presentations_and_junk_entries_are_refused() -> None:
    inner = presentation(signed(status=[]))
    result = await run(presentation(inner, "not a credential"))
    assert [r.check(CheckName.STRUCTURE).problem_type for r in result.credentials] == [  # type: ignore[union-attr]
        MALFORMED_VALUE_ERROR,
        PARSING_ERROR,
    ]
    assert not result.verified


# --- malformed input never raises -----------------------------------------------------------------


@pytest.mark.parametrize(
    "document",
    [None, 42, 3.5, [], [1, 2], "", "   ", "not json", "{", "[]", b"\xff\xfe", b"{}", "{}",
     {"@context": 5}, {"type": "VerifiablePresentation", "verifiableCredential": 7},
     "[" * 100_000 + "]" * 100_000],
)  # fmt: skip
async def test_malformed_input_gives_a_failed_result(document: object) -> None:
    result = await run(document)
    assert not result.verified
    assert result.outcome is Outcome.NOT_VERIFIED
    structure = result.check(CheckName.STRUCTURE)
    assert structure is not None
    assert structure.status is CheckStatus.FAILED
    assert structure.reason_en
    assert structure.reason_fr


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4)
    ),
    max_leaves=20,
)
KEYS = st.sampled_from(
    ["@context", "type", "issuer", "validFrom", "validUntil", "credentialSubject", "proof",
     "credentialStatus", "id", "verifiableCredential", "holder", "issuanceDate"]
)  # fmt: skip


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(document=JSON)
async def test_fuzz_arbitrary_json_never_raises(document: object) -> None:
    result = await run(document, status=checker(), trust=Registry())
    assert isinstance(result, VerificationResult)
    assert not result.verified


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    edits=st.lists(st.tuples(KEYS, JSON), max_size=4),
    presented=st.booleans(),
)
async def test_fuzz_mutated_credentials_never_raise(
    edits: list[tuple[str, object]], presented: bool
) -> None:
    document = signed()
    for key, value in edits:
        document[key] = value
    if presented:
        document = presentation(document)
    result = await run(document, status=checker((LIST_URL, status_list())), trust=Registry())
    assert isinstance(result, VerificationResult)
    json.loads(result.model_dump_json())  # always serialisable


@settings(max_examples=100, deadline=None)
@given(st.text(alphabet=st.sampled_from("abcXYZ019-_."), max_size=60))
async def test_fuzz_jwt_like_strings_never_raise(text: str) -> None:
    result = await run(text)
    assert not result.verified


# --- the real proof engine, end to end ------------------------------------------------------------


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1", "jwt"])
async def test_real_engine_round_trip_and_tampering(profile: str) -> None:
    from ob3_samples import issuer as issuer_profile

    from sceau_credentials.engine import sign_credential
    from sceau_credentials.keys import SigningKey

    key = SigningKey.generate()
    document = credential(profile, status=[])
    document["issuer"]["id"] = key.did_key
    assert issuer_profile().id != key.did_key
    secured = await sign_credential(document, key, profile)  # type: ignore[arg-type]
    result = await verify(secured, resolver=RESOLVER, now=NOW)
    assert result.verified, [c.reason_en for c in result.checks]
    if isinstance(secured, dict):
        mutations: list[Callable[[dict[str, Any]], object]] = [
            lambda d: d["credentialSubject"]["achievement"].update({"name": "Autre"}),
            lambda d: d.update(
                {"validFrom" if profile == "ob3-v2" else "issuanceDate": "2020-01-01T00:00:00Z"}
            ),
            lambda d: d["@context"].pop(),
            lambda d: d["issuer"].update({"id": OTHER_DID}),
        ]
        for mutate in mutations:
            tampered = copy.deepcopy(secured)
            mutate(tampered)
            outcome = await verify(tampered, resolver=RESOLVER, now=NOW)
            assert not outcome.verified
            assert status_of(outcome, CheckName.PROOF) is CheckStatus.FAILED


async def test_real_presentation_round_trip() -> None:
    from sceau_credentials.engine import sign_credential
    from sceau_credentials.keys import SigningKey
    from sceau_credentials.presentations import sign_presentation

    issuer_key, holder_key = SigningKey.generate(), SigningKey.generate()
    document = credential("ob3-v2", status=[])
    document["issuer"]["id"] = issuer_key.did_key
    document["credentialSubject"]["id"] = holder_key.did_key
    secured = await sign_credential(document, issuer_key)
    unsigned = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiablePresentation"],
        "holder": holder_key.did_key,
        "verifiableCredential": [secured],
    }
    vp = sign_presentation(unsigned, holder_key, challenge="n-42", domain="verifier.example")
    result = await verify(
        vp,
        resolver=RESOLVER,
        now=NOW,
        expected_challenge="n-42",
        expected_domain="verifier.example",
    )
    assert result.verified, [c.reason_en for c in result.checks]
    assert [r.verified for r in result.credentials] == [True]

    replayed = await verify(vp, resolver=RESOLVER, now=NOW, expected_challenge="n-43")
    assert not replayed.verified
    presentation_check = replayed.check(CheckName.PRESENTATION)
    assert presentation_check is not None
    assert presentation_check.problem_type == INVALID_CHALLENGE_ERROR

    tampered = copy.deepcopy(vp)
    tampered["verifiableCredential"][0]["name"] = "Autre"
    broken = await verify(tampered, resolver=RESOLVER, now=NOW, expected_challenge="n-42")
    assert status_of(broken, CheckName.PROOF) is CheckStatus.FAILED
    assert [r.verified for r in broken.credentials] == [False]


async def test_a_list_served_again_is_decoded_once_and_a_new_one_is_read(monkeypatch) -> None:
    """The checker keeps decoded lists by their encoded text: a re-signed list is read anew."""
    from sceau_credentials.status import checker as checker_module

    decodings: list[str] = []
    real = checker_module.decode_bitstring_status_list

    def counting(encoded: Any, **kwargs: Any) -> Any:
        decodings.append(encoded)
        return real(encoded, **kwargs)

    monkeypatch.setattr(checker_module, "decode_bitstring_status_list", counting)
    fetcher = FakeFetcher({LIST_URL: status_list()})
    status = ListStatusChecker(fetcher, RESOLVER, proof_verifier=FakeProofVerifier())
    for _ in range(3):
        result = await run(signed(), status=status)
        assert status_of(result, CheckName.STATUS) is CheckStatus.PASSED
    assert len(decodings) == 1
    fetcher.lists[LIST_URL] = status_list(revoked=(94567,))  # the issuer revoked it
    result = await run(signed(), status=status)
    assert status_of(result, CheckName.STATUS) is CheckStatus.FAILED
    assert len(decodings) == 2
