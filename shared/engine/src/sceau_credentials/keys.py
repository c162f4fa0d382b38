"""Ed25519 signing keys: generation, the encodings wallets and DID documents use, and the key file.

A :class:`SigningKey` couples a private key with *who* signs (the ``controller`` DID) and *which*
published public key verifiers must use (the ``verification_method`` DID URL), because a Data
Integrity proof names the verification method, not the key itself.

Encodings supported (all for Ed25519 only — the only algorithm Open Badges 3.0 certification needs):

* raw bytes: 32-byte seed (private) / 32-byte public key;
* Multikey: ``publicKeyMultibase`` ``z6Mk…`` and ``secretKeyMultibase`` ``z3u2…``
  (base58btc + multicodec ``ed25519-pub`` / ``ed25519-priv``), also used by
  Ed25519VerificationKey2020;
* JWK (RFC 8037): ``{"kty": "OKP", "crv": "Ed25519", "x": …, "d": …}`` — what didkit takes;
* did:key: ``did:key:z6Mk…`` with verification method ``did:key:z6Mk…#z6Mk…``.

Key file (``sceau did create --out``, ``sceau credential sign --key``) — a JSON object::

    {
      "type": "SceauSigningKey",
      "version": 1,
      "controller": "did:key:z6Mk…",                     # or did:web:…
      "verificationMethod": "did:key:z6Mk…#z6Mk…",       # DID URL named in proofs
      "publicKeyMultibase": "z6Mk…",                      # redundant; checked on load
      "secretKeyMultibase": "z3u2…"                       # THE SECRET
    }

It holds an unencrypted secret, so it is written with mode 0600 and is meant for offline operator
tooling and tests; services keep their keys encrypted at rest instead.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sceau_credentials.multiformats import (
    MultiformatError,
    base58btc_decode,
    base64url_nopad_decode,
    base64url_nopad_encode,
    decode_ed25519_public_multikey,
    decode_ed25519_secret_multikey,
    encode_ed25519_public_multikey,
    encode_ed25519_secret_multikey,
)

__all__ = [
    "KEY_FILE_TYPE",
    "InvalidKeyError",
    "SigningKey",
    "did_key_from_public_key",
    "did_key_verification_method",
    "public_key_bytes",
    "public_key_from_did_key",
    "public_key_from_method",
    "read_key_file",
    "write_key_file",
]

KEY_FILE_TYPE: Final = "SceauSigningKey"
KEY_FILE_VERSION: Final = 1
_DID_KEY_PREFIX: Final = "did:key:"


class InvalidKeyError(ValueError):
    """A key, key encoding, key file or verification method is unusable (message says why)."""


def public_key_bytes(public_key: Ed25519PublicKey) -> bytes:
    """Return the raw 32-byte encoding of an Ed25519 public key."""
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def did_key_from_public_key(public_key: bytes | Ed25519PublicKey) -> str:
    """Return the did:key DID (``did:key:z6Mk…``) of an Ed25519 public key."""
    raw = public_key if isinstance(public_key, bytes) else public_key_bytes(public_key)
    return _DID_KEY_PREFIX + encode_ed25519_public_multikey(raw)


def did_key_verification_method(did: str) -> str:
    """Return the verification method id of an Ed25519 did:key: ``did:key:z6Mk…#z6Mk…``."""
    public_key_from_did_key(did)  # validates
    return f"{did}#{did[len(_DID_KEY_PREFIX) :]}"


def public_key_from_did_key(did: str) -> bytes:
    """Return the raw Ed25519 public key encoded in a did:key DID (a fragment is ignored).

    Raises:
        InvalidKeyError: if ``did`` is not a did:key or does not encode an Ed25519 public key.
    """
    if not did.startswith(_DID_KEY_PREFIX):
        raise InvalidKeyError(f"{did!r} is not a did:key DID")
    identifier = did[len(_DID_KEY_PREFIX) :].split("#", 1)[0]
    try:
        return decode_ed25519_public_multikey(identifier)
    except MultiformatError as exc:
        raise InvalidKeyError(f"{did!r} is not an Ed25519 did:key: {exc}") from exc


def _private_from(value: Ed25519PrivateKey | bytes) -> Ed25519PrivateKey:
    if isinstance(value, Ed25519PrivateKey):
        return value
    if isinstance(value, bytes | bytearray) and len(value) == 32:
        return Ed25519PrivateKey.from_private_bytes(bytes(value))
    raise InvalidKeyError(
        "an Ed25519 private key is a cryptography Ed25519PrivateKey or 32 raw bytes"
    )


