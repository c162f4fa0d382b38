"""``sceau credential verify|sign`` and ``sceau did create`` run as real subprocesses.

Exit codes are the contract: 0 verified/done, 1 not verified, 2 unusable input.
"""

from __future__ import annotations

import io
import json
import stat
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from local_http import LocalServer, json_route, serve

from sceau_credentials.cli import UnusableInputError, load_document
from sceau_credentials.engine import Profile, sign_credential
from sceau_credentials.keys import SigningKey
from sceau_credentials.ob3.authoring import AchievementVersion, IssuerProfile, Recipient
from sceau_credentials.ob3.builder import build_credential
from sceau_credentials.status import (
    Bitstring,
    bitstring_status_list_credential,
    status_entry,
)

SCEAU = str(Path(sys.executable).with_name("sceau"))
VECTORS = Path(__file__).parent / "vectors" / "w3c-vc-di-eddsa"
W3C_SIGNED = [
    VECTORS / "eddsa-rdfc-2022" / "signedDataInt.json",
    VECTORS / "eddsa-rdfc-2022" / "employ" / "signedDataInt.json",
    VECTORS / "Ed25519Signature2020" / "signedEdSig.json",
]
PROFILES = ["ob3-v2", "ob3-v1", "jwt"]


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


def sceau(*args: str | Path, stdin: str | None = None) -> Run:
    completed = subprocess.run(
        [SCEAU, *map(str, args)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(completed.returncode, completed.stdout, completed.stderr)


def unsigned(issuer: str, profile: str, **options: Any) -> dict[str, Any]:
    achievement = AchievementVersion(
        id="https://badges.example.edu/achievements/python-101",
        version="1",
        default_language="fr",
        name={"fr": "Initiation à Python", "en": "Introduction to Python"},
        description={"fr": "Les bases du langage.", "en": "The basics of the language."},
        criteria={"fr": "Réussir l'examen final.", "en": "Pass the final exam."},
    )
    return build_credential(
        achievement,
        Recipient(email="learner@example.edu"),
        IssuerProfile(id=issuer, name={"fr": "Collège Exemple", "en": "Example College"}),
        profile,
        credential_id="urn:uuid:9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d",
        issued_at=datetime(2025, 1, 6, tzinfo=UTC),
        **options,
    )


@dataclass(frozen=True)
class Issued:
    key_file: Path
    did: str
    unsigned: dict[str, Path]
    signed: dict[str, Path]


@pytest.fixture(scope="module")
def issued(tmp_path_factory: pytest.TempPathFactory) -> Issued:
    """One did:key and a credential signed in every profile, all through the CLI."""
    folder = tmp_path_factory.mktemp("cli")
    key_file = folder / "issuer.key.json"
    created = sceau("did", "create", "--out", key_file)
    assert created.code == 0, created.err
    did = created.json()["did"]
    unsigned_files, signed_files = {}, {}
    for profile in PROFILES:
        source = folder / f"unsigned-{profile}.json"
        source.write_text(json.dumps(unsigned(did, profile)))
        run = sceau("credential", "sign", "--key", key_file, "--profile", profile, source)
        assert run.code == 0, run.err
        target = folder / f"signed-{profile}.{'jwt' if profile == 'jwt' else 'json'}"
        target.write_text(run.out)
        unsigned_files[profile], signed_files[profile] = source, target
    return Issued(key_file, did, unsigned_files, signed_files)


def test_did_create_writes_a_private_key_file(issued: Issued) -> None:
    assert stat.S_IMODE(issued.key_file.stat().st_mode) == 0o600
    data = json.loads(issued.key_file.read_text())
    assert data["type"] == "SceauSigningKey"
    assert data["controller"] == issued.did
    assert issued.did.startswith("did:key:z6Mk")
    assert data["verificationMethod"] == f"{issued.did}#{issued.did.removeprefix('did:key:')}"
    assert data["secretKeyMultibase"].startswith("z3u2")
    again = sceau("did", "create", "--out", issued.key_file)
    assert again.code == 2
    assert "refusing to overwrite" in again.err


def test_did_create_web_prints_the_document_to_publish(tmp_path: Path) -> None:
    run = sceau(
        "did", "create", "--web", "badges.example.edu:8443/issuers/a", "--out", tmp_path / "k"
    )
    assert run.code == 0, run.err
    summary = run.json()
    did = "did:web:badges.example.edu%3A8443:issuers:a"
    assert summary["did"] == did
    assert summary["verificationMethod"] == f"{did}#key-1"
    assert summary["didDocumentUrl"] == "https://badges.example.edu:8443/issuers/a/did.json"
    assert summary["didDocument"]["assertionMethod"] == [f"{did}#key-1", f"{did}#key-1-2020"]
    bad = sceau("did", "create", "--web", "not a domain")
    assert bad.code == 2
    assert "invalid --web" in bad.err


def test_did_create_without_out_prints_the_key_file() -> None:
    run = sceau("did", "create")
    assert run.code == 0
    assert run.json()["secretKeyMultibase"].startswith("z3u2")


@pytest.mark.parametrize("profile", PROFILES)
def test_signed_in_every_profile_verifies(issued: Issued, profile: str) -> None:
    run = sceau("credential", "verify", "--json", issued.signed[profile])
    assert run.code == 0, run.out + run.err
    result = run.json()
    assert result["verified"] is True
    assert result["outcome"] == "verified"
    assert {c["name"]: c["status"] for c in result["checks"]}["proof"] == "passed"


def test_signed_output_has_the_profile_proof(issued: Issued) -> None:
    v2 = json.loads(issued.signed["ob3-v2"].read_text())
    assert v2["proof"][0]["cryptosuite"] == "eddsa-rdfc-2022"
    v1 = json.loads(issued.signed["ob3-v1"].read_text())
    assert v1["proof"]["type"] == "Ed25519Signature2020"
    assert issued.signed["jwt"].read_text().count(".") == 2


@pytest.mark.parametrize("profile", ["ob3-v2", "ob3-v1"])
def test_tampered_credential_is_not_verified(issued: Issued, profile: str, tmp_path: Path) -> None:
    document = json.loads(issued.signed[profile].read_text())
    document["credentialSubject"]["achievement"]["name"] = "Advanced Python"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    run = sceau("credential", "verify", "--lang", "fr", tampered)
    assert run.code == 1
    assert run.out.startswith("NOT-VERIFIED")
    assert "preuve n'est pas valide" in run.out


def test_verify_reads_stdin(issued: Issued) -> None:
    run = sceau("credential", "verify", "-", stdin=issued.signed["jwt"].read_text())
    assert run.code == 0, run.out + run.err
    assert run.out.startswith("VERIFIED")


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "cannot read"), ("{not json", "neither JSON nor a compact JWT")],
)
def test_unusable_input_exits_2(tmp_path: Path, content: str | None, message: str) -> None:
    path = tmp_path / "input.json"
    if content is not None:
        path.write_text(content)
    run = sceau("credential", "verify", "--json", path)
    assert run.code == 2
    assert message in run.err
    assert run.json()["outcome"] == "unusable-input"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("", "is empty"),
        ("   \n", "is empty"),
        ("{not json", "neither JSON nor a compact JWT"),
        ("[1, 2]", "must hold a JSON object, not list"),
        ('"just a string"', "must hold a JSON object, not str"),
    ],
)
def test_load_document_refusals(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "input"
    path.write_text(content)
    with pytest.raises(UnusableInputError, match=message):
        load_document(str(path))


def test_load_document_accepts_json_and_jwts(tmp_path: Path) -> None:
    token = "eyJhbGciOiJFZERTQSJ9.eyJpc3MiOiJ4In0.c2ln"
    for content, expected in [
        ('{"a": 1}', {"a": 1}),
        (token + "\n", token),
        (json.dumps(token), token),
    ]:
        path = tmp_path / "input"
        path.write_text(content)
        assert load_document(str(path)) == expected
    assert load_document("-", io.StringIO('{"b": 2}')) == {"b": 2}


def test_sign_refuses_what_must_not_be_signed(issued: Issued, tmp_path: Path) -> None:
    broken = json.loads(issued.unsigned["ob3-v2"].read_text())
    del broken["credentialSubject"]["achievement"]["criteria"]
    del broken["name"]
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(broken))
    run = sceau("credential", "sign", "--key", issued.key_file, path)
    assert run.code == 2
    assert "credentialSubject.achievement.criteria" in run.err
    assert run.out == ""

    other = tmp_path / "other-issuer.json"
    other.write_text(json.dumps(unsigned("did:web:elsewhere.example", "ob3-v2")))
    run = sceau("credential", "sign", "--key", issued.key_file, other)
    assert run.code == 2
    assert "not the signing key's controller" in run.err

    run = sceau("credential", "sign", "--key", issued.key_file, issued.signed["ob3-v2"])
    assert run.code == 2
    assert "already has a proof" in run.err

    run = sceau("credential", "sign", "--key", tmp_path / "missing", issued.unsigned["ob3-v2"])
    assert run.code == 2
    assert "cannot read key file" in run.err


