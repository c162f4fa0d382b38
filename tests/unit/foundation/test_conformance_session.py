"""The session's conformance policy over the issuer's credential copies (writer and reader).

The issuer's :class:`CredentialCopies` writes the files; :func:`check_copies` reads and judges
them: default-profile credentials must conform, the suspension finding is allowed only where the
institution turned suspension on (or for a share's derived copy), VC Data Model 1.1 profiles are
reported, not enforced.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sceau_credentials.conformance import Code, Finding
from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.status.bitstring import Bitstring
from sceau_credentials.status.entries import bitstring_status_list_credential
from sceau_dev.testing.conformance import CheckedCopy, check_copies
from sceau_dev.testing.conformance_session import DIR_VARIABLE
from sceau_issuer.credential_copies import Copy, CredentialCopies, is_credential
from sceau_issuer.settings import IssuerSettings
from sceau_issuer.signer_pool import Signer

OB = "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"
WEB_DID = "did:web:college.example"


def credential(issuer: str, *, suspension: bool = False) -> dict[str, Any]:
    entry = {
        "id": "https://registry.example/v1/status-lists/r#7",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation",
        "statusListIndex": "7",
        "statusListCredential": "https://registry.example/v1/status-lists/r",
    }
    status: Any = entry
    if suspension:
        status = [entry, {**entry, "statusPurpose": "suspension", "id": entry["id"] + "s"}]
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", OB],
        "id": "urn:uuid:0f0e0d0c-0b0a-4009-8807-060504030201",
        "type": ["VerifiableCredential", "OpenBadgeCredential"],
        "issuer": {"id": issuer, "type": ["Profile"], "name": "Collège"},
        "validFrom": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(timespec="seconds"),
        "credentialSubject": {
            "type": ["AchievementSubject"],
            "id": "did:example:learner",
            "achievement": {
                "id": "https://college.example/achievements/1",
                "type": ["Achievement"],
                "name": "Module 1",
                "description": "The first module.",
                "criteria": {"narrative": "Pass the exam."},
            },
        },
        "credentialStatus": status,
    }


async def sign(document: dict[str, Any], key: SigningKey) -> dict[str, Any]:
    signed = await sign_credential(document, key, Profile.OB3_V2)
    assert isinstance(signed, dict)
    return signed


async def test_the_policy_enforces_default_credentials_and_allows_only_the_opt_in(
    tmp_path: Path,
) -> None:
    key = SigningKey.from_seed(bytes([7]) * 32)
    web = SigningKey.from_seed(bytes([8]) * 32, WEB_DID, "key-3")
    plain = await sign(credential(key.controller), key)
    on_web = await sign(credential(web.controller), web)
    paired = await sign(credential(key.controller, suspension=True), key)
    broken = copy.deepcopy(plain)
    broken["@context"] = broken["@context"][::-1]
    copies = CredentialCopies(tmp_path / "copies")
    await copies.keep(
        [
            Copy(plain, key, "ob3-v2", False),
            Copy(on_web, web, "ob3-v2", False),  # did:web: resolved from the recorded key
            Copy(paired, key, "ob3-v2", True),  # the institution turned suspension on
            Copy(paired, key, "ob3-v2", None),  # a share's derived copy inherits its entries
            Copy(paired, key, "ob3-v2", False),  # suspension without the opt-in: a violation
            Copy(broken, key, "ob3-v1", False),  # a VCDM 1.1 profile: reported, not enforced
            Copy(broken, key, "ob3-v2", False),
        ]
    )

    report = await check_copies(tmp_path / "copies")

    assert len(report.checked) == 7
    failing = sorted(
        (tuple(sorted({f.code for f in c.violations})), c.suspension) for c in report.failing
    )
    assert failing == [
        ((Code.CONTEXT, Code.SCHEMA), False),
        ((Code.STATUS_SUSPENSION,), False),
    ]
    summary = "\n".join(report.summary())
    assert "7 credential(s) signed during the session" in summary
    assert "[status.suspension] /credentialStatus x1" in summary
    assert "not enforced" in summary


async def test_only_files_of_this_session_are_read(tmp_path: Path) -> None:
    key = SigningKey.from_seed(bytes([7]) * 32)
    await CredentialCopies(tmp_path).keep(
        [Copy(await sign(credential(key.controller), key), key, "ob3-v2", False)]
    )
    assert len((await check_copies(tmp_path)).checked) == 1
    later = datetime.now(UTC) + timedelta(minutes=1)
    assert (await check_copies(tmp_path, since=later)).checked == []
    assert (await check_copies(tmp_path / "absent")).checked == []


def test_copies_are_off_by_default_and_skip_status_lists(monkeypatch: Any) -> None:
    monkeypatch.delenv(DIR_VARIABLE, raising=False)
    settings = IssuerSettings(master_key="A" * 43 + "=")  # type: ignore[arg-type]
    assert settings.conformance_dir is None
    assert CredentialCopies.at(None) is None
    assert is_credential({"type": ["VerifiableCredential", "OpenBadgeCredential"]})
    assert not is_credential({"type": ["VerifiableCredential", "BitstringStatusListCredential"]})


async def test_the_signer_copies_derived_credentials_but_not_status_lists(tmp_path: Path) -> None:
    key = SigningKey.from_seed(bytes([7]) * 32)
    signer = Signer(0, CredentialCopies(tmp_path))
    status_list = bitstring_status_list_credential(
        list_url="https://registry.example/v1/status-lists/r",
        issuer=key.controller,
        purpose="revocation",
        bitstring=Bitstring(),
        valid_from=datetime.now(UTC),
    )
    await signer.sign(status_list, key, "ob3-v2")
    await signer.sign(credential(key.controller), key, "ob3-v2")

    [derived] = (await check_copies(tmp_path)).checked
    assert derived.suspension is None
    assert derived.findings == ()


def test_jwt_is_enforced_and_an_eddsa_jwt_costs_only_its_algorithm() -> None:
    """jwt carries the OB 3.0.3 credential (VC-JOSE-COSE): enforced like ob3-v2."""

    def finding(code: Code) -> Finding:
        return Finding(code=code, pointer="", message_fr="fr", message_en="en")

    eddsa = CheckedCopy(Path("a.json"), "jwt", (finding(Code.JWT_ALGORITHM),))
    assert eddsa.violations == ()
    wrong = CheckedCopy(Path("b.json"), "jwt", (finding(Code.CONTEXT),))
    assert [f.code for f in wrong.violations] == [Code.CONTEXT]
    v1 = CheckedCopy(Path("c.json"), "ob3-v1", (finding(Code.CONTEXT),))
    assert v1.violations == ()
    not_for_ld = CheckedCopy(Path("d.json"), "ob3-v2", (finding(Code.JWT_ALGORITHM),))
    assert [f.code for f in not_for_ld.violations] == [Code.JWT_ALGORITHM]
