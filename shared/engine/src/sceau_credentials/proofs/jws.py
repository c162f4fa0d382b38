"""JWS signature algorithms for VC-JWT: EdDSA and ES256 (sign and verify), RS256 (verify only).

Which key a verification method holds decides what it can check, so a JWT header's ``alg`` is
matched against the key, never trusted on its own (RFC 8725 §3.1: no algorithm confusion, and
``none`` is never accepted):

* ``EdDSA`` (RFC 8037): Ed25519 keys (``z6Mk…`` Multikey, OKP JWK, base58 2018 keys);
* ``ES256`` (RFC 7518 §3.4): P-256 keys (``zDn…`` Multikey or EC JWK); signature ``r || s``;
* ``RS256`` (RFC 7518 §3.3): RSA keys of at least 2048 bits, from an RSA JWK. Verified so
  credentials from older issuers can be checked; Sceau never signs with RSA.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePublicKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from sceau_credentials.keys import InvalidKeyError, SigningKey, public_key_from_method
from sceau_credentials.keys_p256 import (
    P256SigningKey,
    decode_p256_public_multikey,
    es256_verify,
    p256_public_key_from_jwk,
)
from sceau_credentials.multiformats import MultiformatError, base64url_nopad_decode

__all__ = [
    "SUPPORTED_ALGORITHMS",
    "JwsPublicKey",
    "jws_algorithm",
    "public_key_for_algorithm",
    "verify_jws",
]

SUPPORTED_ALGORITHMS: Final = ("EdDSA", "ES256", "RS256")
MIN_RSA_BITS: Final = 2048

JwsPublicKey = Ed25519PublicKey | EllipticCurvePublicKey | rsa.RSAPublicKey


def jws_algorithm(key: SigningKey | P256SigningKey) -> str:
    """The ``alg`` a key signs with (``EdDSA`` for Ed25519, ``ES256`` for P-256)."""
    return "ES256" if isinstance(key, P256SigningKey) else "EdDSA"


def _rsa_from_jwk(jwk: Mapping[str, Any]) -> rsa.RSAPublicKey:
    if (
        jwk.get("kty") != "RSA"
        or not isinstance(jwk.get("n"), str)
        or not isinstance(jwk.get("e"), str)
    ):
        raise InvalidKeyError("publicKeyJwk is not an RSA key with 'n' and 'e'")
    if "d" in jwk:
        raise InvalidKeyError("publicKeyJwk contains a private key ('d'); refusing it")
    try:
        modulus = int.from_bytes(base64url_nopad_decode(jwk["n"]), "big")
        exponent = int.from_bytes(base64url_nopad_decode(jwk["e"]), "big")
        key = rsa.RSAPublicNumbers(exponent, modulus).public_key()
    except (MultiformatError, ValueError) as exc:
        raise InvalidKeyError(f"RSA publicKeyJwk is malformed: {exc}") from exc
    if key.key_size < MIN_RSA_BITS:
        raise InvalidKeyError(f"RSA key of {key.key_size} bits is too small (minimum 2048)")
    return key


def public_key_for_algorithm(method: Mapping[str, Any], algorithm: object) -> JwsPublicKey:
    """Return the key ``method`` publishes, provided it is the kind ``algorithm`` uses.

    Raises:
        InvalidKeyError: unsupported algorithm, or a key of another kind (message says which).
    """
    if algorithm == "EdDSA":
        return public_key_from_method(method)
    jwk = method.get("publicKeyJwk")
    if algorithm == "ES256":
        multibase = method.get("publicKeyMultibase")
        try:
            if isinstance(multibase, str):
                return decode_p256_public_multikey(multibase)
            if isinstance(jwk, Mapping):
                return p256_public_key_from_jwk(jwk)
        except InvalidKeyError as exc:
            raise InvalidKeyError(
                f"ES256 needs a P-256 key; verification method {method.get('id')!r}: {exc}"
            ) from exc
        raise InvalidKeyError(
            f"verification method {method.get('id')!r} has no P-256 publicKeyMultibase or "
            "publicKeyJwk"
        )
    if algorithm == "RS256":
        if isinstance(jwk, Mapping):
            return _rsa_from_jwk(jwk)
        raise InvalidKeyError(f"verification method {method.get('id')!r} has no RSA publicKeyJwk")
    raise InvalidKeyError(
        f"JWT alg {algorithm!r} is not supported (supported: {', '.join(SUPPORTED_ALGORITHMS)})"
    )


def verify_jws(algorithm: str, key: JwsPublicKey, signature: bytes, signing_input: bytes) -> bool:
    """Check a JWS signature made with ``algorithm`` by ``key``; False when it does not match."""
    if algorithm == "EdDSA" and isinstance(key, Ed25519PublicKey):
        try:
            key.verify(signature, signing_input)
        except InvalidSignature:
            return False
        return True
    if algorithm == "ES256" and isinstance(key, EllipticCurvePublicKey):
        return es256_verify(key, signature, signing_input)
    if algorithm == "RS256" and isinstance(key, rsa.RSAPublicKey):
        try:
            key.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        except InvalidSignature:
            return False
        return True
    return False
