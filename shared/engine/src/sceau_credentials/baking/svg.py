"""SVG baking (Open Badges 3.0 §5.3.2): an ``<openbadges:credential>`` element after ``<svg>``.

The root ``<svg>`` gets ``xmlns:openbadges="https://purl.imsglobal.org/ob/v3p0"`` and, directly
after its start tag, ``<openbadges:credential verify="<JWT>"></openbadges:credential>`` for a
VC-JWT or ``<openbadges:credential><![CDATA[<JSON>]]></openbadges:credential>`` for a credential
with an embedded proof. A credential already baked in is replaced.

The SVG is edited as text (so the rest of the image is kept byte for byte) at positions found
by a real XML parser (expat). The parser refuses entity declarations, so an image cannot expand
into gigabytes ("billion laughs") or read local files (external entities); a plain DOCTYPE, as
drawing tools write, is accepted.
"""

from __future__ import annotations

import xml.parsers.expat
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from sceau_credentials.baking.common import (
    BakedCredential,
    BakingError,
    parse_payload,
    serialize_payload,
)

__all__ = ["OB_NAMESPACE", "bake_svg", "extract_svg"]

OB_NAMESPACE: Final = "https://purl.imsglobal.org/ob/v3p0"
SVG_NAMESPACE: Final = "http://www.w3.org/2000/svg"
_SEPARATOR: Final = "\x01"
_CREDENTIAL: Final = f"{OB_NAMESPACE}{_SEPARATOR}credential"


class _Stop(Exception):
    """Ends parsing once what we need is known."""


@dataclass
class _Scan:
    """Where things are in the SVG bytes."""

    root_start: int | None = None
    root_name: str | None = None
    root_namespaces: dict[str, str] = field(default_factory=dict)
    credential_start: int | None = None
    credential_end_tag: int | None = None
    verify: str | None = None
    text: list[str] = field(default_factory=list)
    depth: int = 0
    inside: int = 0


def _forbid_entities(*_: object) -> None:
    raise BakingError("SVG entity declarations are refused (entity expansion attacks)")


def _scan(image: bytes, *, stop_after_credential: bool) -> _Scan:
    scan = _Scan()
    parser = xml.parsers.expat.ParserCreate(namespace_separator=_SEPARATOR)
    parser.EntityDeclHandler = _forbid_entities
    parser.UnparsedEntityDeclHandler = _forbid_entities
    parser.ExternalEntityRefHandler = _forbid_entities  # type: ignore[assignment]

    def start(name: str, attributes: dict[str, str]) -> None:
        scan.depth += 1
        if scan.root_start is None:
            scan.root_start = parser.CurrentByteIndex
            scan.root_name = name
        if scan.inside:
            scan.inside += 1
        elif name == _CREDENTIAL and scan.credential_start is None:
            scan.credential_start = parser.CurrentByteIndex
            scan.verify = attributes.get("verify")
            scan.inside = 1

    def end(_: str) -> None:
        scan.depth -= 1
        if scan.inside:
            scan.inside -= 1
            if not scan.inside:
                scan.credential_end_tag = parser.CurrentByteIndex
                if stop_after_credential:
                    raise _Stop

    def namespace(prefix: str | None, uri: str) -> None:
        if scan.root_start is None:  # declared on the root element
            scan.root_namespaces[prefix or ""] = uri

    def text(data: str) -> None:
        if scan.inside:
            scan.text.append(data)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = text
    parser.StartNamespaceDeclHandler = namespace
    try:
        parser.Parse(image, True)
    except _Stop:
        pass
    except xml.parsers.expat.ExpatError as exc:
        raise BakingError(f"not a well-formed SVG: {exc}") from exc
    if scan.root_name != f"{SVG_NAMESPACE}{_SEPARATOR}svg":
        raise BakingError("not an SVG image (the root element is not svg:svg)")
    return scan


def _tag_end(image: bytes, start: int) -> int:
    """Index just after the ``>`` closing the tag that starts at ``start`` (quotes respected)."""
    quote: int | None = None
    for index in range(start, len(image)):
        byte = image[index]
        if quote is not None:
            if byte == quote:
                quote = None
        elif byte in (0x22, 0x27):
            quote = byte
        elif byte == 0x3E:
            return index + 1
    raise BakingError("unterminated tag in SVG")  # pragma: no cover - expat parsed it already


def _element(credential: Mapping[str, Any] | str) -> bytes:
    payload = serialize_payload(credential)
    if isinstance(credential, str):
        return f'<openbadges:credential verify="{payload}"></openbadges:credential>'.encode()
    cdata = payload.replace("]]>", "]]]]><![CDATA[>")
    return f"<openbadges:credential><![CDATA[{cdata}]]></openbadges:credential>".encode()


def bake_svg(image: bytes | str, credential: Mapping[str, Any] | str) -> bytes:
    """Return the SVG with ``credential`` baked in (replacing any credential already there).

    Raises:
        BakingError: not a well-formed SVG, entity declarations, or not a credential.
    """
    data = image.encode("utf-8") if isinstance(image, str) else image
    element = _element(credential)
    scan = _scan(data, stop_after_credential=False)
    if scan.credential_start is not None and scan.credential_end_tag is not None:
        start = scan.credential_start
        start_tag_end = _tag_end(data, start)
        if data[start_tag_end - 2 : start_tag_end] == b"/>":
            end = start_tag_end
        else:
            end = _tag_end(data, scan.credential_end_tag)
        data = data[:start] + data[end:]
    assert scan.root_start is not None  # noqa: S101 - _scan checked the root
    root_end = _tag_end(data, scan.root_start)
    if data[root_end - 2 : root_end] == b"/>":
        raise BakingError("the svg element is empty (<svg/>); nothing can be baked into it")
    declared = scan.root_namespaces.get("openbadges")
    namespace_attribute = b""
    if declared is None:
        namespace_attribute = f' xmlns:openbadges="{OB_NAMESPACE}"'.encode()
    elif declared != OB_NAMESPACE:
        raise BakingError(f"the svg element binds the openbadges prefix to {declared!r}")
    head = data[: root_end - 1] + namespace_attribute + b">"
    return head + element + data[root_end:]


def extract_svg(image: bytes | str) -> BakedCredential:
    """Return the credential baked into an SVG (JSON object or compact VC-JWT).

    Raises:
        BakingError: not an SVG, no baked credential, or malformed content.
    """
    data = image.encode("utf-8") if isinstance(image, str) else image
    scan = _scan(data, stop_after_credential=True)
    if scan.credential_start is None:
        raise BakingError("the SVG has no baked Open Badges credential")
    if scan.verify is not None:
        return parse_payload(scan.verify, "SVG openbadges:credential verify attribute")
    return parse_payload("".join(scan.text), "SVG openbadges:credential element")
