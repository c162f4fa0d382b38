"""Selective-disclosure building blocks (W3C VC DI ECDSA §3.4 "Selective Disclosure Functions").

``ecdsa-sd-2023`` signs every N-Quad of a credential separately, so that a holder can later drop
some of them. What this needs beyond plain RDFC-1.0 lives here:

* **JSON pointers → JSON-LD selection** (:func:`select_json_ld`): the smallest document that
  keeps what the pointers name, with the ``id``/``type`` of every node on the way, so the
  selected quads still hang off the same subjects;
* **skolemization**: every blank node gets a temporary IRI (``urn:bnid:…``) so the quads of a
  selection can be matched with the quads of the whole document, then turned back into blank
  nodes (*deskolemized*);
* **label replacement canonicalization**: RDFC-1.0 blank node labels (``c14n0``…) would reveal
  the shape of hidden data, so they are replaced, with an HMAC of the canonical label keyed by a
  secret the issuer gives the holder (base proof), or with the map the holder gives the verifier
  (derived proof);
* **grouping**: which canonical quads a set of pointers selects ("matching") and which not.

The algorithms follow the spec, reproduce its test vectors and interoperate with Digital Bazaar's
``di-sd-primitives`` (``tests/interop/test_ecdsa_sd_interop.py``), including its choice of
replacing blank node labels in N-Quads text with a regular expression.
"""

from __future__ import annotations

import copy
import hashlib
import hmac
import itertools
import re
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from pyld import jsonld
from pyld.canon import URDNA2015

from sceau_credentials.canonical import (
    MAX_BLANK_NODES,
    CanonicalizationError,
    PyldCanonicalizer,
)
from sceau_credentials.document_loader import ContextBundle, bundled_contexts
from sceau_credentials.multiformats import base64url_nopad_encode

__all__ = [
    "Group",
    "JsonPointerError",
    "LabelMap",
    "LabelMapError",
    "SdJsonLd",
    "hmac_label_map",
    "parse_pointer",
    "pointers_except",
    "select_json_ld",
]

LabelMap = dict[str, str]
"""Blank node label (without ``_:``) → replacement label (without ``_:``)."""

_SKOLEM_PREFIX: Final = "urn:bnid:"
_SKOLEM_IRI: Final = re.compile(r"<urn:bnid:([^>]+)>")
_BLANK_LABEL: Final = re.compile(r"_:(\S+)")


class JsonPointerError(ValueError):
    """A JSON pointer is malformed or names nothing in the document."""


class LabelMapError(ValueError):
    """A disclosed document has a blank node its proof's label map does not cover."""


# --- JSON pointers and selection -------------------------------------------------------------


def parse_pointer(pointer: str) -> list[str]:
    """Split an RFC 6901 JSON pointer into unescaped reference tokens (``""`` → ``[]``).

    Raises:
        JsonPointerError: not starting with ``/`` or with an invalid ``~`` escape.
    """
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise JsonPointerError(f"JSON pointer {pointer!r} must start with '/'")
    tokens = []
    for token in pointer.split("/")[1:]:
        if re.search(r"~(?![01])", token):
            raise JsonPointerError(f"invalid escape in JSON pointer {pointer!r}")
        tokens.append(token.replace("~1", "/").replace("~0", "~"))
    return tokens


def _step(value: Any, token: str, pointer: str) -> tuple[Any, str | int]:
    if isinstance(value, list):
        if not token.isdigit() or int(token) >= len(value):
            raise JsonPointerError(f"JSON pointer {pointer!r} does not match the document")
        return value[int(token)], int(token)
    if isinstance(value, Mapping) and token in value:
        return value[token], token
    raise JsonPointerError(f"JSON pointer {pointer!r} does not match the document")


def _initial_selection(source: Mapping[str, Any], selection: dict[str, Any]) -> dict[str, Any]:
    """A node's ``id`` (unless blank) and ``type``: what keeps a selection attached."""
    node_id = source.get("id")
    if isinstance(node_id, str) and node_id and not node_id.startswith("_:"):
        selection["id"] = node_id
    if source.get("type"):
        selection["type"] = copy.deepcopy(source["type"])
    return selection