def test_sign_lifts_the_single_status_entry_rule_only_when_asked(
    issued: Issued, tmp_path: Path
) -> None:
    entries = [
        status_entry("ob3-v2", "revocation", "https://badges.example.edu/status/1", 5),
        status_entry("ob3-v2", "suspension", "https://badges.example.edu/status/1", 5),
    ]
    path = tmp_path / "two-entries.json"
    path.write_text(json.dumps(unsigned(issued.did, "ob3-v2", status=entries)))
    run = sceau("credential", "sign", "--key", issued.key_file, path)
    assert run.code == 2
    assert "single status entry" in run.err
    assert run.out == ""
    run = sceau("credential", "sign", "--key", issued.key_file, "--allow-status-array", path)
    assert run.code == 0, run.err
    assert len(run.json()["credentialStatus"]) == 2


@pytest.fixture
def web_issuer(tmp_path: Path) -> Iterator[tuple[LocalServer, Path, Path]]:
    """A did:web issuer served by a real local HTTP server, and a credential it signed."""
    routes: dict[str, Any] = {}
    with serve(routes) as server:
        key_file = tmp_path / "web.key.json"
        run = sceau("did", "create", "--web", f"127.0.0.1:{server.port}", "--out", key_file)
        assert run.code == 0, run.err
        summary = run.json()
        document_file = tmp_path / "did.json"
        document_file.write_text(json.dumps(summary["didDocument"]))
        routes["/.well-known/did.json"] = json_route(json.dumps(summary["didDocument"]))
        source = tmp_path / "unsigned.json"
        source.write_text(json.dumps(unsigned(summary["did"], "ob3-v2")))
        signed = sceau("credential", "sign", "--key", key_file, source)
        assert signed.code == 0, signed.err
        credential = tmp_path / "signed.json"
        credential.write_text(signed.out)
        yield server, document_file, credential


