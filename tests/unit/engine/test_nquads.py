"""Canonical N-Quads lines: rdf-canonize's escaping, both line orders, and proofs in either order.

The expected escapes are those of rdf-canonize 5 (jsonld.js, the Digital Bazaar stack); the
property-based interop test (tests/interop/test_property_interop.py) checks the same against the
JavaScript stack itself on generated content.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from sceau_credentials.canonical import Canonicalizer, OxigraphCanonicalizer, PyldCanonicalizer
from sceau_credentials.dids import CompositeResolver, DidKeyResolver
from sceau_credentials.jsonld_safety import UnsafeDocumentError
from sceau_credentials.keys import SigningKey
from sceau_credentials.nquads import QuadOrder, escape_iri, escape_literal, order_key
from sceau_credentials.proofs.data_integrity import create_proof, verify_document_proofs
from sceau_credentials.proofs.errors import ProofError
from sceau_credentials.proofs.rdfc import sign_input, signing_input

ENGINES = [PyldCanonicalizer(), OxigraphCanonicalizer()]
ENGINE_IDS = ["pyld", "oxigraph"]
FULLWIDTH_A, EMOJI = "\uff21", "\U0001f600"


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("\x00", "\\u0000"),
        ("\x07", "\\u0007"),
        ("\x08", "\\b"),
        ("\t", "\\t"),
        ("\n", "\\n"),
        ("\x0b", "\\u000B"),
        ("\x0c", "\\f"),
        ("\r", "\\r"),
        ("\x1f", "\\u001F"),
        ("\x7f", "\\u007F"),
        ('"', '\\"'),
        ("\\", "\\\\"),
        ("\u200b\u0301é" + EMOJI, "\u200b\u0301é" + EMOJI),  # format, combining, astral: as is
    ],
)
def test_literals_are_escaped_like_rdf_canonize(raw: str, escaped: str) -> None:
    assert escape_literal(f"a{raw}b") == f"a{escaped}b"


def test_iris_escape_what_n_quads_forbids() -> None:
    assert escape_iri("https://x.example/a b<c>") == "https://x.example/a\\u0020b\\u003Cc\\u003E"
    assert escape_iri("https://x.example/é") == "https://x.example/é"


_NAMED = {"\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}
_NAMED |= {'"': '\\"', "\\": "\\\\"}


def _literal_by_hand(char: str) -> str:
    if char in _NAMED:
        return _NAMED[char]
    return f"\\u{ord(char):04X}" if ord(char) < 0x20 or char == "\x7f" else char


def _iri_by_hand(char: str) -> str:
    return f"\\u{ord(char):04X}" if ord(char) <= 0x20 or char in '<>"{}|^`\\' else char


def test_every_character_is_escaped_alone_or_among_others_as_written_out_by_hand() -> None:
    # The escapers skip values with nothing to escape: each character below U+0800 and a few
    # beyond, alone, between letters, and all at once, against the rules written out again.
    chars = [chr(code) for code in [*range(0x800), 0xFFFD, 0x1F600]]
    for char in chars:
        assert escape_literal(f"a{char}b") == f"a{_literal_by_hand(char)}b"
        assert escape_literal(char) == _literal_by_hand(char)
        assert escape_iri(f"a{char}b") == f"a{_iri_by_hand(char)}b"
    assert escape_literal("".join(chars)) == "".join(map(_literal_by_hand, chars))
    assert escape_iri("".join(chars)) == "".join(map(_iri_by_hand, chars))


def test_the_two_orders_differ_only_across_the_surrogate_range() -> None:
    lines = [FULLWIDTH_A, EMOJI, "a"]
    assert sorted(lines, key=order_key(QuadOrder.CODE_POINTS)) == ["a", FULLWIDTH_A, EMOJI]
    assert sorted(lines, key=order_key(QuadOrder.UTF16_CODE_UNITS)) == ["a", EMOJI, FULLWIDTH_A]


def _document(key: SigningKey, *names: str) -> dict[str, Any]:
    return {
        "@context": [
            "https://www.w3.org/ns/credentials/v2",
            {"nickname": "https://schema.org/alternateName"},
        ],
        "type": ["VerifiableCredential"],
        "issuer": key.controller,
        "validFrom": "2025-03-01T12:00:00Z",
        "credentialSubject": {"id": "did:example:learner", "nickname": list(names)},
    }


@pytest.mark.parametrize("engine", ENGINES, ids=ENGINE_IDS)
def test_an_ambiguous_document_has_two_canonical_forms(engine: Canonicalizer) -> None:
    document = _document(SigningKey.generate(), FULLWIDTH_A, EMOJI)
    utf16 = engine.canonicalize(document, QuadOrder.UTF16_CODE_UNITS)
    code_points = engine.canonicalize(document, QuadOrder.CODE_POINTS)
    assert utf16 != code_points
    assert sorted(utf16.splitlines()) == sorted(code_points.splitlines())
    assert utf16.index(EMOJI) < utf16.index(FULLWIDTH_A)
    # An ordinary document has one form.
    plain = _document(SigningKey.generate(), "Camille", "Zoé")
    assert engine.canonicalize(plain, QuadOrder.UTF16_CODE_UNITS) == engine.canonicalize(
        plain, QuadOrder.CODE_POINTS
    )


@pytest.mark.parametrize("engine", ENGINES, ids=ENGINE_IDS)
def test_control_characters_are_signed_and_verified(engine: Canonicalizer) -> None:
    document = _document(SigningKey.generate(), "bell\x07", "form\x0cfeed", "nul\x00", "del\x7f")
    canonical = engine.canonicalize(document)
    assert '"bell\\u0007"' in canonical
    assert '"form\\ffeed"' in canonical
    assert '"del\\u007F"' in canonical


@pytest.mark.parametrize("engine", ENGINES, ids=ENGINE_IDS)
async def test_a_proof_made_in_either_order_verifies(engine: Canonicalizer) -> None:
    key = SigningKey.generate()
    document = _document(key, FULLWIDTH_A, EMOJI)
    resolver = CompositeResolver({"key": DidKeyResolver()})
    created = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)

    ours, data = create_proof(document, key, engine, created=created)
    assert data.canonical_document == engine.canonicalize(document, QuadOrder.UTF16_CODE_UNITS)
    assert len(await verify_document_proofs({**document, "proof": ours}, resolver, engine)) == 1

    # As an implementation following RDFC-1.0's code point order would sign it.
    options = {name: value for name, value in ours.items() if name != "proofValue"}
    _, value = sign_input(signing_input(document, options, engine, QuadOrder.CODE_POINTS), key)
    theirs = {**options, "proofValue": value}
    assert theirs["proofValue"] != ours["proofValue"]
    assert len(await verify_document_proofs({**document, "proof": theirs}, resolver, engine)) == 1

    changed = {**document, "credentialSubject": {**document["credentialSubject"], "nickname": []}}
    with pytest.raises(ProofError):
        await verify_document_proofs({**changed, "proof": theirs}, resolver, engine)


@pytest.mark.parametrize("engine", ENGINES, ids=ENGINE_IDS)
def test_a_lone_surrogate_is_refused(engine: Canonicalizer) -> None:
    with pytest.raises(UnsafeDocumentError) as refused:
        engine.canonicalize(_document(SigningKey.generate(), "half \ud83d of a face"))
    assert refused.value.code == "invalid string"
