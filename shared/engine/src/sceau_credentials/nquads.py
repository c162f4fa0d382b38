r"""Canonical N-Quads lines, written and ordered the way the deployed verifiers compute them.

RDFC-1.0 hashes and signs N-Quads text, so two implementations agree on a signature only if they
write every quad with the same characters and sort the lines the same way. Two places where our
dependency (pyld) and the rest of the ecosystem part ways are handled here, in our own code:

* **Escaping.** Canonical N-Quads write ``"`` and ``\`` escaped, the characters U+0008, U+0009,
  U+000A, U+000C and U+000D as ``\b \t \n \f \r``, and every other character below U+0020 and
  U+007F as ``\u00XX`` (upper-case hex), the form rdf-canonize (jsonld.js, the Digital Bazaar
  stack) writes. pyld escapes only tab, line feed, carriage return, quote and backslash and leaves
  the others raw: a credential naming a form feed or a BEL would get a different hash there.
  IRIs are written with the characters N-Quads does not allow inside ``<…>`` as ``\u00XX``, as
  rdf-canonize does (JSON-LD safe mode keeps such IRIs out of signed documents anyway).
* **Order.** RDFC-1.0 sorts lines in Unicode *code point* order (what Python's ``sorted`` does).
  rdf-canonize (its issue #52, open) and Java's titanium-rdf-canon — behind the wallets and
  1EdTech's validator — sort JavaScript/Java strings, that is in UTF-16 *code unit* order. The two
  differ only when two lines first differ at a character from U+E000 to U+FFFF against one above
  U+FFFF (an emoji against a full-width letter, say). :class:`QuadOrder` names both; Sceau signs in
  UTF-16 order so that every deployed verifier accepts its signatures, and accepts either order
  when verifying (the same set of quads, so no content can hide behind the choice).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any, Final

__all__ = [
    "QuadOrder",
    "escape_iri",
    "escape_literal",
    "order_key",
    "serialize_quad",
]

_XSD_STRING: Final = "http://www.w3.org/2001/XMLSchema#string"
_RDF_LANG_STRING: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"

_LITERAL_NAMED: Final = {
    0x08: "\\b",
    0x09: "\\t",
    0x0A: "\\n",
    0x0C: "\\f",
    0x0D: "\\r",
    0x22: '\\"',
    0x5C: "\\\\",
}


def _uchar(code: int) -> str:
    return f"\\u{code:04X}"


_LITERAL_TABLE: Final = {
    code: _LITERAL_NAMED.get(code, _uchar(code)) for code in [*range(0x20), 0x7F, 0x22, 0x5C]
}
_IRI_TABLE: Final = {code: _uchar(code) for code in [*range(0x21), *map(ord, '<>"{}|^`\\')]}
# Almost no value holds a character to escape: a search (in C) spares ``translate`` its per-
# character table lookups on the ~150 terms of every credential signed or verified (about a
# tenth of a signing process's samples went to ``escape_iri`` alone).
_LITERAL_ESCAPED: Final = re.compile(f"[{re.escape(''.join(map(chr, _LITERAL_TABLE)))}]")
_IRI_ESCAPED: Final = re.compile(f"[{re.escape(''.join(map(chr, _IRI_TABLE)))}]")


class QuadOrder(StrEnum):
    """How canonical N-Quads lines are sorted (see the module docstring)."""

    UTF16_CODE_UNITS = "utf-16"
    """The order jsonld.js/rdf-canonize and Java implementations produce; Sceau signs in it."""
    CODE_POINTS = "code-point"
    """RDFC-1.0 as written; also accepted when verifying."""


def escape_literal(value: str) -> str:
    """Return ``value`` escaped for a canonical N-Quads string literal."""
    return value.translate(_LITERAL_TABLE) if _LITERAL_ESCAPED.search(value) else value


def escape_iri(value: str) -> str:
    """Return ``value`` escaped for a canonical N-Quads ``<IRI>``."""
    return value.translate(_IRI_TABLE) if _IRI_ESCAPED.search(value) else value


def _term(term: Mapping[str, Any]) -> str:
    if term["type"] == "IRI":
        return f"<{escape_iri(term['value'])}>"
    if term["type"] == "blank node":
        return str(term["value"])
    text = f'"{escape_literal(term["value"])}"'
    datatype = term.get("datatype", _XSD_STRING)
    if datatype == _RDF_LANG_STRING:
        language = term.get("language")
        return f"{text}@{language}" if language else text
    if datatype != _XSD_STRING:
        return f"{text}^^<{escape_iri(datatype)}>"
    return text


def serialize_quad(quad: Mapping[str, Any], graph_name: str | None = None) -> str:
    r"""Write one quad as a canonical N-Quads line ending in ``" .\n"``.

    ``quad`` has pyld's dataset shape: ``subject``, ``predicate``, ``object`` terms and an
    optional ``name`` (the graph); ``graph_name`` is used when it has none.
    """
    parts = [_term(quad["subject"]), _term(quad["predicate"]), _term(quad["object"])]
    name = quad.get("name")
    graph = name["value"] if name is not None else graph_name
    if graph is not None:
        parts.append(str(graph) if str(graph).startswith("_:") else f"<{escape_iri(graph)}>")
    return " ".join(parts) + " .\n"


def _utf16_key(line: str) -> bytes:
    # Big-endian UTF-16 bytes compare exactly like the sequence of 16-bit code units.
    return line.encode("utf-16-be", "surrogatepass")


def _code_point_key(line: str) -> str:
    return line


def order_key(order: QuadOrder) -> Callable[[str], Any]:
    """Return the ``sorted`` key that puts N-Quads lines in ``order``."""
    return _utf16_key if order is QuadOrder.UTF16_CODE_UNITS else _code_point_key
