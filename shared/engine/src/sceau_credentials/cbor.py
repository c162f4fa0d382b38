"""The small part of CBOR (RFC 8949) that ``ecdsa-sd-2023`` proof values use.

An ``ecdsa-sd-2023`` ``proofValue`` is a CBOR array of byte strings, arrays of byte strings,
text strings, unsigned integers and a map from integers to byte strings. Encoding is
deterministic (RFC 8949 §4.2.1 preferred serialization: shortest heads, definite lengths), as
Digital Bazaar's ``cborg`` writes it; decoding refuses everything else (floats, negative numbers,
indefinite lengths, other tags than 64 for a byte string) so that a crafted proof cannot smuggle
in values the cryptosuite never defined. A dependency for ~100 lines was not worth it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

__all__ = ["CborError", "CborValue", "decode", "encode"]

CborValue = int | bytes | str | list["CborValue"] | dict[int, "CborValue"]

_MAX_ITEMS: Final = 1_000_000
_TAG_UINT8_ARRAY: Final = 64
"""RFC 8746 typed array tag some encoders use for a ``Uint8Array`` (read as a byte string)."""


class CborError(ValueError):
    """The bytes are not the CBOR subset described in the module docstring."""


def _head(major: int, argument: int) -> bytes:
    if argument < 24:
        return bytes([major << 5 | argument])
    for extra, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if argument < 1 << (8 * size):
            return bytes([major << 5 | extra]) + argument.to_bytes(size, "big")
    raise CborError("integer too large for CBOR")


def encode(value: object) -> bytes:
    """Encode ``value`` (ints ≥ 0, bytes, str, lists, maps with int keys) deterministically."""
    if isinstance(value, bool):
        raise CborError("booleans are not used by this subset")
    if isinstance(value, int):
        if value < 0:
            raise CborError("negative integers are not used by this subset")
        return _head(0, value)
    if isinstance(value, bytes | bytearray):
        return _head(2, len(value)) + bytes(value)
    if isinstance(value, str):
        data = value.encode("utf-8")
        return _head(3, len(data)) + data
    if isinstance(value, Mapping):
        # Entries are written in insertion order, as cborg does for a JavaScript Map.
        return _head(5, len(value)) + b"".join(
            encode(key) + encode(item) for key, item in value.items()
        )
    if isinstance(value, Sequence):
        return _head(4, len(value)) + b"".join(encode(item) for item in value)
    raise CborError(f"cannot encode {type(value).__name__}")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0

    def take(self, size: int) -> bytes:
        end = self.offset + size
        if end > len(self.data):
            raise CborError("truncated CBOR")
        chunk = self.data[self.offset : end]
        self.offset = end
        return chunk

    def head(self) -> tuple[int, int]:
        initial = self.take(1)[0]
        major, extra = initial >> 5, initial & 0x1F
        if extra < 24:
            return major, extra
        sizes = {24: 1, 25: 2, 26: 4, 27: 8}
        if extra not in sizes:
            raise CborError("indefinite lengths and reserved values are not accepted")
        return major, int.from_bytes(self.take(sizes[extra]), "big")

    def item(self, depth: int = 0) -> CborValue:
        if depth > 16:
            raise CborError("CBOR nested too deeply")
        major, argument = self.head()
        if major == 0:
            return argument
        if major == 2:
            return self.take(argument)
        if major == 3:
            try:
                return self.take(argument).decode("utf-8")
            except UnicodeDecodeError as exc:
                raise CborError("CBOR text string is not UTF-8") from exc
        if major in (4, 5) and argument > _MAX_ITEMS:
            raise CborError("CBOR container too large")
        if major == 4:
            return [self.item(depth + 1) for _ in range(argument)]
        if major == 5:
            entries: dict[int, CborValue] = {}
            for _ in range(argument):
                key = self.item(depth + 1)
                if not isinstance(key, int) or key in entries:
                    raise CborError("CBOR map keys must be distinct unsigned integers")
                entries[key] = self.item(depth + 1)
            return entries
        if major == 6 and argument == _TAG_UINT8_ARRAY:
            inner = self.item(depth + 1)
            if not isinstance(inner, bytes):
                raise CborError("CBOR tag 64 must wrap a byte string")
            return inner
        raise CborError(f"CBOR major type {major} is not accepted here")


def decode(data: bytes) -> CborValue:
    """Decode one CBOR item that must span all of ``data``.

    Raises:
        CborError: malformed, trailing bytes, or outside the accepted subset.
    """
    reader = _Reader(data)
    value = reader.item()
    if reader.offset != len(data):
        raise CborError("trailing bytes after the CBOR item")
    return value
