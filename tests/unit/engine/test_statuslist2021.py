"""StatusList2021: encoding (GZIP + base64url, no prefix), lenient decoding, list credentials."""

from __future__ import annotations

import base64
import gzip
from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sceau_credentials.results import STATUS_LIST_LENGTH_ERROR
from sceau_credentials.status import (
    MIN_ENTRIES,
    Bitstring,
    StatusListLengthError,
    StatusMalformedError,
    decode_status_list_2021,
    encode_status_list_2021,
    parse_status_entries,
    status_entry,
    status_list_2021_credential,
)

#: encodedList of the StatusList2021Credential example in the CCG specification.
SPEC_EXAMPLE = "H4sIAAAAAAAAA-3BMQEAAADCoPVPbQwfoAAAAAAAAAAAAAAAAAAAAIC3AYbSVKsAQAAA"


def test_spec_example_decodes_to_an_empty_16kb_list() -> None:
    decoded = decode_status_list_2021(SPEC_EXAMPLE)
    assert len(decoded) == MIN_ENTRIES
    assert list(decoded.set_bits()) == []


def test_encoding_is_base64url_without_padding_or_multibase_prefix() -> None:
    bits = Bitstring()
    bits.set(3, True)
    encoded = encode_status_list_2021(bits)
    assert encoded.startswith("H4sI")  # the GZIP magic, base64url-encoded: no "u" prefix
    assert "=" not in encoded
    assert gzip.decompress(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))[0] == 0x10


def test_decoding_accepts_standard_base64_with_padding() -> None:
    bits = Bitstring()
    bits.set(131_000, True)
    standard = base64.b64encode(gzip.compress(bits.to_bytes())).decode()
    assert list(decode_status_list_2021(standard).set_bits()) == [131_000]


@settings(max_examples=60, deadline=None)
@given(st.sets(st.integers(min_value=0, max_value=MIN_ENTRIES - 1), max_size=64))
def test_round_trip(indexes: set[int]) -> None:
    bits = Bitstring()
    for index in indexes:
        bits.set(index, True)
    assert list(decode_status_list_2021(encode_status_list_2021(bits)).set_bits()) == sorted(
        indexes
    )


def test_same_bit_order_as_bitstring_status_list() -> None:
    bits = Bitstring()
    bits.set(0, True)
    assert decode_status_list_2021(encode_status_list_2021(bits)).to_bytes()[0] == 0x80


def test_minimum_length_and_malformed_input() -> None:
    with pytest.raises(StatusListLengthError) as caught:
        decode_status_list_2021(encode_status_list_2021(Bitstring(1024)))
    assert caught.value.problem_type == STATUS_LIST_LENGTH_ERROR
    for bad in ("", "***", base64.b64encode(b"plain").decode()):
        with pytest.raises(StatusMalformedError):
            decode_status_list_2021(bad)


def test_status_list_2021_entry() -> None:
    entry = status_entry("ob3-v1", "revocation", "https://c.example/status/1", 7)
    assert entry["type"] == "StatusList2021Entry"
    assert entry["statusListIndex"] == "7"
    assert entry["id"] == "https://c.example/status/1#7"
    (parsed,) = parse_status_entries(entry)
    assert not parsed.is_bitstring


def test_status_list_2021_credential() -> None:
    bits = Bitstring()
    built = status_list_2021_credential(
        list_url="https://c.example/status/1",
        issuer="did:web:c.example",
        purpose="suspension",
        bitstring=bits,
        issuance_date=datetime(2025, 1, 1, tzinfo=UTC),
        expiration_date=datetime(2026, 1, 1, tzinfo=UTC),
    )
    assert built == {
        "@context": [
            "https://www.w3.org/2018/credentials/v1",
            "https://w3id.org/vc/status-list/2021/v1",
            "https://w3id.org/security/suites/ed25519-2020/v1",
        ],
        "id": "https://c.example/status/1",
        "type": ["VerifiableCredential", "StatusList2021Credential"],
        "issuer": "did:web:c.example",
        "issuanceDate": "2025-01-01T00:00:00Z",
        "expirationDate": "2026-01-01T00:00:00Z",
        "credentialSubject": {
            "id": "https://c.example/status/1#list",
            "type": "StatusList2021",
            "statusPurpose": "suspension",
            "encodedList": encode_status_list_2021(bits),
        },
    }
    jwt_list = status_list_2021_credential(
        list_url="https://c.example/status/1",
        issuer="did:web:c.example",
        purpose="revocation",
        bitstring=bits,
        issuance_date=datetime(2025, 1, 1, tzinfo=UTC),
        ed25519_context=False,
    )
    assert len(jwt_list["@context"]) == 2
    with pytest.raises(ValueError, match="timezone-aware"):
        status_list_2021_credential(
            list_url="https://c.example/s", issuer="did:web:c.example", purpose="revocation",
            bitstring=bits, issuance_date=datetime(2025, 1, 1),
        )  # fmt: skip