def select_json_ld(document: Mapping[str, Any], pointers: Sequence[str]) -> dict[str, Any] | None:
    """Return the part of a compact JSON-LD ``document`` that ``pointers`` name (None if none).

    Every object on the way to a selected value keeps its ``id`` and ``type``; a selected object
    or array is kept whole; arrays keep the order of the selected items.

    Raises:
        JsonPointerError: a pointer is malformed or names nothing.
    """
    if not pointers:
        return None
    selection: dict[str, Any] = {}
    if "@context" in document:
        selection["@context"] = copy.deepcopy(document["@context"])
    _initial_selection(document, selection)
    # Sparse arrays: index → selected item, compacted at the end.
    sparse: dict[int, tuple[Any, dict[int, Any]]] = {}
    for pointer in pointers:
        tokens = parse_pointer(pointer)
        if not tokens:
            return copy.deepcopy(dict(document))
        value: Any = document
        selected: Any = selection
        for position, token in enumerate(tokens):
            value, key = _step(value, token, pointer)
            container = selected
            last = position == len(tokens) - 1
            current = _get(container, key, sparse)
            if last:
                if isinstance(value, Mapping):
                    merged = dict(current) if isinstance(current, dict) else {}
                    merged.update(copy.deepcopy(dict(value)))
                    current = merged
                else:
                    current = copy.deepcopy(value)
                _set(container, key, current, sparse)
            elif current is None:
                current = [] if isinstance(value, list) else _initial_selection(value, {})
                if isinstance(current, list):
                    sparse[id(current)] = (current, {})
                _set(container, key, current, sparse)
            selected = current
    for array, items in sparse.values():
        array.extend(items[index] for index in sorted(items))
    return selection


def _get(container: Any, key: str | int, sparse: dict[int, tuple[Any, dict[int, Any]]]) -> Any:
    if isinstance(container, list):
        entry = sparse.get(id(container))
        if entry is not None:
            return entry[1].get(int(key))
        return container[int(key)] if int(key) < len(container) else None  # a whole array
    return container.get(key)


def _set(
    container: Any, key: str | int, value: Any, sparse: dict[int, tuple[Any, dict[int, Any]]]
) -> None:
    if isinstance(container, list):
        entry = sparse.get(id(container))
        if entry is not None:
            entry[1][int(key)] = value
        else:
            container[int(key)] = value
    else:
        container[key] = value


def _escape(token: str) -> str:
    return token.replace("~", "~0").replace("/", "~1")


def pointers_except(document: Mapping[str, Any], hidden: Iterable[str]) -> list[str]:
    """Return JSON pointers that select all of ``document`` but the ``hidden`` pointers.

    This is how a holder says "share everything except my grade": the result can be passed as
    the selective pointers of a derived proof. The top-level ``@context`` and ``proof`` are
    never pointed at (the context always comes along; proofs are not disclosed data); ``id``
    and ``type`` of kept nodes come with the selection anyway.

    Raises:
        JsonPointerError: a hidden pointer is malformed or names nothing.
    """
    hidden_pointers = list(hidden)
    hidden_paths = [tuple(parse_pointer(pointer)) for pointer in hidden_pointers]
    for pointer, path in zip(hidden_pointers, hidden_paths, strict=True):
        value: Any = document
        for token in path:
            value, _ = _step(value, token, pointer)
    result: list[str] = []

    def walk(value: Any, path: tuple[str, ...]) -> None:
        keys: Iterable[str]
        if isinstance(value, Mapping):
            keys = [key for key in value if path or key not in ("@context", "proof")]
        else:
            keys = [str(index) for index in range(len(value))]
        for key in keys:
            child_path = (*path, key)
            if child_path in hidden_paths:
                continue
            child = value[key] if isinstance(value, Mapping) else value[int(key)]
            below = any(hp[: len(child_path)] == child_path for hp in hidden_paths)
            if below and isinstance(child, Mapping | list):
                walk(child, child_path)
            else:
                result.append("/" + "/".join(_escape(token) for token in child_path))

    walk(document, ())
    return result


# --- RDF: skolemize, N-Quads, label replacement ----------------------------------------------