def test_did_web_issuer_offline_and_online(web_issuer: tuple[LocalServer, Path, Path]) -> None:
    server, document_file, credential = web_issuer
    offline = sceau("credential", "verify", credential)
    assert offline.code == 1
    assert "no DID document was provided" in offline.out
    with_document = sceau("credential", "verify", "--did-document", document_file, credential)
    assert with_document.code == 0, with_document.out
    assert server.hits == {}
    refused = sceau("credential", "verify", "--online", credential)
    assert refused.code == 1
    assert "must be a domain name" in refused.out
    online = sceau("credential", "verify", "--online", "--allow-private-hosts", credential)
    assert online.code == 0, online.out + online.err
    assert server.hits == {"/.well-known/did.json": 1}


@pytest.mark.parametrize("vector", W3C_SIGNED, ids=lambda p: p.parent.name + "/" + p.name)
def test_w3c_signed_vectors_verify_as_published(vector: Path) -> None:
    # Generic VCs (not Open Badges) whose signer is not their issuer verify as published; the
    # mismatch is shown as a warning. Open Badges must be signed by their issuer (test_tamper).
    run = sceau("credential", "verify", vector)
    assert run.code == 0, run.out + run.err


def test_tampered_w3c_vector_is_not_verified(tmp_path: Path) -> None:
    document = json.loads(W3C_SIGNED[0].read_text())
    document["validFrom"] = "2023-01-02T00:00:00Z"
    tampered = tmp_path / "tampered.json"
    tampered.write_text(json.dumps(document))
    run = sceau("credential", "verify", "--json", tampered)
    assert run.code == 1
    checks = {c["name"]: c for c in run.json()["checks"]}
    assert checks["structure"]["status"] == "passed"
    assert checks["proof"]["status"] == "failed"