@dataclass(frozen=True, eq=False)
class SigningKey:
    """An Ed25519 private key and the DID identifiers a proof made with it refers to.

    Attributes:
        private_key: The private key; 32 raw seed bytes are accepted and converted on creation.
        controller: The DID that controls the key and issues credentials
            (``did:key:…`` or ``did:web:…``).
        verification_method: The DID URL of the public key in the controller's DID document; it must
            belong to ``controller`` (``<controller>#fragment``).
    """

    private_key: Ed25519PrivateKey | bytes = field(repr=False)
    controller: str
    verification_method: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "private_key", _private_from(self.private_key))
        if not self.controller.startswith("did:"):
            raise InvalidKeyError(f"controller {self.controller!r} is not a DID")
        if not self.verification_method.startswith(self.controller + "#"):
            raise InvalidKeyError(
                f"verification method {self.verification_method!r} does not belong to "
                f"controller {self.controller!r} (expected '{self.controller}#…')"
            )
        own_did = did_key_from_public_key(self.public_key_bytes)
        if self.controller.startswith(_DID_KEY_PREFIX) and self.controller != own_did:
            raise InvalidKeyError(f"did:key {self.controller!r} does not match the private key")

    # --- construction -------------------------------------------------------------------------

    @classmethod
    def generate(cls, controller: str | None = None, fragment: str | None = None) -> SigningKey:
        """Create a new random key.

        Args:
            controller: The controlling DID; when omitted the key's own did:key is used.
            fragment: The verification method fragment for a non-did:key controller; defaults to
                the ``publicKeyMultibase``, which is unique and stable across key rotations.
        """
        return cls.from_seed(secrets.token_bytes(32), controller, fragment)

    @classmethod
    def from_seed(
        cls, seed: bytes, controller: str | None = None, fragment: str | None = None
    ) -> SigningKey:
        """Build a key from a 32-byte seed; ``controller`` defaults to the key's did:key."""
        private = _private_from(seed)
        multikey = encode_ed25519_public_multikey(public_key_bytes(private.public_key()))
        if controller is None or controller.startswith(_DID_KEY_PREFIX):
            did = _DID_KEY_PREFIX + multikey
            if controller is not None and controller != did:
                raise InvalidKeyError(f"did:key {controller!r} does not match the private key")
            return cls(private, did, f"{did}#{multikey}")
        return cls(private, controller, f"{controller}#{fragment or multikey}")

    @classmethod
    def from_secret_multibase(
        cls, secret_key_multibase: str, controller: str | None = None, fragment: str | None = None
    ) -> SigningKey:
        """Build a key from a Multikey ``secretKeyMultibase`` (``z3u2…``)."""
        try:
            seed = decode_ed25519_secret_multikey(secret_key_multibase)
        except MultiformatError as exc:
            raise InvalidKeyError(str(exc)) from exc
        return cls.from_seed(seed, controller, fragment)

    @classmethod
    def from_jwk(
        cls, jwk: Mapping[str, Any], controller: str | None = None, fragment: str | None = None
    ) -> SigningKey:
        """Build a key from a private OKP/Ed25519 JWK (RFC 8037), checking ``x`` against ``d``."""
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
            raise InvalidKeyError("JWK must have kty 'OKP' and crv 'Ed25519'")
        if not isinstance(jwk.get("d"), str):
            raise InvalidKeyError("JWK has no private part 'd'")
        try:
            seed = base64url_nopad_decode(jwk["d"])
        except MultiformatError as exc:
            raise InvalidKeyError(f"JWK 'd': {exc}") from exc
        key = cls.from_seed(seed, controller, fragment)
        if "x" in jwk and jwk["x"] != key.to_jwk()["x"]:
            raise InvalidKeyError("JWK public part 'x' does not match 'd'")
        return key

    # --- views ----------------------------------------------------------------------------------

    @property
    def ed25519(self) -> Ed25519PrivateKey:
        """The private key as a cryptography object (always normalized on creation)."""
        assert isinstance(self.private_key, Ed25519PrivateKey)  # noqa: S101 - __post_init__ invariant
        return self.private_key

    @property
    def seed(self) -> bytes:
        """The raw 32-byte private key seed. Secret."""
        return self.ed25519.private_bytes_raw()

    @property
    def public_key(self) -> Ed25519PublicKey:
        """The public key as a cryptography object."""
        return self.ed25519.public_key()

    @property
    def public_key_bytes(self) -> bytes:
        """The raw 32-byte public key."""
        return public_key_bytes(self.public_key)

    @property
    def public_key_multibase(self) -> str:
        """The Multikey / Ed25519VerificationKey2020 ``publicKeyMultibase`` (``z6Mk…``)."""
        return encode_ed25519_public_multikey(self.public_key_bytes)

    @property
    def secret_key_multibase(self) -> str:
        """The Multikey ``secretKeyMultibase`` (``z3u2…``). Secret."""
        return encode_ed25519_secret_multikey(self.seed)

    @property
    def did_key(self) -> str:
        """The did:key DID of this key, whatever the controller is."""
        return did_key_from_public_key(self.public_key_bytes)

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte Ed25519 signature of ``data``."""
        return self.ed25519.sign(data)

    def to_jwk(self, *, private: bool = False) -> dict[str, str]:
        """Return the OKP/Ed25519 JWK; ``private=True`` adds the secret ``d`` (e.g. for didkit)."""
        jwk = {"kty": "OKP", "crv": "Ed25519", "x": base64url_nopad_encode(self.public_key_bytes)}
        if private:
            jwk["d"] = base64url_nopad_encode(self.seed)
        return jwk

    def to_multikey(self) -> dict[str, str]:
        """Return this key's public Multikey verification method object (no ``@context``)."""
        return {
            "id": self.verification_method,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public_key_multibase,
        }

    def to_key_file(self) -> dict[str, Any]:
        """Return the key file JSON object documented in this module. Contains the secret."""
        return {
            "type": KEY_FILE_TYPE,
            "version": KEY_FILE_VERSION,
            "controller": self.controller,
            "verificationMethod": self.verification_method,
            "publicKeyMultibase": self.public_key_multibase,
            "secretKeyMultibase": self.secret_key_multibase,
        }

    @classmethod
    def from_key_file(cls, data: Mapping[str, Any]) -> SigningKey:
        """Parse the key file JSON object, checking that every part agrees with the secret."""
        if not isinstance(data, Mapping):
            raise InvalidKeyError("key file must be a JSON object")
        if data.get("type") != KEY_FILE_TYPE:
            raise InvalidKeyError(f"key file 'type' must be {KEY_FILE_TYPE!r}")
        if data.get("version") != KEY_FILE_VERSION:
            raise InvalidKeyError(f"unsupported key file version {data.get('version')!r}")
        for name in ("controller", "verificationMethod", "secretKeyMultibase"):
            if not isinstance(data.get(name), str):
                raise InvalidKeyError(f"key file field {name!r} is missing or not a string")
        controller: str = data["controller"]
        method: str = data["verificationMethod"]
        key = cls.from_secret_multibase(data["secretKeyMultibase"], controller)
        key = cls(key.ed25519, controller, method)
        if data.get("publicKeyMultibase", key.public_key_multibase) != key.public_key_multibase:
            raise InvalidKeyError(
                "key file 'publicKeyMultibase' does not match 'secretKeyMultibase'"
            )
        return key

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, SigningKey):
            return NotImplemented
        return (self.seed, self.controller, self.verification_method) == (
            other.seed,
            other.controller,
            other.verification_method,
        )

    def __hash__(self) -> int:
        return hash((self.public_key_bytes, self.controller, self.verification_method))


