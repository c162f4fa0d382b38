"""pyld internals the canonicalizer relies on: context memoisation, RDF conversion, RDFC-1.0 bound.

:class:`sceau_credentials.canonical.PyldCanonicalizer` needs three things pyld does not offer
publicly:

* **context memoisation** — pyld applies a type-scoped context to a fresh clone of the active
  context every time a typed node is met, so its own cache never hits and the Open Badges
  contexts are re-processed for every typed node (2.5x slower). :class:`MemoisingProcessor`
  overrides the private ``JsonLdProcessor._process_context(active_ctx, local_ctx, options,
  override_protected, propagate, validate_scoped, cycles)`` and keys the memo on the active
  context's private ``_uuid`` entry (set by pyld on every processed context, which it returns as
  an immutable ``frozendict``) and on the local context: URLs by value, a list holding inline
  term definitions (a document's own context) by its JSON text, any other object by identity.
  It also overrides the private ``JsonLdProcessor._expand_iri(active_ctx, value, base, vocab,
  local_ctx, defined)`` to remember, per processed context, what each term expands to;
* **RDF conversion of an already expanded document** — ``jsonld.to_rdf`` would expand again what
  the canonicalizer has expanded and safety-checked; :func:`expanded_to_dataset` takes the same
  steps ``to_rdf`` takes, with the private ``JsonLdProcessor._create_node_map``,
  ``JsonLdProcessor._graph_to_rdf`` and ``jsonld._is_absolute_iri``;
* **a work bound on RDFC-1.0** — :class:`BoundedURDNA2015` subclasses ``pyld.canon.URDNA2015``
  (undocumented) and counts its ``hash_n_degree_quads`` calls, like rdf-canonize's
  ``maxWorkFactor``, calling ``main(dataset, options)`` to run.

* **two predicates made cheap** — pyld's module functions ``jsonld._is_keyword`` (a scan of the
  ``KEYWORDS`` list) and ``jsonld._is_absolute_iri`` (``re.match`` with a pattern string, so a
  regex cache look-up per call) run for nearly every key and value expanded; together they were
  ~12 % of a signature. :func:`quicken_predicates` replaces them in pyld's module, once, with
  equivalents (a frozen set, a compiled pattern) that answer the same for every input.

It also relies on ``pyld.context_resolver.ContextResolver`` reading its shared cache only with
``get(key)`` and ``cache[key] = value`` (:class:`ResolverCache`), and on a document loader result
tagged ``"static"`` being cached there.

Checked against pyld 3.3.x (3.3.0 installed; ``pyld>=3.3,<4`` in ``shared/engine/pyproject.toml``).
What breaks if they move: a renamed ``_process_context`` silently disables the memo (canonical
output unchanged, verification 2.5x slower); the others raise
:class:`~sceau_shared.compat.UnsupportedLibraryError` naming pyld's version, so every proof check
fails loudly rather than signing or verifying different bytes. The W3C vector tests
(``tests/unit/engine/test_canonical.py``) pin the output; ``tests/unit/engine/test_pyld_compat.py``
pins each internal.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from typing import Any, TypeVar

from frozendict import frozendict
from pyld import jsonld
from pyld.canon import URDNA2015
from pyld.identifier_issuer import IdentifierIssuer

from sceau_credentials.nquads import QuadOrder, order_key, serialize_quad
from sceau_shared.cache import TtlCache
from sceau_shared.compat import reaching_into

__all__ = [
    "BoundedURDNA2015",
    "MemoisingProcessor",
    "ResolverCache",
    "expanded_to_dataset",
    "quicken_predicates",
]

_MODULE = "sceau_credentials.compat.pyld"
_K = TypeVar("_K")
_V = TypeVar("_V")


# The scheme grammar pyld matches (RFC 3986's ``ALPHA *( ALPHA / DIGIT / "+" / "-" / "." )``,
# where pyld's ``+-.`` is a range that also admits ","), or "_" for a blank node, then ":" and no
# white space.
_ABSOLUTE_IRI = re.compile(r"^([A-Za-z][A-Za-z0-9+,\-.]*|_):[^\s]*$")


def _is_absolute_iri(value: Any) -> re.Match[str] | bool | None:
    # pyld's callers test the truth of what it returns: False, None or the match, as pyld's.
    return isinstance(value, str) and _ABSOLUTE_IRI.match(value)


def quicken_predicates() -> None:
    """Give pyld's module a set-based ``_is_keyword`` and a precompiled ``_is_absolute_iri``.

    Same answers for every input (``tests/unit/engine/test_pyld_compat.py`` compares them with
    pyld's own); about 12 % less CPU per signature or verification. Idempotent: applied once per
    process (pyld's module already holding our ``_is_absolute_iri`` says it was).
    """
    with reaching_into("PyLD", "jsonld.KEYWORDS/_is_keyword/_is_absolute_iri", _MODULE):
        if jsonld._is_absolute_iri is _is_absolute_iri:
            return
        keywords = frozenset(jsonld.KEYWORDS)

        def is_keyword(value: Any) -> bool:
            return isinstance(value, str) and value in keywords

        jsonld._is_keyword = is_keyword
        jsonld._is_absolute_iri = _is_absolute_iri


class ResolverCache(TtlCache[_K, _V]):
    """A bounded LRU (never expiring) with the mapping calls pyld's ``ContextResolver`` makes."""

    def __init__(self, max_entries: int) -> None:
        super().__init__(ttl_s=math.inf, max_entries=max_entries)

    def __setitem__(self, key: _K, value: _V) -> None:
        self.put(key, value)


class MemoisingProcessor(jsonld.JsonLdProcessor):  # type: ignore[misc]
    """A pyld processor that memoises context processing (see the module docstring).

    The result of processing depends only on the (immutable, uniquely identified) active context,
    the local context and the flags, so the memo is keyed on exactly those.

    Args:
        on_property_dropped: pyld's hook for a property no context defines (safe mode raises).
        max_entries: Bound on the memo.
    """

    def __init__(self, on_property_dropped: Callable[[str | None], None], max_entries: int = 2048):
        super().__init__(on_property_dropped=on_property_dropped)
        self._memo: ResolverCache[tuple[Any, ...], tuple[Any, Any]] = ResolverCache(max_entries)
        self._terms: dict[tuple[str, str, Any], Any] = {}

    def _expand_iri(
        self,
        active_ctx: Any,
        value: Any,
        base: Any = None,
        vocab: bool = False,
        local_ctx: Any = None,
        defined: Any = None,
    ) -> Any:
        """Expand as pyld does, remembering what each term expands to in a processed context.

        Expanding a document asks for each of its keys and types (``vocab``) in the active
        context: some 280 times per Open Badges credential, nearly all the same few dozen terms,
        and each answer is a walk through pyld's rules (raw signing about 7 % faster remembered,
        docs/benchmarks.md). Outside context processing (no ``local_ctx``) in a processed,
        immutable context (a ``frozendict`` with its ``_uuid``), the answer depends only on the
        context, the term and ``base``: remembered under those, in a map emptied when it reaches
        ``max_terms`` (a crafted document's made-up keys cannot make it grow without bound).
        Identifiers (``@id`` values, expanded against the base and seldom repeated) are not
        remembered.
        """
        if vocab and local_ctx is None and isinstance(value, str):
            identity = active_ctx.get("_uuid") if isinstance(active_ctx, frozendict) else None
            if isinstance(identity, str):
                key = (identity, value, base)
                terms = self._terms
                if key in terms:
                    return terms[key]
                expanded = super()._expand_iri(active_ctx, value, base, vocab)
                if len(terms) >= self.max_terms:
                    terms.clear()
                terms[key] = expanded
                return expanded
        return super()._expand_iri(active_ctx, value, base, vocab, local_ctx, defined)

    max_terms = 8192
    """How many term expansions are remembered at most (then forgotten all at once)."""

    def _process_context(
        self,
        active_ctx: Any,
        local_ctx: Any,
        options: Any,
        override_protected: bool = False,
        propagate: bool = True,
        validate_scoped: bool = True,
        cycles: Any = None,
    ) -> Any:
        identity = active_ctx.get("_uuid") if isinstance(active_ctx, frozendict) else None
        if cycles or identity is None:
            return super()._process_context(
                active_ctx, local_ctx, options, override_protected, propagate, validate_scoped,
                cycles,
            )  # fmt: skip
        if isinstance(local_ctx, str):
            context_key: tuple[Any, ...] = ("url", local_ctx)
        elif isinstance(local_ctx, list) and all(isinstance(item, str) for item in local_ctx):
            context_key = ("url", *local_ctx)
        elif isinstance(local_ctx, list):
            # A document's own context list with inline term definitions (Sceau's credentials
            # carry one): a new object in every document, so identified by its JSON text, in
            # its own key order; by identity, every credential missed the memo and so did each
            # type-scoped context processed under the new active context (~40 % of a signature).
            context_key = ("json", json.dumps(local_ctx, ensure_ascii=False))
        else:
            # An object context: identify it by identity; the memo keeps a reference to it so the
            # id cannot be reused while the entry lives, and we check identity on a hit.
            context_key = ("object", id(local_ctx))
        key = (identity, context_key, override_protected, propagate, validate_scoped)
        hit = self._memo.get(key)
        if hit is not None and (context_key[0] != "object" or hit[0] is local_ctx):
            return hit[1]
        result = super()._process_context(
            active_ctx, local_ctx, options, override_protected, propagate, validate_scoped, cycles
        )
        if isinstance(result, frozendict):
            self._memo[key] = (local_ctx, result)
        return result

    @property
    def term_memo_size(self) -> int:
        """How many term expansions are remembered (tests check that memo is really used)."""
        return len(self._terms)

    @property
    def memo_size(self) -> int:
        """How many processed contexts are memoised (tests check the memo is really used)."""
        return len(self._memo)


def expanded_to_dataset(
    processor: jsonld.JsonLdProcessor, expanded: list[Any], options: dict[str, Any]
) -> dict[str, list[dict[str, Any]]]:
    """Return the RDF dataset of an expanded document in pyld's shape (graph name → triples).

    The same steps as ``jsonld.to_rdf`` after its expansion. Raises pyld's ``JsonLdError`` for
    invalid input, like ``to_rdf``.
    """
    issuer = IdentifierIssuer("_:b")
    node_map: dict[str, Any] = {"@default": {}}
    with reaching_into("PyLD", "JsonLdProcessor._create_node_map/_graph_to_rdf", _MODULE):
        create_node_map = processor._create_node_map
        graph_to_rdf = processor._graph_to_rdf
        is_absolute_iri = jsonld._is_absolute_iri
    create_node_map(expanded, node_map, "@default", issuer)
    return {
        name: graph_to_rdf(graph, issuer, options)
        for name, graph in sorted(node_map.items())
        if name == "@default" or is_absolute_iri(name)
    }


class BoundedURDNA2015(URDNA2015):  # type: ignore[misc]
    """pyld's RDFC-1.0 allowed ``budget`` "Hash N-Degree Quads" runs, then ``exhausted()`` raises.

    Crafted blank-node structures make RDFC-1.0 exponential; like jsonld.js (rdf-canonize's
    default ``maxWorkFactor`` 1) the caller allows as many runs as there are blank nodes.

    Every N-Quads line it hashes or returns is written and sorted by :mod:`sceau_credentials.nquads`
    (pyld leaves most control characters unescaped and can only sort in code point order): the
    first-degree hashes and the final document both, so blank node labels agree too.
    """

    def __init__(
        self,
        budget: int,
        exhausted: Callable[[], Exception],
        order: QuadOrder = QuadOrder.UTF16_CODE_UNITS,
    ) -> None:
        super().__init__()
        self._remaining = budget
        self._exhausted = exhausted
        self._line_key = order_key(order)

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        if self._remaining <= 0:
            raise self._exhausted()
        self._remaining -= 1
        return super().hash_n_degree_quads(id_, issuer)

    def modify_first_degree_component(
        self, id_: str, component: dict[str, Any], key: str
    ) -> dict[str, Any]:
        """The step's relabelling (``_:a`` for the node hashed, ``_:z`` for others) as a new term.

        pyld deep-copies the term first; a blank node term is only its type and label, so a new
        one is built instead (the copies were ~2 % of a signing process's samples).
        """
        if component["type"] != "blank node":
            return component
        return {"type": "blank node", "value": "_:a" if component["value"] == id_ else "_:z"}

    def hash_first_degree_quads(self, id_: str) -> str:
        """RDFC-1.0 "Hash First Degree Quads" with our own line writer and order."""
        info = self.blank_node_info[id_]
        cached = info.get("hash")
        if cached is not None:
            return str(cached)
        lines = [
            serialize_quad(
                {
                    position: term
                    if position == "predicate"
                    else self.modify_first_degree_component(id_, term, position)
                    for position, term in quad.items()
                }
            )
            for quad in info["quads"]
        ]
        digest = str(self.hash_nquads(sorted(lines, key=self._line_key)))
        info["hash"] = digest
        return digest

    def canonical_nquads(self, dataset: dict[str, list[dict[str, Any]]]) -> str:
        """Run RDFC-1.0 on a pyld-shaped dataset; return the canonical N-Quads.

        pyld's ``main`` labels the blank nodes (relabelling its quads in place); the lines are
        then written and sorted here.
        """
        self.main(dataset, {"format": "application/n-quads"})
        return "".join(sorted((serialize_quad(quad) for quad in self.quads), key=self._line_key))
