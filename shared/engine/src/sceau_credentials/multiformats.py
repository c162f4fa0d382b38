"""Multibase and multicodec: the self-describing encodings of Multikey, did:key and Data Integrity.

Only what the W3C specs we implement need is supported, so that anything else is refused loudly
instead of being half-understood:

* multibase ``z`` (base58btc, Bitcoin alphabet) — Multikey values, did:key identifiers and
  ``proofValue`` of ``eddsa-rdfc-2022`` and ``Ed25519Signature2020``;
* multibase ``u`` (base64url, no padding) — the Bitstring Status List ``encodedList``;
* multicodec ``ed25519-pub`` (code 0xed, varint bytes ``ed 01``) and ``ed25519-priv`` (code 0x1300,
  varint bytes ``80 26``) — the Multikey header of Ed25519 public and secret keys.

References: the Multibase IETF draft (draft-multiformats-multibase), the multicodec table, and the
W3C Controlled Identifiers 1.0 "Multikey" section.
"""

from __future__ import annotations

import base64
import binascii
from typing import Final, Literal

__all__ = [
    "ED25519_PRIV",
    "ED25519_PUB",
    "MultiformatError",
    "base58btc_decode",
    "base58btc_encode",
    "base64url_nopad_decode",
    "base64url_nopad_encode",
    "decode_ed25519_public_multikey",
    "decode_ed25519_secret_multikey",
    "decode_multicodec",
    "encode_ed25519_public_multikey",
    "encode_ed25519_secret_multikey",
    "encode_multicodec",
    "encode_varint",
    "multibase_decode",
    "multibase_encode",
]

ED25519_PUB: Final = 0xED
"""Multicodec code of an Ed25519 public key (varint bytes ``0xed 0x01``)."""
ED25519_PRIV: Final = 0x1300
"""Multicodec code of an Ed25519 private key seed (varint bytes ``0x80 0x26``)."""

_CODEC_NAMES: Final = {ED25519_PUB: "ed25519-pub", ED25519_PRIV: "ed25519-priv"}

