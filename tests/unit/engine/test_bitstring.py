"""Bitstring Status List v1.0: bit order, encoding, the spec's errors, list credentials."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sceau_credentials.results import (
    MALFORMED_VALUE_ERROR,
    RANGE_ERROR,
    STATUS_LIST_LENGTH_ERROR,
    STATUS_RETRIEVAL_ERROR,
    STATUS_VERIFICATION_ERROR,
)
from sceau_credentials.status import (
    MIN_ENTRIES,
    Bitstring,
    StatusListLengthError,
    StatusMalformedError,
    StatusRangeError,
    StatusRetrievalError,
    StatusVerificationError,
    bitstring_status_list_credential,
    decode_bitstring_status_list,
    encode_bitstring_status_list,
    parse_status_entries,
    status_entry,
)
from sceau_credentials.status.bitstring import MAX_DECODED_BYTES

#: The encodedList of the example BitstringStatusListCredential in the specification (§2.2).
SPEC_EXAMPLE = "uH4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


# --- bit order ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("index", "byte", "value"),
    [(0, 0, 0x80), (1, 0, 0x40), (7, 0, 0x01), (8, 1, 0x80), (13, 1, 0x04)],
)
def test_index_j_is_bit_j_most_significant_bit_first(index: int, byte: int, value: int) -> None:
    bits = Bitstring()
    bits.set(index, True)
    raw = bits.to_bytes()
    assert raw[byte] == value
    assert sum(raw) == value  # nothing else set


def test_not_one_byte_per_entry() -> None:
    """One deployed implementation wrote a byte per entry: revoking j showed 8j+7 revoked."""
    bits = Bitstring()
    for j in (1, 2, 3, 100):
        bits.set(j, True)
    decoded = decode_bitstring_status_list(encode_bitstring_status_list(bits))
    assert list(decoded.set_bits()) == [1, 2, 3, 100]
    for j in (1, 2, 3, 100):
        assert decoded.get(8 * j + 7) == 0
    assert decoded.to_bytes()[:2] == bytes([0b01110000, 0])  # bits 1-3 of byte 0


def test_a_list_written_byte_per_entry_reads_as_8j_plus_7() -> None:
    """Decode what the byte-per-entry implementation publishes: we read it as the spec says."""
    raw = bytearray(MIN_ENTRIES // 8)
    raw[5] = 1  # that implementation's "revoke index 5"
    decoded = decode_bitstring_status_list("u" + _b64url(gzip.compress(bytes(raw))))
    assert list(decoded.set_bits()) == [8 * 5 + 7]


def test_spec_example_decodes_to_an_empty_16kb_list() -> None:
    decoded = decode_bitstring_status_list(SPEC_EXAMPLE)
    assert len(decoded) == MIN_ENTRIES
    assert list(decoded.set_bits()) == []


# --- encoding -------------------------------------------------------------------------------------


def test_encoding_is_multibase_base64url_without_padding_over_gzip() -> None:
    bits = Bitstring()
    bits.set(42, True)
    encoded = encode_bitstring_status_list(bits)
    assert encoded.startswith("u")
    assert not {"=", "+", "/"} & set(encoded)
    body = encoded[1:]
    raw = gzip.decompress(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    assert raw == bits.to_bytes()


def test_encoding_is_deterministic() -> None:
    first, second = Bitstring(), Bitstring()
    first.set(9, True)
    second.set(9, True)
    assert encode_bitstring_status_list(first) == encode_bitstring_status_list(second)


@settings(max_examples=60, deadline=None)
@given(
    indexes=st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES * 2 - 1), max_size=64),
    extra_bytes=st.integers(min_value=0, max_value=MIN_ENTRIES // 8),
)
def test_round_trip_preserves_exactly_the_set_bits(indexes: set[int], extra_bytes: int) -> None:
    bits = Bitstring(MIN_ENTRIES + extra_bytes * 8)
    kept = sorted(i for i in indexes if i < len(bits))
    for index in kept:
        bits.set(index, True)
    decoded = decode_bitstring_status_list(encode_bitstring_status_list(bits))
    assert decoded == bits
    assert list(decoded.set_bits()) == kept


@settings(max_examples=40, deadline=None)
@given(
    size=st.integers(min_value=1, max_value=8),
    values=st.dictionaries(
        st.integers(min_value=0, max_value=MIN_ENTRIES - 1),
        st.integers(min_value=0, max_value=255),
        max_size=32,
    ),
)  # fmt: skip
def test_multi_bit_entries_round_trip(size: int, values: dict[int, int]) -> None:
    bits = Bitstring(MIN_ENTRIES * size)
    expected = {index: value % (1 << size) for index, value in values.items()}
    for index, value in expected.items():
        bits.set(index, value, size)
    decoded = decode_bitstring_status_list(encode_bitstring_status_list(bits), status_size=size)
    for index, value in expected.items():
        assert decoded.get(index, size) == value


def test_clearing_a_bit_lifts_a_suspension() -> None:
    bits = Bitstring()
    bits.set(7, True)
    bits.set(7, False)
    assert list(bits.set_bits()) == []


# --- the specification's errors -------------------------------------------------------------------


def test_lists_shorter_than_131072_entries_raise_status_list_length_error() -> None:
    short = encode_bitstring_status_list(Bitstring(MIN_ENTRIES - 8))
    with pytest.raises(StatusListLengthError) as caught:
        decode_bitstring_status_list(short)
    assert caught.value.problem_type == STATUS_LIST_LENGTH_ERROR
    # an ecosystem may set a lower bound, and statusSize divides the entries
    assert len(decode_bitstring_status_list(short, minimum_entries=1024)) == MIN_ENTRIES - 8
    with pytest.raises(StatusListLengthError):
        decode_bitstring_status_list(encode_bitstring_status_list(Bitstring()), status_size=2)


def test_index_outside_the_list_raises_range_error() -> None:
    bits = Bitstring()
    with pytest.raises(StatusRangeError) as caught:
        bits.get(MIN_ENTRIES)
    assert caught.value.problem_type == RANGE_ERROR
    with pytest.raises(StatusRangeError):
        bits.get(MIN_ENTRIES // 2, status_size=2)
    with pytest.raises(StatusRangeError):
        bits.set(-1, True)


@pytest.mark.parametrize(
    "encoded",
    [
        "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA",  # no "u"
        "zH4sIAAAAAAAAA",  # another multibase
        "u",
        "u!!!",
        "u" + _b64url(b"not gzip at all"),
        "u" + _b64url(gzip.compress(bytes(MIN_ENTRIES // 8))[:-9]),  # truncated
        "u" + _b64url(gzip.compress(b"")),
    ],
)
def test_malformed_encodings_raise_malformed_value_error(encoded: str) -> None:
    with pytest.raises(StatusMalformedError) as caught:
        decode_bitstring_status_list(encoded)
    assert caught.value.problem_type == MALFORMED_VALUE_ERROR


def test_decompression_bombs_are_refused() -> None:
    bomb = "u" + _b64url(gzip.compress(bytes(MAX_DECODED_BYTES + 1)))
    assert len(bomb) < 40_000
    with pytest.raises(StatusMalformedError, match="inflates to more than"):
        decode_bitstring_status_list(bomb)


def test_error_classes_carry_their_problem_types() -> None:
    assert StatusRetrievalError("x").problem_type == STATUS_RETRIEVAL_ERROR
    assert StatusVerificationError("x").problem_type == STATUS_VERIFICATION_ERROR


# --- entries and list credentials -----------------------------------------------------------------


def test_bitstring_status_list_entry() -> None:
    entry = status_entry("ob3-v2", "suspension", "https://c.example/status/3", 94567)
    assert entry == {
        "id": "https://c.example/status/3#94567",
        "type": "BitstringStatusListEntry",
        "statusPurpose": "suspension",
        "statusListIndex": "94567",
        "statusListCredential": "https://c.example/status/3",
    }
    (parsed,) = parse_status_entries(entry)
    assert (parsed.index, parsed.purpose, parsed.size, parsed.is_bitstring) == (
        94567,
        "suspension",
        1,
        True,
    )


def test_entry_parsing_accepts_arrays_and_reports_malformed_entries() -> None:
    good = status_entry("ob3-v2", "revocation", "https://c.example/s", 1)
    assert len(parse_status_entries([good, {**good, "statusPurpose": "suspension"}])) == 2
    assert parse_status_entries(None) == []
    for bad in (3, {"statusListIndex": "1"}, {**good, "statusListIndex": "0x10"},
                {**good, "statusListIndex": True}, {**good, "statusSize": 9}):  # fmt: skip
        with pytest.raises(StatusMalformedError):
            parse_status_entries(bad)


def test_entry_builder_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="negative"):
        status_entry("ob3-v2", "revocation", "https://c.example/s", -1)
    with pytest.raises(ValueError, match="profile"):
        status_entry("ob3", "revocation", "https://c.example/s", 1)
    with pytest.raises(ValueError, match="refresh"):
        status_entry("ob3-v2", "refresh", "https://c.example/s", 1)


def test_bitstring_status_list_credential() -> None:
    bits = Bitstring()
    bits.set(94567, True)
    built = bitstring_status_list_credential(
        list_url="https://c.example/status/3",
        issuer="did:web:c.example",
        purpose="revocation",
        bitstring=bits,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
        valid_until=datetime(2025, 2, 1, tzinfo=UTC),
        ttl_ms=300_000,
    )
    assert built == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "https://c.example/status/3",
        "type": ["VerifiableCredential", "BitstringStatusListCredential"],
        "issuer": "did:web:c.example",
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2025-02-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://c.example/status/3#list",
            "type": "BitstringStatusList",
            "statusPurpose": "revocation",
            "encodedList": encode_bitstring_status_list(bits),
            "ttl": 300_000,
        },
    }
    both = bitstring_status_list_credential(
        list_url="https://c.example/status/3",
        issuer={"id": "did:web:c.example", "type": ["Profile"]},
        purpose=["revocation", "suspension"],
        bitstring=bits,
        valid_from=datetime(2025, 1, 1, tzinfo=UTC),
    )
    assert both["credentialSubject"]["statusPurpose"] == ["revocation", "suspension"]
    assert "ttl" not in both["credentialSubject"]
    assert "validUntil" not in both
    with pytest.raises(ValueError, match="ttl"):
        bitstring_status_list_credential(
            list_url="https://c.example/s", issuer="did:web:c.example", purpose="revocation",
            bitstring=bits, valid_from=datetime(2025, 1, 1, tzinfo=UTC), ttl_ms=0,
        )  # fmt: skip