async def test_status_checked_offline_from_a_saved_list(tmp_path: Path) -> None:
    key = SigningKey.generate()
    list_url = "https://badges.example.edu/status/1"
    entry = status_entry("ob3-v2", "revocation", list_url, 42)
    credential = unsigned(key.controller, "ob3-v2", status=[entry])
    signed = await sign_credential(credential, key, Profile.OB3_V2)
    credential_file = tmp_path / "credential.json"
    credential_file.write_text(json.dumps(signed))

    async def list_file(revoked: bool) -> Path:
        bits = Bitstring()
        bits.set(42, revoked)
        status_list = bitstring_status_list_credential(
            list_url=list_url,
            issuer=key.controller,
            purpose="revocation",
            bitstring=bits,
            valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        )
        path = tmp_path / f"list-{revoked}.json"
        path.write_text(json.dumps(await sign_credential(status_list, key, Profile.OB3_V2)))
        return path

    unknown = sceau("credential", "verify", "--json", credential_file)
    assert unknown.code == 1
    assert unknown.json()["outcome"] == "inconclusive"
    good = sceau("credential", "verify", "--status-list", await list_file(False), credential_file)
    assert good.code == 0, good.out
    revoked = sceau("credential", "verify", "--status-list", await list_file(True), credential_file)
    assert revoked.code == 1
    assert "has been revoked" in revoked.out


HAND_WRITTEN_V1 = {
    "@context": [
        "https://www.w3.org/2018/credentials/v1",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ],
    "id": "urn:uuid:4b5b6a53-1a7e-4f0e-8c5d-6f1a2b3c4d5e",
    "type": ["VerifiableCredential", "OpenBadgeCredential"],
    "issuer": {"type": ["Profile"], "name": "Collège Exemple"},
    "issuanceDate": "2025-03-01T00:00:00Z",
    "name": "Introduction to Python",
    "credentialSubject": {
        "id": "did:example:learner",
        "type": ["AchievementSubject"],
        "achievement": {
            "id": "https://college.example/achievements/python-101",
            "type": ["Achievement"],
            "name": "Introduction to Python",
            "description": "The basics.",
            "criteria": {"narrative": "Passed the final project."},
        },
    },
}


def test_a_hand_written_ob3_v1_credential_signs_as_is(issued: Issued, tmp_path: Path) -> None:
    # No issuer id, no Ed25519Signature2020 context: the CLI fills in both (it used to refuse).
    source = tmp_path / "v1.json"
    source.write_text(json.dumps(HAND_WRITTEN_V1))
    run = sceau("credential", "sign", "--key", issued.key_file, "--profile", "ob3-v1", source)
    assert run.code == 0, run.err
    signed = run.json()
    assert signed["issuer"]["id"] == issued.did
    assert "https://w3id.org/security/suites/ed25519-2020/v1" in signed["@context"]
    target = tmp_path / "signed.json"
    target.write_text(run.out)
    assert sceau("credential", "verify", target).code == 0


def test_ob3_v1_refuses_a_vcdm_2_document_clearly(issued: Issued) -> None:
    run = sceau(
        "credential",
        "sign",
        "--key",
        issued.key_file,
        "--profile",
        "ob3-v1",
        issued.unsigned["ob3-v2"],
    )
    assert run.code == 2
    assert "VC Data Model 1.1" in run.err
