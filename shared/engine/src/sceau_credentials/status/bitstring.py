"""The status bitstring and its two wire encodings (Bitstring Status List v1.0 and StatusList2021).

Bit order is the one thing that silently breaks status lists, so it is stated once, here: entry
``j`` is bit ``j`` of the bitstring, and bit ``j`` is the ``(j % 8)``-th bit *from the most
significant end* of byte ``j // 8`` ("the first index ... is located at the left-most bit",
Bitstring Status List v1.0 §2.2). Setting index 0 therefore gives first byte ``0x80``; setting
index 7 gives ``0x01``. One widely deployed implementation wrote a whole byte per entry, so that
revoking ``j`` showed ``8j+7`` as revoked to everyone else; the unit and interop tests pin our
order against the Digital Bazaar library.

Encodings (both GZIP, RFC 1952, over the raw bytes):

* Bitstring Status List v1.0: Multibase base64url *without padding*, i.e. ``"u" + base64url``.
* StatusList2021 (W3C CCG): base64url without padding and without a Multibase prefix, as the
  Digital Bazaar and SpruceID (didkit) implementations write it. Decoding is lenient (either
  base64 alphabet, padding optional) because other StatusList2021 issuers vary.

The GZIP header's mtime is fixed to 0 so that the same bits always encode to the same string
(stable ETags, reproducible tests). Decoding refuses anything that inflates past
:data:`MAX_DECODED_BYTES` — an attacker-supplied list must not be a decompression bomb.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib
from collections.abc import Iterator
from typing import Final

from sceau_credentials.status.errors import (
    StatusListLengthError,
    StatusMalformedError,
    StatusRangeError,
)

__all__ = [
    "MAX_DECODED_BYTES",
    "MIN_ENTRIES",
    "Bitstring",
    "decode_bitstring_status_list",
    "decode_status_list_2021",
    "encode_bitstring_status_list",
    "encode_status_list_2021",
]

#: Group-privacy minimum: 16 KiB of bits (both specifications).
MIN_ENTRIES: Final = 131_072
#: Largest uncompressed list accepted when decoding (16 MiB = 134,217,728 entries).
MAX_DECODED_BYTES: Final = 16 * 1024 * 1024
#: Multibase prefix for base64url without padding.
MULTIBASE_BASE64URL: Final = "u"


class Bitstring:
    """A fixed-length bitstring addressed MSB-first, with multi-bit status entries.

    Args:
        length: number of bits; a positive multiple of 8.
    """

    __slots__ = ("_bytes",)

    def __init__(self, length: int = MIN_ENTRIES) -> None:
        if length <= 0 or length % 8:
            raise ValueError(f"bitstring length must be a positive multiple of 8, got {length}")
        self._bytes = bytearray(length // 8)

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> Bitstring:
        """Wrap raw bytes (byte 0 holds entries 0-7, most significant bit first)."""
        if not data:
            raise ValueError("a bitstring needs at least one byte")
        bitstring = cls(8)
        bitstring._bytes = bytearray(data)
        return bitstring

    def __len__(self) -> int:
        return len(self._bytes) * 8

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Bitstring) and self._bytes == other._bytes

    __hash__ = None  # type: ignore[assignment]  # mutable: not hashable

    def __repr__(self) -> str:
        return f"Bitstring(length={len(self)}, set={sum(1 for _ in self.set_bits())})"

    def to_bytes(self) -> bytes:
        """Return the raw bytes."""
        return bytes(self._bytes)

    def _check_bit(self, position: int) -> None:
        if not 0 <= position < len(self):
            raise StatusRangeError(
                f"bit position {position} is outside the bitstring (0..{len(self) - 1})"
            )

    def get_bit(self, position: int) -> bool:
        """Return the bit at ``position`` (0 = left-most bit of byte 0)."""
        self._check_bit(position)
        return bool(self._bytes[position >> 3] & (0x80 >> (position & 7)))

    def set_bit(self, position: int, value: bool) -> None:
        """Set or clear the bit at ``position``."""
        self._check_bit(position)
        mask = 0x80 >> (position & 7)
        if value:
            self._bytes[position >> 3] |= mask
        else:
            self._bytes[position >> 3] &= ~mask & 0xFF

    def entries(self, status_size: int = 1) -> int:
        """Number of status entries of ``status_size`` bits the bitstring holds."""
        _check_status_size(status_size)
        return len(self) // status_size

    def get(self, index: int, status_size: int = 1) -> int:
        """Return the status value of entry ``index`` (bits ``index*size`` onwards, MSB first).

        Raises:
            StatusRangeError: the entry does not fit in the bitstring (spec RANGE_ERROR).
        """
        _check_status_size(status_size)
        start = index * status_size
        if index < 0 or start + status_size > len(self):
            raise StatusRangeError(
                f"status index {index} (size {status_size}) is outside a list of "
                f"{self.entries(status_size)} entries"
            )
        value = 0
        for position in range(start, start + status_size):
            value = (value << 1) | self.get_bit(position)
        return value

    def set(self, index: int, value: int | bool, status_size: int = 1) -> None:
        """Set entry ``index`` to ``value`` (0 clears it; for size 1, ``True``/``1`` sets it)."""
        _check_status_size(status_size)
        value = int(value)
        if not 0 <= value < (1 << status_size):
            raise ValueError(f"status value {value} does not fit in {status_size} bit(s)")
        start = index * status_size
        if index < 0 or start + status_size > len(self):
            raise StatusRangeError(
                f"status index {index} (size {status_size}) is outside a list of "
                f"{self.entries(status_size)} entries"
            )
        for offset in range(status_size):
            bit = (value >> (status_size - 1 - offset)) & 1
            self.set_bit(start + offset, bool(bit))

    def set_bits(self) -> Iterator[int]:
        """Yield the positions of set bits in increasing order (cheap on sparse lists)."""
        for byte_index, byte in enumerate(self._bytes):
            if byte:
                for offset in range(8):
                    if byte & (0x80 >> offset):
                        yield byte_index * 8 + offset

    def compress(self) -> bytes:
        """GZIP the raw bytes with a zero mtime (deterministic output)."""
        return gzip.compress(bytes(self._bytes), compresslevel=9, mtime=0)

    @classmethod
    def decompress(cls, data: bytes, *, max_bytes: int = MAX_DECODED_BYTES) -> Bitstring:
        """Inflate GZIP data into a bitstring, refusing bombs and truncated streams.

        Raises:
            StatusMalformedError: not a complete GZIP stream, empty, or larger than ``max_bytes``.
        """
        inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
        try:
            raw = inflater.decompress(data, max_bytes + 1)
        except zlib.error as exc:
            raise StatusMalformedError(f"encodedList is not valid GZIP data: {exc}") from exc
        if len(raw) > max_bytes or inflater.unconsumed_tail:
            raise StatusMalformedError(
                f"encodedList inflates to more than {max_bytes} bytes; refusing it"
            )
        if not inflater.eof:
            raise StatusMalformedError("encodedList is a truncated GZIP stream")
        if not raw:
            raise StatusMalformedError("encodedList inflates to an empty bitstring")
        return cls.from_bytes(raw)


def _check_status_size(status_size: int) -> None:
    if not 1 <= status_size <= 8:
        raise StatusMalformedError(f"statusSize must be between 1 and 8, got {status_size}")


def _b64url_nopad(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _check_length(bitstring: Bitstring, status_size: int, minimum_entries: int) -> None:
    entries = bitstring.entries(status_size)
    if entries < minimum_entries:
        raise StatusListLengthError(
            f"the status list holds {entries} entries of {status_size} bit(s); the minimum for "
            f"group privacy is {minimum_entries}"
        )


def encode_bitstring_status_list(bitstring: Bitstring) -> str:
    """Encode for ``BitstringStatusList.encodedList``: ``"u"`` + base64url-no-pad(GZIP(bits))."""
    return MULTIBASE_BASE64URL + _b64url_nopad(bitstring.compress())


def decode_bitstring_status_list(
    encoded: str,
    *,
    status_size: int = 1,
    minimum_entries: int = MIN_ENTRIES,
    max_bytes: int = MAX_DECODED_BYTES,
) -> Bitstring:
    """Decode a Bitstring Status List v1.0 ``encodedList`` and check its minimum length.

    Raises:
        StatusMalformedError: wrong Multibase prefix, bad base64url, or bad GZIP.
        StatusListLengthError: fewer than ``minimum_entries`` entries
            (the specification's STATUS_LIST_LENGTH_ERROR).
    """
    if not isinstance(encoded, str) or not encoded.startswith(MULTIBASE_BASE64URL):
        raise StatusMalformedError(
            'encodedList must be a Multibase base64url string starting with "u"'
        )
    body = encoded[1:]
    if not body.rstrip("="):
        raise StatusMalformedError("encodedList is empty")
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StatusMalformedError(f"encodedList is not base64url: {exc}") from exc
    bitstring = Bitstring.decompress(data, max_bytes=max_bytes)
    _check_length(bitstring, status_size, minimum_entries)
    return bitstring


def encode_status_list_2021(bitstring: Bitstring) -> str:
    """Encode for ``StatusList2021.encodedList``: base64url-no-pad(GZIP(bits)), no prefix."""
    return _b64url_nopad(bitstring.compress())


def decode_status_list_2021(
    encoded: str,
    *,
    minimum_entries: int = MIN_ENTRIES,
    max_bytes: int = MAX_DECODED_BYTES,
) -> Bitstring:
    """Decode a StatusList2021 ``encodedList`` (either base64 alphabet, padding optional).

    Raises:
        StatusMalformedError: bad base64 or bad GZIP.
        StatusListLengthError: fewer than ``minimum_entries`` entries.
    """
    if not isinstance(encoded, str) or not encoded:
        raise StatusMalformedError("encodedList must be a non-empty base64 string")
    body = encoded.rstrip("=").replace("-", "+").replace("_", "/")
    try:
        data = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise StatusMalformedError(f"encodedList is not base64: {exc}") from exc
    bitstring = Bitstring.decompress(data, max_bytes=max_bytes)
    _check_length(bitstring, 1, minimum_entries)
    return bitstring
