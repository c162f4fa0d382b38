"""The pyld internals in ``sceau_credentials.compat.pyld`` still behave as the engine needs.

After a pyld upgrade that moves one, these fail naming pyld's version and the module to update
(the W3C vectors in ``test_canonical.py`` then tell whether the canonical bytes changed too).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
from pathlib import Path
from typing import Any

import pytest
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from sceau_credentials.canonical import CanonicalizationError
from sceau_credentials.compat.pyld import (
    BoundedURDNA2015,
    MemoisingProcessor,
    ResolverCache,
    expanded_to_dataset,
    quicken_predicates,
)
from sceau_credentials.document_loader import bundled_contexts
from sceau_dev.testing.compat import library_internals

OB3_EXAMPLE = Path(__file__).parent / "vectors" / "jsonld-js" / "ob3-complete.json"
COMPAT = "sceau_credentials.compat.pyld"


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(OB3_EXAMPLE.read_text(encoding="utf-8"))
    return document


def _options(cache: ResolverCache[str, Any]) -> dict[str, Any]:
    contexts = bundled_contexts()
    return {
        "base": None,
        "documentLoader": contexts,
        "contextResolver": ContextResolver(cache, contexts),
        "processingMode": "json-ld-1.1",
    }


def _never_dropped(_: str | None) -> None:
    raise AssertionError("the example defines every property")


def test_process_context_keeps_the_signature_the_memo_overrides() -> None:
    with library_internals("PyLD", COMPAT):
        parameters = list(inspect.signature(jsonld.JsonLdProcessor._process_context).parameters)
        assert parameters == [
            "self",
            "active_ctx",
            "local_ctx",
            "options",
            "override_protected",
            "propagate",
            "validate_scoped",
            "cycles",
        ]


def test_memo_is_used_and_changes_nothing() -> None:
    with library_internals("PyLD", COMPAT):
        processor = MemoisingProcessor(on_property_dropped=_never_dropped)
        memoised = processor.expand(_document(), _options(ResolverCache(max_entries=64)))
        # pyld marks every processed context with the private "_uuid" the memo keys on; if it
        # stopped, the memo would stay empty and verification would silently slow down.
        assert processor.memo_size > 0
        plain = jsonld.JsonLdProcessor().expand(_document(), _options(ResolverCache(64)))
        assert memoised == plain


def test_expand_iri_keeps_the_signature_the_term_memo_overrides() -> None:
    with library_internals("PyLD", COMPAT):
        parameters = list(inspect.signature(jsonld.JsonLdProcessor._expand_iri).parameters)
        assert parameters == [
            "self",
            "active_ctx",
            "value",
            "base",
            "vocab",
            "local_ctx",
            "defined",
        ]


def test_the_term_memo_is_used_and_changes_nothing() -> None:
    with library_internals("PyLD", COMPAT):
        processor = MemoisingProcessor(on_property_dropped=_never_dropped)
        cache: ResolverCache[str, Any] = ResolverCache(max_entries=64)
        first = processor.expand(_document(), _options(cache))
        remembered = processor.term_memo_size
        assert remembered > 0
        assert processor.expand(_document(), _options(cache)) == first  # answered from the memo
        assert processor.term_memo_size == remembered
        plain = jsonld.JsonLdProcessor().expand(_document(), _options(ResolverCache(64)))
        assert first == plain


def test_the_term_memo_stays_bounded_whatever_the_keys() -> None:
    # A document of made-up keys under @vocab (what a crafted verification request could send):
    # every key is a new term, and the memo is emptied whenever it reaches its bound.
    document = {"@context": {"@vocab": "urn:made-up:"}, **{f"k{n}": n for n in range(40)}}
    with library_internals("PyLD", COMPAT):
        processor = MemoisingProcessor(on_property_dropped=_never_dropped)
        processor.max_terms = 5
        expanded = processor.expand(document, _options(ResolverCache(max_entries=64)))
        assert 0 < processor.term_memo_size <= 5
        plain = jsonld.JsonLdProcessor().expand(document, _options(ResolverCache(64)))
        assert expanded == plain


def test_a_context_list_with_inline_terms_is_memoised_by_its_content() -> None:
    # Every credential Sceau builds carries a new inline term object in its @context list:
    # documents built apart, equal in content, share the memo; another term is another entry.
    def with_inline(term: str) -> dict[str, Any]:
        document = _document()
        document["@context"] = [*document["@context"], {term: {"@id": f"urn:x:{term}"}}]
        return document

    with library_internals("PyLD", COMPAT):
        processor = MemoisingProcessor(on_property_dropped=_never_dropped)
        cache: ResolverCache[str, Any] = ResolverCache(max_entries=64)
        first = processor.expand(with_inline("pacing"), _options(cache))
        size = processor.memo_size
        assert processor.expand(with_inline("pacing"), _options(cache)) == first
        assert processor.memo_size == size
        processor.expand(with_inline("courseMode"), _options(cache))
        assert processor.memo_size > size
        plain = jsonld.JsonLdProcessor().expand(with_inline("pacing"), _options(ResolverCache(64)))
        assert first == plain


def test_static_contexts_are_cached_through_the_resolver_cache() -> None:
    cache: ResolverCache[str, Any] = ResolverCache(max_entries=64)
    with library_internals("PyLD", COMPAT):
        jsonld.JsonLdProcessor().expand(_document(), _options(cache))
        assert len(cache) > 0
        for url in _document()["@context"]:
            tags = cache.get(url)
            assert tags is not None, f"{url} not cached"
            assert "static" in tags


def test_expanded_to_dataset_matches_to_rdf() -> None:
    with library_internals("PyLD", COMPAT):
        processor = MemoisingProcessor(on_property_dropped=_never_dropped)
        options = _options(ResolverCache(max_entries=64))
        expanded = processor.expand(_document(), options)
        ours = expanded_to_dataset(processor, expanded, options)
        theirs = jsonld.to_rdf(_document(), options)
        assert ours == theirs


def _twin_blank_nodes() -> dict[str, list[dict[str, Any]]]:
    # Two blank nodes with identical first-degree hashes: RDFC-1.0 must run Hash N-Degree Quads.
    def quad(subject: str, other: str) -> dict[str, Any]:
        return {
            "subject": {"type": "blank node", "value": subject},
            "predicate": {"type": "IRI", "value": "https://example.org/knows"},
            "object": {"type": "blank node", "value": other},
        }

    return {"@default": [quad("_:a", "_:b"), quad("_:b", "_:a")]}


def test_rdfc_work_bound_counts_hash_n_degree_quads() -> None:
    def exhausted() -> Exception:
        return CanonicalizationError("work limit")

    with library_internals("PyLD", COMPAT):
        nquads = BoundedURDNA2015(budget=100, exhausted=exhausted).canonical_nquads(
            _twin_blank_nodes()
        )
        assert nquads.count("\n") == 2
        assert "_:c14n0" in nquads
        with pytest.raises(CanonicalizationError, match="work limit"):
            BoundedURDNA2015(budget=0, exhausted=exhausted).canonical_nquads(_twin_blank_nodes())


@pytest.fixture(scope="module")
def pristine() -> Any:
    """A fresh copy of pyld's ``jsonld`` module, as pyld ships it (not quickened)."""
    spec = importlib.util.find_spec("pyld.jsonld")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PREDICATE_INPUTS: list[Any] = [
    None,
    1,
    1.5,
    True,
    [],
    {},
    ["@id"],
    "",
    ":",
    ":x",
    "_:",
    "_:b0",
    "@id",
    "@type",
    "@context",
    "@nest",
    "@none",
    "@idx",
    "id",
    "type",
    "https://purl.imsglobal.org/spec/vc/ob/vocab.html#Achievement",
    "urn:uuid:4b5b6a53-1a7e-4f0e-8c5d-6f1a2b3c4d5e",
    "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK",
    "mailto:ada@example.org",
    "a,b:c",
    "a+b-c.d:e",
    "a_b:c",
    "1http:x",
    "http://a b",
    "http://a\tb",
    "http:\u00e9t\u00e9",
    "\u00e9t\u00e9:x",
    "http:",
    "relative/path",
    "#fragment",
]


@pytest.mark.parametrize("value", PREDICATE_INPUTS, ids=repr)
def test_the_quickened_predicates_answer_as_pyld_s_own(value: Any, pristine: Any) -> None:
    quicken_predicates()
    assert bool(jsonld._is_keyword(value)) == bool(pristine._is_keyword(value))
    assert bool(jsonld._is_absolute_iri(value)) == bool(pristine._is_absolute_iri(value))


def test_the_predicates_are_quickened_once(pristine: Any) -> None:
    quicken_predicates()
    replaced = jsonld._is_keyword
    quicken_predicates()
    assert jsonld._is_keyword is replaced  # idempotent: not wrapped twice
    assert jsonld._is_keyword is not pristine._is_keyword
    with library_internals("PyLD", COMPAT):
        assert set(jsonld.KEYWORDS) >= {"@id", "@type", "@context", "@graph", "@value"}