def hmac_label_map(hmac_key: bytes) -> Callable[[Mapping[str, str]], LabelMap]:
    """The label map factory of a base proof: ``c14nN`` → ``u`` + base64url(HMAC-SHA-256)."""

    def factory(canonical_id_map: Mapping[str, str]) -> LabelMap:
        return {
            source: "u"
            + base64url_nopad_encode(
                hmac.new(hmac_key, canonical.encode("utf-8"), hashlib.sha256).digest()
            )
            for source, canonical in canonical_id_map.items()
        }

    return factory


def given_label_map(label_map: Mapping[str, str]) -> Callable[[Mapping[str, str]], LabelMap]:
    """The label map factory of a verifier: apply the map the derived proof carries.

    Raises (when called):
        LabelMapError: the document has a blank node the map does not cover.
    """

    def factory(canonical_id_map: Mapping[str, str]) -> LabelMap:
        missing = sorted(set(canonical_id_map.values()) - set(label_map))
        if missing:
            raise LabelMapError(
                f"the proof's label map does not cover blank node(s) {', '.join(missing)}"
            )
        return {source: label_map[canonical] for source, canonical in canonical_id_map.items()}

    return factory


def _relabel(nquads: Iterable[str], label_map: Mapping[str, str]) -> list[str]:
    def replace(match: re.Match[str]) -> str:
        label = match.group(1)
        if label not in label_map:
            raise CanonicalizationError(f"blank node _:{label} has no replacement label")
        return "_:" + label_map[label]

    return [_BLANK_LABEL.sub(replace, quad) for quad in nquads]


@dataclass(frozen=True, slots=True)
class Group:
    """The canonical quads a set of pointers selects (``matching``) and the others, by index."""

    matching: dict[int, str]
    non_matching: dict[int, str]
    deskolemized_nquads: list[str]


