"""Multibase/multicodec encodings against the W3C vc-di-eddsa key pair and round-trip properties."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from sceau_credentials.multiformats import (
    ED25519_PRIV,
    ED25519_PUB,
    MultiformatError,
    base58btc_decode,
    base58btc_encode,
    base64url_nopad_decode,
    base64url_nopad_encode,
    decode_ed25519_public_multikey,
    decode_ed25519_secret_multikey,
    decode_multicodec,
    encode_ed25519_public_multikey,
    encode_ed25519_secret_multikey,
    encode_multicodec,
    encode_varint,
    multibase_decode,
    multibase_encode,
)

# From the W3C vc-di-eddsa test vectors (TestVectors/keyPair.json, commit abb673e).
VECTOR_PUBLIC = "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2"
VECTOR_SECRET = "z3u2en7t5LR2WtQH5PfFqMqwVHBeXouLzo6haApm8XHqvjxq"


def test_multicodec_headers_are_the_published_varints() -> None:
    assert encode_varint(ED25519_PUB) == bytes.fromhex("ed01")
    assert encode_varint(ED25519_PRIV) == bytes.fromhex("8026")
    assert encode_varint(0) == b"\0"
    assert encode_varint(127) == b"\x7f"
    assert encode_varint(128) == b"\x80\x01"


def test_base58btc_known_values() -> None:
    # Test vectors of the multibase draft (test/ in multiformats/multibase).
    assert multibase_encode(b"yes mani !") == "z7paNL19xttacUY"
    assert multibase_encode(b"\0\0yes mani !") == "z117paNL19xttacUY"
    assert multibase_decode("z117paNL19xttacUY") == b"\0\0yes mani !"
    assert multibase_encode(b"Multibase is awesome! \\o/") == "zYAjKoNbau5KiqmHPmSxYCvn66dA1vLmwbt"
    assert multibase_encode(b"yes mani !", "base64url") == "ueWVzIG1hbmkgIQ"
    assert base58btc_encode(b"") == ""
    assert base58btc_decode("") == b""


def test_vector_keys_decode_to_32_bytes_and_reencode() -> None:
    public = decode_ed25519_public_multikey(VECTOR_PUBLIC)
    secret = decode_ed25519_secret_multikey(VECTOR_SECRET)
    assert len(public) == len(secret) == 32
    assert encode_ed25519_public_multikey(public) == VECTOR_PUBLIC
    assert encode_ed25519_secret_multikey(secret) == VECTOR_SECRET
    assert multibase_decode(VECTOR_PUBLIC)[:2] == b"\xed\x01"
    assert multibase_decode(VECTOR_SECRET)[:2] == b"\x80\x26"


@given(st.binary(max_size=200))
def test_base58btc_round_trip(data: bytes) -> None:
    assert base58btc_decode(base58btc_encode(data)) == data
    assert multibase_decode(multibase_encode(data, "base58btc")) == data


@given(st.binary(max_size=500))
def test_base64url_round_trip_without_padding(data: bytes) -> None:
    text = base64url_nopad_encode(data)
    assert "=" not in text
    assert "+" not in text
    assert "/" not in text
    assert base64url_nopad_decode(text) == data
    assert multibase_encode(data, "base64url") == "u" + text
    assert multibase_decode("u" + text) == data


@given(st.integers(min_value=0, max_value=2**63 - 1), st.binary(max_size=40))
def test_multicodec_round_trip(code: int, payload: bytes) -> None:
    assert decode_multicodec(encode_multicodec(code, payload)) == (code, payload)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "non-empty"),
        ("m" + "AAAA", "unsupported multibase prefix 'm'"),
        ("f00ff", "unsupported multibase prefix 'f'"),
        ("z0OIl", "invalid base58btc character '0'"),
        ("uAA==", "padding '=' is not allowed"),
        ("uab+/", "invalid base64url"),
        ("uA", r"4n\+1"),
    ],
)
def test_multibase_decode_errors_are_clear(value: str, message: str) -> None:
    with pytest.raises(MultiformatError, match=message):
        multibase_decode(value)


def test_expected_encoding_is_enforced() -> None:
    with pytest.raises(MultiformatError, match="expected a base58btc multibase value"):
        multibase_decode("uAAAA", expect="base58btc")
    with pytest.raises(MultiformatError, match="expected a base64url"):
        multibase_decode(VECTOR_PUBLIC, expect="base64url")


def test_wrong_codec_and_length_are_refused() -> None:
    with pytest.raises(MultiformatError, match="ed25519-priv, expected ed25519-pub"):
        decode_ed25519_public_multikey(VECTOR_SECRET)
    with pytest.raises(MultiformatError, match="ed25519-pub, expected ed25519-priv"):
        decode_ed25519_secret_multikey(VECTOR_PUBLIC)
    short = multibase_encode(encode_multicodec(ED25519_PUB, b"\1" * 31))
    with pytest.raises(MultiformatError, match="32 key bytes, found 31"):
        decode_ed25519_public_multikey(short)
    with pytest.raises(MultiformatError, match="32 bytes, got 33"):
        encode_ed25519_public_multikey(b"\0" * 33)
    secp = multibase_encode(encode_multicodec(0xE7, b"\2" * 33))
    with pytest.raises(MultiformatError, match="multicodec 0xe7"):
        decode_ed25519_public_multikey(secp)
    with pytest.raises(MultiformatError, match="varint"):
        decode_multicodec(b"\x80\x80")
    with pytest.raises(MultiformatError, match="empty"):
        decode_multicodec(b"")
