"""The pyld internals in ``sceau_credentials.compat.pyld`` still behave as the engine needs.

After a pyld upgrade that moves one, these fail naming pyld's version and the module to update
(the W3C vectors in ``test_canonical.py`` then tell whether the canonical bytes changed too).
"""

from __future__ import annotations

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