class SdJsonLd:
    """JSON-LD processing for selective disclosure, with contexts only from a bundle.

    Expansion and RDF conversion go through :class:`~sceau_credentials.canonical.PyldCanonicalizer`
    (safe mode, bundled contexts); compaction and RDFC-1.0 with an identifier map use pyld
    directly, with the same bundle as document loader.
    """

    def __init__(self, contexts: ContextBundle | None = None) -> None:
        self._contexts = contexts if contexts is not None else bundled_contexts()
        self._canonicalizer = PyldCanonicalizer(self._contexts)

    @property
    def canonicalizer(self) -> PyldCanonicalizer:
        """The canonicalizer (for proof configurations)."""
        return self._canonicalizer

    def nquads(self, document: Mapping[str, Any] | None) -> list[str]:
        """The N-Quads of a JSON-LD document (or expanded list), deskolemized, unsorted."""
        if document is None:
            return []
        dataset = self._canonicalizer.to_dataset(document)
        lines = [
            jsonld.JsonLdProcessor.to_nquad(triple, None if name == "@default" else name)
            for name, triples in dataset.items()
            for triple in triples
        ]
        return [_SKOLEM_IRI.sub(r"_:\1", line) for line in lines]

    def skolemize(self, document: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
        """Give every blank node of ``document`` a ``urn:bnid`` IRI.

        Returns:
            The skolemized document expanded (as a ``@graph`` object, ready for RDF) and
            compacted again with the document's own context (what JSON pointers apply to).
        """
        expanded = self._canonicalizer.expand(document)
        counter = itertools.count()
        prefix = f"{_SKOLEM_PREFIX}_{uuid.uuid4()}_"
        skolemized = _skolemize(expanded, prefix, counter)
        try:
            compact = jsonld.compact(
                copy.deepcopy(skolemized),
                {"@context": copy.deepcopy(document.get("@context"))},
                {"documentLoader": self._contexts, "base": None, "processingMode": "json-ld-1.1"},
            )
        except jsonld.JsonLdError as error:
            raise CanonicalizationError(
                f"cannot compact the skolemized document: {error}"
            ) from error
        return {"@graph": skolemized}, compact

    def canonical_id_map(self, nquads: Sequence[str]) -> LabelMap:
        """The RDFC-1.0 labels of ``nquads``' blank nodes: input label → ``c14nN``."""
        return self.canonical_with_labels(nquads, dict)[1]

    def canonical_with_labels(
        self,
        nquads: Sequence[str],
        factory: Callable[[Mapping[str, str]], LabelMap],
    ) -> tuple[list[str], LabelMap]:
        """RDFC-1.0 of ``nquads`` with blank node labels replaced through ``factory``.

        Returns:
            The relabelled canonical N-Quads, sorted, and the map input label → new label.
        """
        dataset = jsonld.JsonLdProcessor.parse_nquads("".join(nquads))
        return self._canonical_dataset(dataset, factory)

    def canonical_document_with_labels(
        self,
        document: Mapping[str, Any],
        factory: Callable[[Mapping[str, str]], LabelMap],
    ) -> list[str]:
        """RDFC-1.0 of a JSON-LD document with blank node labels replaced through ``factory``."""
        return self._canonical_dataset(self._canonicalizer.to_dataset(document), factory)[0]

    def _canonical_dataset(
        self,
        dataset: dict[str, list[dict[str, Any]]],
        factory: Callable[[Mapping[str, str]], LabelMap],
    ) -> tuple[list[str], LabelMap]:
        labels = {
            term["value"]
            for triples in dataset.values()
            for triple in triples
            for term in (triple["subject"], triple["object"])
            if term["type"] == "blank node"
        }
        if len(labels) > MAX_BLANK_NODES:
            raise CanonicalizationError(
                f"the document has {len(labels)} blank nodes; "
                f"at most {MAX_BLANK_NODES} are accepted"
            )
        canon = _BoundedCanonicalization(budget=len(labels))
        canonical = str(canon.main(copy.deepcopy(dataset), {"format": "application/n-quads"}))
        issued: dict[str, str] = {
            source[2:]: target[2:] for source, target in canon.canonical_issuer.existing.items()
        }
        label_map = factory(issued)
        by_canonical = {issued[source]: target for source, target in label_map.items()}
        lines = [line + "\n" for line in canonical.split("\n") if line]
        return sorted(_relabel(lines, by_canonical)), label_map

    def group(
        self,
        skolemized: Mapping[str, Any],
        canonical: Sequence[str],
        label_map: Mapping[str, str],
        pointers: Sequence[str],
    ) -> Group:
        """Split ``canonical`` quads into those ``pointers`` select and the others."""
        deskolemized = self.nquads(select_json_ld(skolemized, pointers))
        selected = set(_relabel(deskolemized, label_map))
        matching = {index: quad for index, quad in enumerate(canonical) if quad in selected}
        others = {index: quad for index, quad in enumerate(canonical) if quad not in selected}
        return Group(matching, others, deskolemized)


class _BoundedCanonicalization(URDNA2015):  # type: ignore[misc]
    """RDFC-1.0 with rdf-canonize's default work bound, as the canonicalizer applies it.

    Verifiers canonicalize documents holders send them; crafted blank-node structures would
    otherwise make RDFC-1.0 exponential. As many "Hash N-Degree Quads" runs as blank nodes are
    allowed. (The label map this module needs is pyld's ``canonical_issuer``, hence a subclass
    here rather than :mod:`sceau_credentials.canonical`'s engine.)
    """

    def __init__(self, budget: int) -> None:
        super().__init__()
        self._remaining = budget

    def hash_n_degree_quads(self, id_: str, issuer: Any) -> Any:
        if self._remaining <= 0:
            raise CanonicalizationError(
                "the document's blank nodes are too ambiguous to canonicalize within the work "
                "limit (RDFC-1.0 maximum deep iterations exceeded)"
            )
        self._remaining -= 1
        return super().hash_n_degree_quads(id_, issuer)


def _skolemize(elements: list[Any], prefix: str, counter: itertools.count[int]) -> list[Any]:
    result: list[Any] = []
    for element in elements:
        if not isinstance(element, dict) or "@value" in element:
            result.append(copy.deepcopy(element))
            continue
        node: dict[str, Any] = {}
        for name, value in element.items():
            node[name] = (
                _skolemize(value, prefix, counter)
                if isinstance(value, list)
                else _skolemize([value], prefix, counter)[0]
            )
        node_id = node.get("@id")
        if node_id is None:
            node["@id"] = f"{prefix}{next(counter)}"
        elif isinstance(node_id, str) and node_id.startswith("_:"):
            node["@id"] = _SKOLEM_PREFIX + node_id[2:]
        result.append(node)
    return result