_B58_ALPHABET: Final = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"
_B58_INDEX: Final = {char: index for index, char in enumerate(_B58_ALPHABET)}
_B64URL_ALPHABET: Final = frozenset(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

Base = Literal["base58btc", "base64url"]
_PREFIX: Final[dict[str, str]] = {"base58btc": "z", "base64url": "u"}


class MultiformatError(ValueError):
    """A multibase or multicodec value is malformed or uses an encoding we do not accept."""


def base58btc_encode(data: bytes) -> str:
    """Encode bytes in base58btc (Bitcoin alphabet), keeping leading zero bytes as ``1``.

    The big-integer conversion is quadratic in length, which is fine for keys and signatures
    (tens of bytes) — the only things base58btc is used for here.
    """
    zeros = len(data) - len(data.lstrip(b"\0"))
    number = int.from_bytes(data, "big")
    digits: list[str] = []
    while number:
        number, remainder = divmod(number, 58)
        digits.append(_B58_ALPHABET[remainder])
    return "1" * zeros + "".join(reversed(digits))


def base58btc_decode(text: str) -> bytes:
    """Decode base58btc text (no multibase prefix).

    Raises:
        MultiformatError: on a character outside the Bitcoin alphabet (``0``, ``O``, ``I``, ``l``…).
    """
    number = 0
    for position, char in enumerate(text):
        digit = _B58_INDEX.get(char)
        if digit is None:
            raise MultiformatError(f"invalid base58btc character {char!r} at position {position}")
        number = number * 58 + digit
    zeros = len(text) - len(text.lstrip("1"))
    body = number.to_bytes((number.bit_length() + 7) // 8, "big") if number else b""
    return b"\0" * zeros + body


def base64url_nopad_encode(data: bytes) -> str:
    """Encode bytes as base64url without ``=`` padding (RFC 4648 §5)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def base64url_nopad_decode(text: str) -> bytes:
    """Decode base64url text that has no padding, refusing padding and foreign characters.

    Being strict matters: the Bitstring Status List spec says ``encodedList`` is base64url
    *without* padding, and accepting ``+``/``/`` or ``=`` would hide an issuer's encoding bug.

    Raises:
        MultiformatError: on padding, a character outside the alphabet or an impossible length.
    """
    bad = sorted(set(text) - _B64URL_ALPHABET)
    if bad:
        raise MultiformatError(
            f"invalid base64url (no padding) character(s) {''.join(bad)!r}"
            + (" — padding '=' is not allowed" if "=" in bad else "")
        )
    if len(text) % 4 == 1:
        raise MultiformatError(f"invalid base64url length {len(text)} (4n+1 is impossible)")
    try:
        return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError) as exc:  # pragma: no cover - the checks above catch these
        raise MultiformatError(f"invalid base64url: {exc}") from exc


def multibase_encode(data: bytes, base: Base = "base58btc") -> str:
    """Encode bytes as a multibase string: ``z`` + base58btc or ``u`` + base64url (no padding)."""
    if base == "base58btc":
        return "z" + base58btc_encode(data)
    if base == "base64url":
        return "u" + base64url_nopad_encode(data)
    raise MultiformatError(f"unsupported multibase encoding {base!r}")  # pragma: no cover


def multibase_decode(value: str, *, expect: Base | None = None) -> bytes:
    """Decode a multibase string whose prefix is ``z`` (base58btc) or ``u`` (base64url).

    Args:
        value: The multibase text, prefix included.
        expect: When given, the only encoding accepted (e.g. ``"base58btc"`` for a ``proofValue``).

    Raises:
        MultiformatError: on an empty value, an unsupported or unexpected prefix, or bad characters.
    """
    if not isinstance(value, str) or not value:
        raise MultiformatError("multibase value must be a non-empty string")
    prefix, body = value[0], value[1:]
    if expect is not None and prefix != _PREFIX[expect]:
        raise MultiformatError(
            f"expected a {expect} multibase value starting with {_PREFIX[expect]!r}, "
            f"got prefix {prefix!r}"
        )
    if prefix == "z":
        return base58btc_decode(body)
    if prefix == "u":
        return base64url_nopad_decode(body)
    raise MultiformatError(
        f"unsupported multibase prefix {prefix!r} (supported: 'z' base58btc, 'u' base64url)"
    )


def encode_varint(number: int) -> bytes:
    """Encode a non-negative integer as an unsigned LEB128 varint (the multicodec header format)."""
    if number < 0:
        raise MultiformatError("varint must be non-negative")
    out = bytearray()
    while True:
        byte = number & 0x7F
        number >>= 7
        if number:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _decode_varint(data: bytes) -> tuple[int, int]:
    """Return ``(value, bytes consumed)``; multicodec varints are at most 9 bytes."""
    value = 0
    for index, byte in enumerate(data[:9]):
        value |= (byte & 0x7F) << (7 * index)
        if not byte & 0x80:
            if index and byte == 0:
                raise MultiformatError("non-minimal varint in multicodec header")
            return value, index + 1
    raise MultiformatError("truncated or overlong varint in multicodec header")


def encode_multicodec(code: int, payload: bytes) -> bytes:
    """Prefix ``payload`` with the varint multicodec ``code``."""
    return encode_varint(code) + payload


def decode_multicodec(data: bytes) -> tuple[int, bytes]:
    """Split multicodec-prefixed bytes into ``(code, payload)``."""
    if not data:
        raise MultiformatError("empty multicodec value")
    code, used = _decode_varint(data)
    return code, data[used:]


def _codec_name(code: int) -> str:
    return _CODEC_NAMES.get(code, f"0x{code:x}")


def _decode_ed25519(value: str, code: int, what: str) -> bytes:
    raw = multibase_decode(value, expect="base58btc")
    found, key = decode_multicodec(raw)
    if found != code:
        raise MultiformatError(
            f"{what} has multicodec {_codec_name(found)}, expected {_codec_name(code)}"
        )
    if len(key) != 32:
        raise MultiformatError(f"{what} must hold 32 key bytes, found {len(key)}")
    return key


def encode_ed25519_public_multikey(public_key: bytes) -> str:
    """Return the Multikey ``publicKeyMultibase`` (``z6Mk…``) of a raw Ed25519 public key."""
    if len(public_key) != 32:
        raise MultiformatError(f"an Ed25519 public key is 32 bytes, got {len(public_key)}")
    return multibase_encode(encode_multicodec(ED25519_PUB, public_key))


def decode_ed25519_public_multikey(value: str) -> bytes:
    """Return the raw 32-byte Ed25519 public key from a ``publicKeyMultibase`` (``z6Mk…``).

    Raises:
        MultiformatError: if the value is not base58btc, not ed25519-pub, or not 32 bytes.
    """
    return _decode_ed25519(value, ED25519_PUB, "Ed25519 publicKeyMultibase")


def encode_ed25519_secret_multikey(seed: bytes) -> str:
    """Return the Multikey ``secretKeyMultibase`` (``z3u2…``) of a raw 32-byte Ed25519 seed."""
    if len(seed) != 32:
        raise MultiformatError(f"an Ed25519 private key seed is 32 bytes, got {len(seed)}")
    return multibase_encode(encode_multicodec(ED25519_PRIV, seed))


def decode_ed25519_secret_multikey(value: str) -> bytes:
    """Return the raw 32-byte Ed25519 seed from a ``secretKeyMultibase`` (``z3u2…``).

    Raises:
        MultiformatError: if the value is not base58btc, not ed25519-priv, or not 32 bytes.
    """
    return _decode_ed25519(value, ED25519_PRIV, "Ed25519 secretKeyMultibase")
