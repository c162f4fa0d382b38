"""RDF Dataset Canonicalization (RDFC-1.0) of JSON-LD documents, with two interchangeable engines.

Data Integrity proofs (``eddsa-rdfc-2022``, ``Ed25519Signature2020``) sign the canonical N-Quads of
a document, not its JSON. Two implementations sit behind the :class:`Canonicalizer` protocol, and
both reproduce the W3C vc-di-eddsa canonical documents byte for byte (``tests/unit/engine``):

* :class:`PyldCanonicalizer` (default) — pyld, the Python port of jsonld.js, for JSON-LD → RDF and
  RDFC-1.0. pyld re-processes every type-scoped context each time a typed node is met; we memoise
  context processing per instance (the bundled contexts are immutable), which makes it 2.5x
  faster on Open Badges credentials and faster than the pyoxigraph path for them.
* :class:`OxigraphCanonicalizer` — pyoxigraph (Rust) parses the JSON-LD with the bundled contexts
  inlined (it has no document loader). Blank node labelling still uses pyld's RDFC-1.0: pyoxigraph
  0.5's own RDFC-1.0 labels blank nodes differently from jsonld.js and pyld when blank-node graphs
  (embedded proofs) have identical first-degree hashes (see ``test_canonical.py``), and a
  signature is only useful if every verifier computes the same bytes.

The default was chosen by measurement (``bench/engine.py``, ``docs/benchmarks.md``).

Both engines run in JSON-LD safe mode (:mod:`~sceau_credentials.jsonld_safety`) and take
contexts only from a :class:`~sceau_credentials.document_loader.ContextBundle`: nothing is
ever fetched. Both bound the work RDFC-1.0 may do on crafted blank-node structures, like
rdf-canonize's ``maxWorkFactor``.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any, Final, Protocol, runtime_checkable

import pyoxigraph as ox
from pyld import jsonld
from pyld.context_resolver import ContextResolver

from sceau_credentials.compat.pyld import (
    BoundedURDNA2015,
    MemoisingProcessor,
    ResolverCache,
    expanded_to_dataset,
    quicken_predicates,
)
from sceau_credentials.document_loader import (
    ContextBundle,
    UnknownContextError,
    bundled_contexts,
)
from sceau_credentials.json_copy import CopiedQuickly
from sceau_credentials.jsonld_safety import (
    UnsafeDocumentError,
    check_expanded,
    check_literal,
)
from sceau_credentials.nquads import QuadOrder
from sceau_shared.cache import TtlCache

__all__ = [
    "CANONICALIZER_NAMES",
    "CanonicalizationError",
    "Canonicalizer",
    "OxigraphCanonicalizer",
    "PyldCanonicalizer",
    "UnsafeDocumentError",
    "canonicalizer_by_name",
    "default_canonicalizer",
]

CANONICALIZER_NAMES: Final = ("pyld", "oxigraph")
MAX_BLANK_NODES: Final = 5000
"""Refuse larger documents outright: no credential comes close, and RDFC-1.0 is superlinear."""

_RDF_LANG_STRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
_SENTINEL_VOCAB: Final = "urn:sceau:undefined-term:"
_SENTINEL_BASE: Final = "https://relative-iri.sceau.invalid/"
_MAX_SAFE_INT: Final = 2**53 - 1
_RDF_TYPE: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"


class CanonicalizationError(ValueError):
    """The document could not be turned into canonical N-Quads (malformed JSON-LD, too complex)."""


@runtime_checkable
class Canonicalizer(Protocol):
    """Turns a JSON-LD document into its RDFC-1.0 canonical N-Quads."""

    @property
    def name(self) -> str:
        """Short name used in settings, benchmarks and error messages."""
        ...

    def canonicalize(
        self, document: Mapping[str, Any], order: QuadOrder = QuadOrder.UTF16_CODE_UNITS
    ) -> str:
        """Return the canonical N-Quads (lines sorted in ``order``, each ending in a newline).

        Raises:
            UnknownContextError: the document uses a context that is not bundled.
            UnsafeDocumentError: part of the document would not be covered by the canonical form.
            CanonicalizationError: the document is not valid JSON-LD or is too complex.
        """
        ...


def _raise_dropped(expanded_property: str | None) -> None:
    raise UnsafeDocumentError(
        "invalid property",
        f"property {expanded_property!r} is not defined by the document's contexts"
        if expanded_property
        else "a property is not defined by the document's contexts",
    )


def _find_cause(error: BaseException, kind: type[BaseException]) -> BaseException | None:
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, kind):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def _translate(error: Exception) -> Exception:
    for kind in (UnknownContextError, UnsafeDocumentError, CanonicalizationError):
        cause = _find_cause(error, kind)
        if cause is not None:
            return cause  # type: ignore[return-value]
    message = error.args[0] if error.args else type(error).__name__
    return CanonicalizationError(f"invalid JSON-LD: {message}")


def _count_blank_nodes(dataset: Mapping[str, list[dict[str, Any]]]) -> int:
    labels: set[str] = set()
    for graph_name, triples in dataset.items():
        if graph_name.startswith("_:"):
            labels.add(graph_name)
        for triple in triples:
            for position in ("subject", "object"):
                if triple[position]["type"] == "blank node":
                    labels.add(triple[position]["value"])
    return len(labels)


def _work_limit_exceeded() -> CanonicalizationError:
    return CanonicalizationError(
        "the document's blank nodes are too ambiguous to canonicalize within the work "
        "limit (RDFC-1.0 maximum deep iterations exceeded)"
    )


def _canonical_nquads(dataset: dict[str, list[dict[str, Any]]], order: QuadOrder) -> str:
    """Run bounded RDFC-1.0 on a pyld-shaped dataset and return canonical N-Quads."""
    blank_nodes = _count_blank_nodes(dataset)
    if blank_nodes > MAX_BLANK_NODES:
        raise CanonicalizationError(
            f"the document has {blank_nodes} blank nodes; at most {MAX_BLANK_NODES} are accepted"
        )
    return BoundedURDNA2015(
        budget=blank_nodes, exhausted=_work_limit_exceeded, order=order
    ).canonical_nquads(dataset)


class PyldCanonicalizer:
    """RDFC-1.0 with pyld, in JSON-LD safe mode, with contexts only from the bundle.

    Processed contexts are cached per instance (never in pyld's process-wide cache), so two
    canonicalizers with different bundles never see each other's contexts. An instance serialises
    its calls with a lock: pyld's caches are not thread-safe, and the work is CPU-bound under the
    GIL anyway.
    """

    def __init__(self, contexts: ContextBundle | None = None) -> None:
        self._contexts = contexts if contexts is not None else bundled_contexts()
        self._resolved: ResolverCache[str, Any] = ResolverCache(max_entries=512)
        self._processor = MemoisingProcessor(on_property_dropped=_raise_dropped)
        self._lock = threading.Lock()
        quicken_predicates()  # pyld's two hottest helpers, made cheap once per process
        # Flat documents (proof configurations) answered from memory: ~10 % of a signature.
        self._flat: TtlCache[str, str] = TtlCache(ttl_s=3600.0, max_entries=_FLAT_MEMO_ENTRIES)

    @property
    def name(self) -> str:
        return "pyld"

    def _options(self) -> dict[str, Any]:
        return {
            "base": None,  # no base: relative IRIs stay relative and are refused (safe mode)
            "documentLoader": self._contexts,
            "contextResolver": ContextResolver(self._resolved, self._contexts),
            "processingMode": "json-ld-1.1",
            "produceGeneralizedRdf": False,
            "extractAllScripts": False,
        }

    def expand(self, document: Mapping[str, Any]) -> list[Any]:
        """Expand ``document`` in safe mode (raises like :meth:`canonicalize`)."""
        with self._lock:
            return self._expand(document)

    def _expand(self, document: Mapping[str, Any]) -> list[Any]:
        if not isinstance(document, Mapping):
            raise CanonicalizationError("a JSON-LD document must be a JSON object")
        try:
            # pyld deep-copies the document first: a JSON tree, copied the quick way.
            expanded = self._processor.expand(CopiedQuickly(document), self._options())
        except (UnsafeDocumentError, UnknownContextError):
            raise
        except (jsonld.JsonLdError, TypeError, ValueError, RecursionError) as error:
            raise _translate(error) from error
        result: list[Any] = expanded if isinstance(expanded, list) else [expanded]
        if not result:
            raise UnsafeDocumentError("empty object", "the document expands to nothing")
        check_expanded(result)
        return result

    def to_dataset(self, document: Mapping[str, Any]) -> dict[str, list[dict[str, Any]]]:
        """Return the RDF dataset of ``document`` in pyld's shape (graph name → triples)."""
        with self._lock:
            return self._to_dataset(self._expand(document))

    def _to_dataset(self, expanded: list[Any]) -> dict[str, list[dict[str, Any]]]:
        # Same steps as pyld's to_rdf, minus the second expansion it would do on our already
        # expanded (and safety-checked) input.
        try:
            return expanded_to_dataset(self._processor, expanded, self._options())
        except jsonld.JsonLdError as error:
            raise _translate(error) from error

    def canonicalize(
        self, document: Mapping[str, Any], order: QuadOrder = QuadOrder.UTF16_CODE_UNITS
    ) -> str:
        key = _flat_key(document, order)
        with self._lock:  # the memo too: its LRU order is not safe across threads
            if key is not None and (known := self._flat.get(key)) is not None:
                return known
            dataset = self._to_dataset(self._expand(document))
        canonical = _canonical_nquads(dataset, order)
        if key is not None:
            with self._lock:
                self._flat.put(key, canonical)
        return canonical


_FLAT_MEMO_ENTRIES: Final = 256


def _flat_key(document: object, order: QuadOrder) -> str | None:
    """The memo key of a flat document (strings and lists of strings, any ``@context``), else None.

    Proof configurations are flat (context, type, cryptosuite, created, verification method,
    purpose) and repeat exactly: every credential a key signs within one second has the same one
    (``created`` is to the second). Credentials are never flat, so they are never memoised.
    """
    if not isinstance(document, Mapping):
        return None  # refused by the expansion, never memoised
    for name, value in document.items():
        if name == "@context":
            continue  # URLs or inline term definitions (Sceau's own terms): part of the key
        if isinstance(value, list):
            if not all(isinstance(item, str) for item in value):
                return None
        elif not isinstance(value, str):
            return None
    return json.dumps([order.value, document], sort_keys=True, ensure_ascii=False)


class _NotFastPath(Exception):
    """The document uses JSON-LD features outside the pyoxigraph path."""


class OxigraphCanonicalizer:
    """JSON-LD parsed by pyoxigraph (contexts inlined from the bundle), RDFC-1.0 by pyld.

    Safe mode: documents whose ``@context`` entries are all bundled URLs and that have no ``@``
    keys, no empty objects and no network-path strings (``//host``) are parsed by pyoxigraph
    under a sentinel ``@vocab`` and a sentinel base IRI, so an undefined term or a relative IRI
    shows up as a sentinel IRI and is refused. Every other document goes to ``fallback`` (a
    :class:`PyldCanonicalizer` over the same bundle): both engines accept and refuse the same
    documents.
    """

    def __init__(
        self,
        contexts: ContextBundle | None = None,
        fallback: PyldCanonicalizer | None = None,
    ) -> None:
        self._contexts = contexts if contexts is not None else bundled_contexts()
        self._fallback = fallback if fallback is not None else PyldCanonicalizer(self._contexts)
        self._inlined: dict[str, Any] = {}
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return "oxigraph"

    def canonicalize(
        self, document: Mapping[str, Any], order: QuadOrder = QuadOrder.UTF16_CODE_UNITS
    ) -> str:
        try:
            with self._lock:
                prepared = self._prepare(document)
        except _NotFastPath:
            return self._fallback.canonicalize(document, order)
        try:
            text = json.dumps(prepared, ensure_ascii=False, allow_nan=False)
            quads = list(ox.parse(text, format=ox.RdfFormat.JSON_LD, base_iri=_SENTINEL_BASE))
        except (SyntaxError, ValueError) as error:
            raise CanonicalizationError(f"invalid JSON-LD: {error}") from error
        return _canonical_nquads(_to_pyld_dataset(quads), order)

    def _prepare(self, document: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(document, Mapping) or "@context" not in document:
            raise _NotFastPath
        prepared = self._walk(document)
        # The sentinel @vocab sits under every document context: a context that defines its own
        # @vocab (the W3C examples context does) takes precedence, exactly as in jsonld.js.
        prepared["@context"] = [{"@vocab": _SENTINEL_VOCAB}, *prepared["@context"]]
        return prepared

    def _inline_context(self, value: Any) -> list[Any]:
        inlined: list[Any] = []
        for entry in value if isinstance(value, list) else [value]:
            if not isinstance(entry, str):
                raise _NotFastPath
            cached = self._inlined.get(entry)
            if cached is None:
                cached = _inline_nested(self._contexts.context_value(entry), self._contexts)
                self._inlined[entry] = cached
            inlined.append(cached)
        return inlined

    def _walk(self, node: Mapping[str, Any]) -> dict[str, Any]:
        if not node:
            raise _NotFastPath
        out: dict[str, Any] = {}
        for key, value in node.items():
            if key == "@context":
                out[key] = self._inline_context(value)
            elif not isinstance(key, str) or key.startswith("@"):
                raise _NotFastPath
            else:
                out[key] = self._value(value)
        return out

    def _value(self, value: Any) -> Any:
        if isinstance(value, Mapping):
            return self._walk(value)
        if isinstance(value, list):
            return [self._value(item) for item in value]
        if isinstance(value, str):
            if value.startswith("//"):
                raise _NotFastPath
            check_literal(value)
        elif isinstance(value, float):
            # pyoxigraph writes doubles in shortest round-trip form; jsonld.js and pyld round the
            # exact binary value to 16 significant digits. Documents with doubles go to pyld.
            raise _NotFastPath
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > _MAX_SAFE_INT:
            raise _NotFastPath
        return value


def _inline_nested(context: Any, bundle: ContextBundle) -> Any:
    """Replace context URLs referenced from inside a bundled context with their content."""
    if isinstance(context, list):
        return [_inline_nested(item, bundle) for item in context]
    if isinstance(context, str):
        return _inline_nested(bundle.context_value(context), bundle)
    if isinstance(context, dict):
        if "@import" in context:
            raise _NotFastPath
        return {
            key: _inline_nested(value, bundle) if key == "@context" or isinstance(value, dict)
            else value
            for key, value in context.items()
        }  # fmt: skip
    return context


def _term(term: Any) -> dict[str, Any]:
    if isinstance(term, ox.NamedNode):
        iri = term.value
        if iri.startswith(_SENTINEL_VOCAB):
            raise UnsafeDocumentError(
                "invalid property",
                f"term {iri[len(_SENTINEL_VOCAB) :]!r} is not defined by the document's contexts",
            )
        if iri.startswith(_SENTINEL_BASE):
            raise UnsafeDocumentError(
                "relative @id reference", f"IRI {iri[len(_SENTINEL_BASE) :]!r} is relative"
            )
        return {"type": "IRI", "value": iri}
    if isinstance(term, ox.BlankNode):
        return {"type": "blank node", "value": f"_:{term.value}"}
    if isinstance(term, ox.Literal):
        datatype = _term(term.datatype)["value"]
        literal = {"type": "literal", "value": term.value, "datatype": datatype}
        if term.language is not None:
            literal["language"] = term.language
            literal["datatype"] = _RDF_LANG_STRING
        return literal
    raise CanonicalizationError(f"unsupported RDF term {term!r}")


def _to_pyld_dataset(quads: list[ox.Quad]) -> dict[str, list[dict[str, Any]]]:
    dataset: dict[str, list[dict[str, Any]]] = {"@default": []}
    # pyoxigraph's JSON-LD parser streams: a node described twice yields its quads twice, but an
    # RDF dataset is a set.
    for quad in dict.fromkeys(quads):
        graph = quad.graph_name
        if isinstance(graph, ox.DefaultGraph):
            name = "@default"
        elif isinstance(graph, ox.BlankNode):
            name = f"_:{graph.value}"
        else:
            name = _term(graph)["value"]
        predicate = _term(quad.predicate)
        try:
            subject_and_object = (_term(quad.subject), _term(quad.object))
        except UnsafeDocumentError as error:
            if predicate["value"] == _RDF_TYPE and error.code == "invalid property":
                raise UnsafeDocumentError(
                    "relative @type reference", "a type is not defined by the document's contexts"
                ) from error
            raise
        triple = {
            "subject": subject_and_object[0],
            "predicate": predicate,
            "object": subject_and_object[1],
        }
        dataset.setdefault(name, []).append(triple)
    return dataset


def canonicalizer_by_name(name: str, contexts: ContextBundle | None = None) -> Canonicalizer:
    """Build the canonicalizer called ``name`` (one of :data:`CANONICALIZER_NAMES`).

    Raises:
        ValueError: unknown name.
    """
    if name == "pyld":
        return PyldCanonicalizer(contexts)
    if name == "oxigraph":
        return OxigraphCanonicalizer(contexts)
    raise ValueError(f"unknown canonicalizer {name!r} (expected one of {CANONICALIZER_NAMES})")


def default_canonicalizer(contexts: ContextBundle | None = None) -> Canonicalizer:
    """Return the default canonicalizer, chosen by measurement (see ``docs/benchmarks.md``)."""
    return PyldCanonicalizer(contexts)
