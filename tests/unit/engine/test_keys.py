"""Ed25519 signing keys: encodings, did:key derivation, key files and verification methods."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from sceau_credentials.keys import (
    InvalidKeyError,
    SigningKey,
    did_key_from_public_key,
    did_key_verification_method,
    public_key_bytes,
    public_key_from_did_key,
    public_key_from_method,
    read_key_file,
    write_key_file,
)

# W3C vc-di-eddsa TestVectors/keyPair.json (commit abb673e).
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"
VECTOR_DID = f"did:key:{VECTOR_PUBLIC}"


def test_vector_key_pair_gives_its_did_key() -> None:
    key = SigningKey.from_secret_multibase(VECTOR_SECRET)
    assert key.public_key_multibase == VECTOR_PUBLIC
    assert key.secret_key_multibase == VECTOR_SECRET
    assert key.controller == VECTOR_DID
    assert key.verification_method == f"{VECTOR_DID}#{VECTOR_PUBLIC}"
    assert key.did_key == VECTOR_DID
    assert did_key_verification_method(VECTOR_DID) == key.verification_method
    assert public_key_from_did_key(key.verification_method) == key.public_key_bytes


def test_generate_gives_distinct_did_keys_that_sign() -> None:
    first, second = SigningKey.generate(), SigningKey.generate()
    assert first != second
    assert first.controller.startswith("did:key:z6Mk")
    signature = first.sign(b"payload")
    assert len(signature) == 64
    first.public_key.verify(signature, b"payload")


def test_raw_bytes_and_cryptography_objects_are_equivalent() -> None:
    private = Ed25519PrivateKey.generate()
    did = did_key_from_public_key(private.public_key())
    method = f"{did}#{did.removeprefix('did:key:')}"
    from_object = SigningKey(private, did, method)
    from_bytes = SigningKey(private.private_bytes_raw(), did, method)
    assert from_object == from_bytes
    assert hash(from_object) == hash(from_bytes)
    assert isinstance(from_bytes.private_key, Ed25519PrivateKey)
    assert SigningKey.from_seed(private.private_bytes_raw()) == from_object


def test_repr_never_shows_the_secret() -> None:
    key = SigningKey.generate()
    assert key.secret_key_multibase not in repr(key)
    assert "private_key" not in repr(key)


def test_did_web_controller_and_fragment() -> None:
    key = SigningKey.generate("did:web:badges.example.edu", "key-2025")
    assert key.verification_method == "did:web:badges.example.edu#key-2025"
    default = SigningKey.generate("did:web:badges.example.edu")
    assert (
        default.verification_method == f"did:web:badges.example.edu#{default.public_key_multibase}"
    )


def test_jwk_round_trip_rfc8037_shape() -> None:
    key = SigningKey.from_secret_multibase(VECTOR_SECRET)
    jwk = key.to_jwk(private=True)
    assert set(jwk) == {"kty", "crv", "x", "d"}
    assert jwk["kty"] == "OKP"
    assert jwk["crv"] == "Ed25519"
    assert "=" not in jwk["x"] + jwk["d"]
    assert "d" not in key.to_jwk()
    assert SigningKey.from_jwk(jwk) == key
    with pytest.raises(InvalidKeyError, match="'x' does not match"):
        SigningKey.from_jwk({**jwk, "x": SigningKey.generate().to_jwk()["x"]})
    with pytest.raises(InvalidKeyError, match="kty 'OKP'"):
        SigningKey.from_jwk({**jwk, "crv": "P-256"})
    with pytest.raises(InvalidKeyError, match="no private part"):
        SigningKey.from_jwk(key.to_jwk())


def test_inconsistent_identifiers_are_refused() -> None:
    key = SigningKey.generate()
    other = SigningKey.generate()
    with pytest.raises(InvalidKeyError, match="does not match the private key"):
        SigningKey(key.ed25519, other.controller, other.verification_method)
    with pytest.raises(InvalidKeyError, match="does not belong to controller"):
        SigningKey(key.ed25519, key.controller, other.verification_method)
    with pytest.raises(InvalidKeyError, match="is not a DID"):
        SigningKey(key.ed25519, "https://example.edu", "https://example.edu#k")
    with pytest.raises(InvalidKeyError, match="32 raw bytes"):
        SigningKey(b"\0" * 31, key.controller, key.verification_method)
    with pytest.raises(InvalidKeyError, match="does not match the private key"):
        SigningKey.from_seed(key.seed, other.controller)
    with pytest.raises(InvalidKeyError, match="ed25519-pub, expected ed25519-priv"):
        SigningKey.from_secret_multibase(VECTOR_PUBLIC)


def test_key_file_round_trip_is_private(tmp_path: Path) -> None:
    key = SigningKey.generate("did:web:badges.example.edu", "key-1")
    path = tmp_path / "issuer.key.json"
    write_key_file(key, path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    data = json.loads(path.read_text())
    assert data == {
        "type": "SceauSigningKey",
        "version": 1,
        "controller": "did:web:badges.example.edu",
        "verificationMethod": "did:web:badges.example.edu#key-1",
        "publicKeyMultibase": key.public_key_multibase,
        "secretKeyMultibase": key.secret_key_multibase,
    }
    assert read_key_file(path) == key
    with pytest.raises(FileExistsError):
        write_key_file(key, path)


@pytest.mark.parametrize(
    ("mutation", "message"),
    [
        ({"type": "Other"}, "'type' must be"),
        ({"version": 2}, "unsupported key file version"),
        ({"secretKeyMultibase": None}, "'secretKeyMultibase' is missing"),
        ({"publicKeyMultibase": VECTOR_PUBLIC}, "does not match 'secretKeyMultibase'"),
        ({"verificationMethod": "did:web:elsewhere#k"}, "does not belong"),
    ],
)
def test_bad_key_files_are_refused(
    tmp_path: Path, mutation: dict[str, object], message: str
) -> None:
    key = SigningKey.generate("did:web:badges.example.edu")
    path = tmp_path / "k.json"
    path.write_text(json.dumps({**key.to_key_file(), **mutation}))
    with pytest.raises(InvalidKeyError, match=message):
        read_key_file(path)


def test_unreadable_key_files(tmp_path: Path) -> None:
    with pytest.raises(InvalidKeyError, match="cannot read key file"):
        read_key_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{")
    with pytest.raises(InvalidKeyError, match="is not JSON"):
        read_key_file(tmp_path / "bad.json")
    (tmp_path / "list.json").write_text("[]")
    with pytest.raises(InvalidKeyError, match="must be a JSON object"):
        read_key_file(tmp_path / "list.json")


def test_public_key_from_every_method_representation() -> None:
    key = SigningKey.generate()
    raw = key.public_key_bytes
    from sceau_credentials.multiformats import base58btc_encode

    methods: list[dict[str, Any]] = [
        key.to_multikey(),
        {"id": "#a", "type": "Ed25519VerificationKey2020", "publicKeyMultibase": VECTOR_PUBLIC},
        {"id": "#b", "type": "JsonWebKey2020", "publicKeyJwk": key.to_jwk()},
        {
            "id": "#c",
            "type": "Ed25519VerificationKey2018",
            "publicKeyBase58": base58btc_encode(raw),
        },
    ]
    found = [public_key_bytes(public_key_from_method(m)) for m in methods]
    assert found == [raw, public_key_from_did_key(VECTOR_DID), raw, raw]


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ({"id": "#x", "type": "Multikey"}, "has no publicKeyMultibase"),
        ({"id": "#x", "publicKeyMultibase": "zQ3s"}, "expected ed25519-pub|32 key bytes|varint"),
        ({"id": "#x", "publicKeyJwk": {"kty": "EC", "crv": "P-256", "x": "a"}}, "not an OKP"),
        (
            {"id": "#x", "publicKeyJwk": {"kty": "OKP", "crv": "Ed25519", "x": "AA", "d": "AA"}},
            "private",
        ),
        ({"id": "#x", "publicKeyBase58": "1111"}, "must be 32 bytes"),
    ],
)
def test_unusable_methods_are_refused(method: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidKeyError, match=message):
        public_key_from_method(method)


def test_did_key_parsing_errors() -> None:
    with pytest.raises(InvalidKeyError, match="not a did:key"):
        public_key_from_did_key("did:web:example.com")
    with pytest.raises(InvalidKeyError, match="not an Ed25519 did:key"):
        public_key_from_did_key("did:key:zQ3shokFTS3brHcDQrn82RUDfCZESWL1ZdCEJwekUDPQiYBme")
