"""Selective disclosure primitives: JSON pointers, selection, CBOR proof values."""

from __future__ import annotations

import pytest

from sceau_credentials.canonical import CanonicalizationError
from sceau_credentials.cbor import CborError, decode, encode
from sceau_credentials.proofs.sd_primitives import (
    JsonPointerError,
    SdJsonLd,
    parse_pointer,
    pointers_except,
    select_json_ld,
)

DOCUMENT = {
    "@context": ["https://www.w3.org/ns/credentials/v2"],
    "id": "urn:uuid:1",
    "type": ["VerifiableCredential"],
    "issuer": "did:example:issuer",
    "credentialSubject": {
        "id": "_:blank",
        "type": "Person",
        "name": "Ada",
        "grades": [
            {"type": "Grade", "course": "maths", "value": "A"},
            {"type": "Grade", "course": "physics", "value": "B"},
            {"type": "Grade", "course": "art", "value": "C"},
        ],
        "a/b": {"c~d": 1},
    },
}


def test_parse_pointer_unescapes() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/a~1b/c~0d/0") == ["a/b", "c~d", "0"]
    with pytest.raises(JsonPointerError):
        parse_pointer("a/b")
    with pytest.raises(JsonPointerError):
        parse_pointer("/a~2")


def test_selection_keeps_ids_types_and_array_order() -> None:
    selected = select_json_ld(
        DOCUMENT, ["/credentialSubject/grades/2/value", "/credentialSubject/grades/0"]
    )
    assert selected == {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "id": "urn:uuid:1",
        "type": ["VerifiableCredential"],
        "credentialSubject": {
            "type": "Person",  # the blank node id is not copied
            "grades": [
                {"type": "Grade", "course": "maths", "value": "A"},
                {"type": "Grade", "value": "C"},
            ],
        },
    }


def test_selection_of_nothing_and_of_everything() -> None:
    assert select_json_ld(DOCUMENT, []) is None
    assert select_json_ld(DOCUMENT, [""]) == DOCUMENT
    with pytest.raises(JsonPointerError):
        select_json_ld(DOCUMENT, ["/credentialSubject/grades/3"])


def test_whole_array_then_item() -> None:
    selected = select_json_ld(
        DOCUMENT, ["/credentialSubject/grades", "/credentialSubject/grades/1/value"]
    )
    assert selected is not None
    assert selected["credentialSubject"]["grades"] == DOCUMENT["credentialSubject"]["grades"]


def test_pointers_except() -> None:
    pointers = pointers_except(DOCUMENT, ["/credentialSubject/grades/1", "/issuer"])
    assert pointers == [
        "/id",
        "/type",
        "/credentialSubject/id",
        "/credentialSubject/type",
        "/credentialSubject/name",
        "/credentialSubject/grades/0",
        "/credentialSubject/grades/2",
        "/credentialSubject/a~1b",
    ]
    with pytest.raises(JsonPointerError):
        pointers_except(DOCUMENT, ["/nothing"])


def test_cbor_round_trip_and_strictness() -> None:
    value = [b"\x01" * 64, "text", [b"", b"ab"], {0: b"x", 300: b"y"}, [0, 23, 24, 65536]]
    assert decode(encode(value)) == value
    assert encode(24) == b"\x18\x18"
    assert encode({1: b""}) == b"\xa1\x01\x40"
    assert decode(b"\xd8\x40\x42ab") == b"ab"  # tag 64 (Uint8Array) read as bytes
    for bad in (b"\x9f\x01\xff", b"\x20", b"\xf5", b"\x01\x02", b"\x42a", b"\xa1\x61a\x01"):
        with pytest.raises(CborError):
            decode(bad)


def test_label_replacement_canonicalization_is_bounded() -> None:
    """A holder-supplied document cannot make the verifier grind through RDFC-1.0."""
    nodes = [
        {"@id": f"_:n{i}", "https://example.org/p": {"@id": f"_:n{(i + 1) % 12}"}}
        for i in range(12)
    ]
    with pytest.raises(CanonicalizationError, match="work limit"):
        SdJsonLd().canonical_document_with_labels({"@context": {}, "@graph": nodes}, dict)
