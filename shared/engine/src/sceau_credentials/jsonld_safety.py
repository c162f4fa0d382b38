"""JSON-LD "safe mode": refuse documents whose JSON would not all be covered by a signature.

A Data Integrity signature covers the canonical RDF of a document. Whatever JSON-LD processing
silently drops (an undefined term, a relative IRI, a reserved ``@`` key, ...) is therefore not
signed: anyone could add or change it without breaking the proof, and a consumer reading the JSON
would be misled. jsonld.js (used by the Digital Bazaar stack and the wallets) refuses such documents
when called with ``safe: true``; pyld has no such mode, so this module provides the checks, named
after jsonld.js' event codes so that errors read the same on both sides.
"""

from __future__ import annotations

import re
from typing import Any, Final

__all__ = [
    "UnsafeDocumentError",
    "check_expanded",
    "check_literal",
    "is_absolute_iri",
]

_ABSOLUTE_IRI: Final = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:")
_LANGUAGE_TAG: Final = re.compile(r"^[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*$")
_SURROGATE: Final = re.compile("[\ud800-\udfff]")
_MAX_SAFE_INT: Final = 2**53 - 1


class UnsafeDocumentError(ValueError):
    """Part of the document would be silently dropped from (so not signed by) its canonical form.

    Attributes:
        code: the jsonld.js safe-mode event code (``invalid property``,
            ``relative @id reference``, ...).
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{detail} (JSON-LD safe mode: {code})")
        self.code = code


def is_absolute_iri(value: object) -> bool:
    """Return whether ``value`` is an absolute IRI (has a scheme) or a blank node identifier."""
    return isinstance(value, str) and (value.startswith("_:") or bool(_ABSOLUTE_IRI.match(value)))


def check_literal(value: str) -> None:
    r"""Refuse a literal holding a lone UTF-16 surrogate (U+D800 to U+DFFF).

    JSON's ``\uD800`` escapes can name half of a character; such a string is not Unicode text
    (I-JSON, RFC 7493, forbids it), has no UTF-8 form to hash, and JavaScript verifiers replace it
    with U+FFFD before hashing, so no two implementations would agree on its signature. Control
    characters are accepted: :mod:`sceau_credentials.nquads` escapes them as RDFC-1.0 and
    rdf-canonize do.

    Raises:
        UnsafeDocumentError: the literal contains a lone surrogate.
    """
    found = _SURROGATE.search(value)
    if found is not None:
        raise UnsafeDocumentError(
            "invalid string",
            f"a literal value holds a lone surrogate U+{ord(found.group()):04X}, "
            "which is not Unicode text",
        )


def check_expanded(node: Any) -> None:
    """Refuse what jsonld.js safe mode refuses, by walking the *expanded* form of a document.

    Undefined terms are caught earlier, during expansion (pyld's dropped-property hook); this walk
    catches what expansion keeps but RDF conversion would silently drop.

    Raises:
        UnsafeDocumentError: with the matching jsonld.js event code.
    """
    if isinstance(node, list):
        for item in node:
            check_expanded(item)
        return
    if not isinstance(node, dict):
        raise UnsafeDocumentError("free-floating scalar", f"value {node!r} is not attached")
    if "@value" in node:
        _check_value_object(node)
        return
    if "@list" in node:
        check_expanded(node["@list"])
        return
    if "@id" in node and not is_absolute_iri(node["@id"]):
        raise UnsafeDocumentError("relative @id reference", f"@id {node['@id']!r} is relative")
    types = node.get("@type", [])
    for type_iri in types if isinstance(types, list) else [types]:
        if not is_absolute_iri(type_iri):
            raise UnsafeDocumentError("relative @type reference", f"type {type_iri!r} is relative")
    for key, value in node.items():
        if key in ("@id", "@type", "@index"):
            continue
        if key.startswith("_:"):
            raise UnsafeDocumentError("blank node predicate", f"predicate {key!r} is a blank node")
        if not key.startswith("@") and not _ABSOLUTE_IRI.match(key):
            raise UnsafeDocumentError("relative predicate reference", f"predicate {key!r}")
        check_expanded(value)


def _is_unsafe_number(value: object) -> bool:
    """Tell whether ``value`` is an integer (or integral double) beyond ±2^53.

    Python, pyoxigraph and JavaScript write those differently in RDF (JavaScript cannot even hold
    them exactly), so the canonical forms would not agree.
    """
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return abs(value) > _MAX_SAFE_INT
    # From 1e21 on every implementation writes an xsd:double in exponent form, which agrees.
    return isinstance(value, float) and value.is_integer() and _MAX_SAFE_INT < abs(value) < 1e21


def _check_value_object(node: dict[str, Any]) -> None:
    value = node["@value"]
    if value is None:
        raise UnsafeDocumentError("null @value value", "an @value is null")
    datatype = node.get("@type")
    if datatype == "@json":
        return
    if isinstance(value, str):
        check_literal(value)
    elif _is_unsafe_number(value):
        # JavaScript (jsonld.js, the wallets) cannot represent it exactly: the canonical forms
        # would differ, so the signature could not be checked there.
        raise UnsafeDocumentError(
            "unsupported number", f"integer {value} is beyond ±2^53 and cannot be exchanged exactly"
        )
    if datatype is not None and not is_absolute_iri(datatype):
        raise UnsafeDocumentError(
            "relative @type reference", f"datatype {datatype!r} is not an absolute IRI"
        )
    language = node.get("@language")
    if language is not None and not (isinstance(language, str) and _LANGUAGE_TAG.match(language)):
        raise UnsafeDocumentError("invalid @language value", f"language tag {language!r}")
    if "@direction" in node:
        raise UnsafeDocumentError(
            "rdfDirection not set", "@direction has no RDF form in Data Integrity canonicalization"
        )