def write_key_file(key: SigningKey, path: Path) -> None:
    """Write ``key`` as a key file readable only by its owner (mode 0600); refuses to overwrite."""
    payload = json.dumps(key.to_key_file(), indent=2) + "\n"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(payload)


def read_key_file(path: Path) -> SigningKey:
    """Read a key file written by :func:`write_key_file` (or by hand in the same format).

    Raises:
        InvalidKeyError: if the file is unreadable, not JSON, or inconsistent.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InvalidKeyError(f"cannot read key file {str(path)!r}: {exc.strerror or exc}") from exc
    except json.JSONDecodeError as exc:
        raise InvalidKeyError(f"key file {str(path)!r} is not JSON: {exc}") from exc
    return SigningKey.from_key_file(data)


def public_key_from_method(method: Mapping[str, Any]) -> Ed25519PublicKey:
    """Return the Ed25519 public key a DID document verification method publishes.

    Accepts the representations verifiers meet in practice: ``Multikey`` and
    ``Ed25519VerificationKey2020`` (``publicKeyMultibase``), ``JsonWebKey2020``/``JsonWebKey``
    (``publicKeyJwk`` OKP/Ed25519) and the older ``Ed25519VerificationKey2018``
    (``publicKeyBase58``).

    Raises:
        InvalidKeyError: if the method has none of these or the key material is not Ed25519.
    """
    method_type = method.get("type")
    raw: bytes
    try:
        if isinstance(method.get("publicKeyMultibase"), str):
            raw = decode_ed25519_public_multikey(method["publicKeyMultibase"])
        elif isinstance(method.get("publicKeyJwk"), Mapping):
            jwk = method["publicKeyJwk"]
            if (
                jwk.get("kty") != "OKP"
                or jwk.get("crv") != "Ed25519"
                or not isinstance(jwk.get("x"), str)
            ):
                raise InvalidKeyError("publicKeyJwk is not an OKP/Ed25519 key")
            if "d" in jwk:
                raise InvalidKeyError("publicKeyJwk contains a private key ('d'); refusing it")
            raw = base64url_nopad_decode(jwk["x"])
        elif isinstance(method.get("publicKeyBase58"), str):
            raw = base58btc_decode(method["publicKeyBase58"])
        else:
            raise InvalidKeyError(
                f"verification method {method.get('id')!r} (type {method_type!r}) has no "
                "publicKeyMultibase, publicKeyJwk or publicKeyBase58"
            )
    except MultiformatError as exc:
        raise InvalidKeyError(f"verification method {method.get('id')!r}: {exc}") from exc
    if len(raw) != 32:
        raise InvalidKeyError(
            f"verification method {method.get('id')!r}: an Ed25519 key must be 32 bytes"
        )
    return Ed25519PublicKey.from_public_bytes(raw)
