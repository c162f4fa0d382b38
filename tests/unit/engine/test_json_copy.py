"""The quick copy of JSON values used when signing (sceau_credentials.json_copy)."""

from __future__ import annotations

import copy
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Any

from engine_samples import did_key_signer, ob3_v2_credential

from sceau_credentials.canonical import PyldCanonicalizer
from sceau_credentials.json_copy import CopiedQuickly, json_copy


def _document() -> dict[str, Any]:
    return {
        "@context": ["https://www.w3.org/ns/credentials/v2", {"t": "urn:t"}],
        "type": ["VerifiableCredential"],
        "n": [1, 2.5, True, None, "x", {"deep": [{"deeper": "y"}]}],
    }


def test_a_json_copy_is_equal_and_shares_no_container() -> None:
    original = _document()
    copied = json_copy(original)
    assert copied == original
    copied["n"][5]["deep"][0]["deeper"] = "changed"
    copied["@context"][1]["t"] = "urn:changed"
    copied["type"].append("Other")
    assert original == _document()


def test_what_json_does_not_hold_is_deep_copied_as_before() -> None:
    when = datetime(2026, 12, 8, tzinfo=UTC)
    nested: list[Any] = [1]
    ordered = OrderedDict(a=[1])
    original = {"pair": (nested, "x"), "when": when, "ordered": ordered}
    copied = json_copy(original)
    assert copied == original
    assert copied["pair"][0] is not nested  # inside a tuple: copy.deepcopy's copy
    assert type(copied["ordered"]) is OrderedDict  # a subclass keeps its type
    assert copied["ordered"]["a"] is not ordered["a"]


def test_deepcopy_of_a_copied_quickly_object_is_a_plain_independent_dict() -> None:
    original = _document()
    copied = copy.deepcopy(CopiedQuickly(original))
    assert type(copied) is dict
    assert copied == original
    copied["n"][5]["deep"].clear()
    assert original == _document()


def test_expanding_leaves_the_callers_document_as_it_was() -> None:
    # The canonical bytes themselves are checked against the W3C vectors (test_eddsa_rdfc_2022).
    document = ob3_v2_credential(did_key_signer().controller)
    before = copy.deepcopy(document)
    canonicalizer = PyldCanonicalizer()
    first = canonicalizer.canonicalize(document)
    assert document == before
    assert canonicalizer.canonicalize(document) == first
    assert canonicalizer.expand(document) == canonicalizer.expand(before)
