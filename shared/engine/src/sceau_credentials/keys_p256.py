"""P-256 (secp256r1) signing keys: what ES256 VC-JWTs and ``ecdsa-sd-2023`` proofs are made with.

Ed25519 (:mod:`sceau_credentials.keys`) is what Open Badges 3.0 certification needs; P-256 is what
many wallets and the selective-disclosure cryptosuite ``ecdsa-sd-2023`` use, so the engine can
sign with both. Encodings, as for Ed25519:

* Multikey (W3C Controlled Identifiers 1.0): ``publicKeyMultibase`` ``zDn…`` is base58btc of the
  multicodec ``p256-pub`` header (``0x80 0x24``) and the 33-byte *compressed* point;
  ``secretKeyMultibase`` ``z42t…`` is ``p256-priv`` (``0x86 0x26``) and the 32-byte scalar;
* JWK (RFC 7518 §6.2): ``{"kty": "EC", "crv": "P-256", "x": …, "y": …, "d": …}``;
* did:key: ``did:key:zDn…`` with verification method ``did:key:zDn…#zDn…``.

Signatures are the JOSE/Data Integrity form: the 64-byte concatenation ``r || s`` (RFC 7518 §3.4),
never DER, over SHA-256 of the message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from sceau_credentials.keys import InvalidKeyError
from sceau_credentials.multiformats import (
    MultiformatError,
    base64url_nopad_decode,
    base64url_nopad_encode,
    decode_multicodec,
    encode_multicodec,
    multibase_decode,
    multibase_encode,
)

__all__ = [
    "P256_PRIV",
    "P256_PUB",
    "P256SigningKey",
    "decode_p256_public_multikey",
    "encode_p256_public_multikey",
    "es256_sign",
    "es256_verify",
    "is_p256_did_key",
    "p256_public_key_from_jwk",
    "p256_public_key_from_multikey_bytes",
    "p256_public_multikey_bytes",
]

P256_PUB: Final = 0x1200
"""Multicodec ``p256-pub`` (varint bytes ``0x80 0x24``): a compressed P-256 point follows."""
P256_PRIV: Final = 0x1306
"""Multicodec ``p256-priv`` (varint bytes ``0x86 0x26``): the 32-byte private scalar follows."""
_DID_KEY_PREFIX: Final = "did:key:"
_MULTIKEY_PREFIX: Final = "zDn"
_CURVE_BYTES: Final = 32


def _point(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)


def p256_public_multikey_bytes(public_key: ec.EllipticCurvePublicKey) -> bytes:
    """Return the multicodec bytes (``0x80 0x24`` + compressed point, 35 bytes) of a P-256 key."""
    return encode_multicodec(P256_PUB, _point(public_key))


def encode_p256_public_multikey(public_key: ec.EllipticCurvePublicKey) -> str:
    """Return the Multikey ``publicKeyMultibase`` (``zDn…``) of a P-256 public key."""
    return multibase_encode(p256_public_multikey_bytes(public_key))


def p256_public_key_from_multikey_bytes(data: bytes) -> ec.EllipticCurvePublicKey:
    """Parse ``p256-pub`` multicodec bytes into a public key (the point is validated).

    Raises:
        InvalidKeyError: wrong multicodec, wrong size, or not a point on the curve.
    """
    try:
        code, point = decode_multicodec(data)
    except MultiformatError as exc:
        raise InvalidKeyError(f"P-256 Multikey: {exc}") from exc
    if code != P256_PUB:
        raise InvalidKeyError(f"Multikey has multicodec 0x{code:x}, expected p256-pub (0x1200)")
    if len(point) != _CURVE_BYTES + 1:
        raise InvalidKeyError(f"a compressed P-256 key is 33 bytes, found {len(point)}")
    try:
        return ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), point)
    except ValueError as exc:
        raise InvalidKeyError("the Multikey does not hold a point of P-256") from exc


def decode_p256_public_multikey(value: str) -> ec.EllipticCurvePublicKey:
    """Parse a ``publicKeyMultibase`` ``zDn…`` into a P-256 public key.

    Raises:
        InvalidKeyError: if it is not a base58btc ``p256-pub`` Multikey.
    """
    try:
        raw = multibase_decode(value, expect="base58btc")
    except MultiformatError as exc:
        raise InvalidKeyError(f"P-256 publicKeyMultibase: {exc}") from exc
    return p256_public_key_from_multikey_bytes(raw)


def _coordinate(jwk: Mapping[str, Any], name: str) -> int:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise InvalidKeyError(f"EC JWK has no '{name}'")
    try:
        raw = base64url_nopad_decode(value)
    except MultiformatError as exc:
        raise InvalidKeyError(f"EC JWK '{name}': {exc}") from exc
    if len(raw) != _CURVE_BYTES:
        raise InvalidKeyError(f"EC JWK '{name}' must be 32 bytes for P-256, found {len(raw)}")
    return int.from_bytes(raw, "big")


def p256_public_key_from_jwk(jwk: Mapping[str, Any]) -> ec.EllipticCurvePublicKey:
    """Parse a public EC/P-256 JWK (a private ``d`` is refused: it does not belong in a document).

    Raises:
        InvalidKeyError: not an EC P-256 JWK, or the point is not on the curve.
    """
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise InvalidKeyError("JWK must have kty 'EC' and crv 'P-256'")
    if "d" in jwk:
        raise InvalidKeyError("publicKeyJwk contains a private key ('d'); refusing it")
    numbers = ec.EllipticCurvePublicNumbers(
        _coordinate(jwk, "x"), _coordinate(jwk, "y"), ec.SECP256R1()
    )
    try:
        return numbers.public_key()
    except ValueError as exc:
        raise InvalidKeyError("the JWK does not hold a point of P-256") from exc


def is_p256_did_key(did: str) -> bool:
    """True for a did:key whose identifier is a P-256 Multikey (``did:key:zDn…``)."""
    return did.startswith(_DID_KEY_PREFIX + _MULTIKEY_PREFIX)


def es256_sign(private_key: ec.EllipticCurvePrivateKey, data: bytes) -> bytes:
    """Sign ``data`` with ECDSA P-256/SHA-256 and return the 64-byte ``r || s``."""
    r, s = decode_dss_signature(private_key.sign(data, ec.ECDSA(hashes.SHA256())))
    return r.to_bytes(_CURVE_BYTES, "big") + s.to_bytes(_CURVE_BYTES, "big")


def es256_verify(public_key: ec.EllipticCurvePublicKey, signature: bytes, data: bytes) -> bool:
    """Check a 64-byte ``r || s`` ECDSA P-256/SHA-256 signature (a DER signature is refused)."""
    if len(signature) != 2 * _CURVE_BYTES or not isinstance(public_key.curve, ec.SECP256R1):
        return False
    der = encode_dss_signature(
        int.from_bytes(signature[:_CURVE_BYTES], "big"),
        int.from_bytes(signature[_CURVE_BYTES:], "big"),
    )
    try:
        public_key.verify(der, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def _private_from(value: ec.EllipticCurvePrivateKey | bytes) -> ec.EllipticCurvePrivateKey:
    if isinstance(value, ec.EllipticCurvePrivateKey):
        if not isinstance(value.curve, ec.SECP256R1):
            raise InvalidKeyError(f"expected a P-256 key, got curve {value.curve.name}")
        return value
    if isinstance(value, bytes | bytearray) and len(value) == _CURVE_BYTES:
        scalar = int.from_bytes(bytes(value), "big")
        try:
            return ec.derive_private_key(scalar, ec.SECP256R1())
        except ValueError as exc:
            raise InvalidKeyError("the 32 bytes are not a valid P-256 private scalar") from exc
    raise InvalidKeyError("a P-256 private key is a cryptography EC key or 32 raw scalar bytes")


@dataclass(frozen=True, eq=False)
class P256SigningKey:
    """A P-256 private key and the DID identifiers a proof made with it refers to.

    Mirrors :class:`sceau_credentials.keys.SigningKey` so proof code can take either.

    Attributes:
        private_key: The private key; 32 raw scalar bytes are accepted and converted on creation.
        controller: The DID that controls the key (``did:key:zDn…`` or ``did:web:…``).
        verification_method: The DID URL of the public key (``<controller>#fragment``).
    """

    private_key: ec.EllipticCurvePrivateKey | bytes = field(repr=False)
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
        if self.controller.startswith(_DID_KEY_PREFIX) and self.controller != self.did_key:
            raise InvalidKeyError(f"did:key {self.controller!r} does not match the private key")

    @classmethod
    def generate(cls, controller: str | None = None, fragment: str | None = None) -> P256SigningKey:
        """Create a new random key; ``controller`` defaults to the key's own did:key."""
        return cls.from_private_key(ec.generate_private_key(ec.SECP256R1()), controller, fragment)

    @classmethod
    def from_private_key(
        cls,
        private_key: ec.EllipticCurvePrivateKey | bytes,
        controller: str | None = None,
        fragment: str | None = None,
    ) -> P256SigningKey:
        """Wrap a key; a did:key controller (or none) gets the ``#zDn…`` method id."""
        private = _private_from(private_key)
        multikey = encode_p256_public_multikey(private.public_key())
        if controller is None or controller.startswith(_DID_KEY_PREFIX):
            did = _DID_KEY_PREFIX + multikey
            if controller is not None and controller != did:
                raise InvalidKeyError(f"did:key {controller!r} does not match the private key")
            return cls(private, did, f"{did}#{multikey}")
        return cls(private, controller, f"{controller}#{fragment or multikey}")

    @classmethod
    def from_secret_multibase(
        cls, secret_key_multibase: str, controller: str | None = None, fragment: str | None = None
    ) -> P256SigningKey:
        """Build a key from a Multikey ``secretKeyMultibase`` (``z42t…``)."""
        try:
            code, scalar = decode_multicodec(
                multibase_decode(secret_key_multibase, expect="base58btc")
            )
        except MultiformatError as exc:
            raise InvalidKeyError(f"P-256 secretKeyMultibase: {exc}") from exc
        if code != P256_PRIV or len(scalar) != _CURVE_BYTES:
            raise InvalidKeyError("secretKeyMultibase is not a 32-byte p256-priv Multikey")
        return cls.from_private_key(scalar, controller, fragment)

    @classmethod
    def from_jwk(
        cls, jwk: Mapping[str, Any], controller: str | None = None, fragment: str | None = None
    ) -> P256SigningKey:
        """Build a key from a private EC/P-256 JWK, checking ``x``/``y`` against ``d``."""
        if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
            raise InvalidKeyError("JWK must have kty 'EC' and crv 'P-256'")
        if not isinstance(jwk.get("d"), str):
            raise InvalidKeyError("JWK has no private part 'd'")
        scalar = _coordinate(jwk, "d").to_bytes(_CURVE_BYTES, "big")
        key = cls.from_private_key(scalar, controller, fragment)
        public = key.to_jwk()
        if any(name in jwk and jwk[name] != public[name] for name in ("x", "y")):
            raise InvalidKeyError("JWK public part 'x'/'y' does not match 'd'")
        return key

    @property
    def ec_key(self) -> ec.EllipticCurvePrivateKey:
        """The private key as a cryptography object (always normalized on creation)."""
        assert isinstance(self.private_key, ec.EllipticCurvePrivateKey)  # noqa: S101 - invariant
        return self.private_key

    @property
    def public_key(self) -> ec.EllipticCurvePublicKey:
        """The public key as a cryptography object."""
        return self.ec_key.public_key()

    @property
    def scalar(self) -> bytes:
        """The 32-byte private scalar. Secret."""
        return self.ec_key.private_numbers().private_value.to_bytes(_CURVE_BYTES, "big")

    @property
    def public_key_multibase(self) -> str:
        """The Multikey ``publicKeyMultibase`` (``zDn…``)."""
        return encode_p256_public_multikey(self.public_key)

    @property
    def secret_key_multibase(self) -> str:
        """The Multikey ``secretKeyMultibase`` (``z42t…``). Secret."""
        return multibase_encode(encode_multicodec(P256_PRIV, self.scalar))

    @property
    def did_key(self) -> str:
        """The did:key DID of this key, whatever the controller is."""
        return _DID_KEY_PREFIX + self.public_key_multibase

    def sign(self, data: bytes) -> bytes:
        """Return the 64-byte ``r || s`` ES256 signature of ``data``."""
        return es256_sign(self.ec_key, data)

    def to_jwk(self, *, private: bool = False) -> dict[str, str]:
        """Return the EC/P-256 JWK; ``private=True`` adds the secret ``d``."""
        numbers = self.public_key.public_numbers()
        jwk = {
            "kty": "EC",
            "crv": "P-256",
            "x": base64url_nopad_encode(numbers.x.to_bytes(_CURVE_BYTES, "big")),
            "y": base64url_nopad_encode(numbers.y.to_bytes(_CURVE_BYTES, "big")),
        }
        if private:
            jwk["d"] = base64url_nopad_encode(self.scalar)
        return jwk

    def to_multikey(self) -> dict[str, str]:
        """Return this key's public Multikey verification method object (no ``@context``)."""
        return {
            "id": self.verification_method,
            "type": "Multikey",
            "controller": self.controller,
            "publicKeyMultibase": self.public_key_multibase,
        }

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, P256SigningKey):
            return NotImplemented
        return (self.scalar, self.controller, self.verification_method) == (
            other.scalar,
            other.controller,
            other.verification_method,
        )

    def __hash__(self) -> int:
        return hash((self.public_key_multibase, self.controller, self.verification_method))
