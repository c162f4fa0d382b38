"""PNG baking (Open Badges 3.0 §5.3.1): an uncompressed ``iTXt`` chunk ``openbadgecredential``.

A PNG is a signature followed by chunks (length, type, data, CRC-32 of type and data). Baking
removes any earlier ``openbadgecredential`` chunk (the spec allows one only and lets the baker
overwrite it) and inserts the new one just before ``IEND``; every other chunk is kept byte for
byte. Extraction reads chunks until the first ``openbadgecredential`` ``iTXt`` and checks the CRC
of every chunk it reads, so a damaged file is reported rather than misread.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator, Mapping
from typing import Any, Final

from sceau_credentials.baking.common import (
    BakedCredential,
    BakingError,
    parse_payload,
    serialize_payload,
)

__all__ = ["KEYWORD", "bake_png", "extract_png"]

KEYWORD: Final = b"openbadgecredential"
_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"
_MAX_CHUNK: Final = 2**31 - 1


def _chunks(image: bytes) -> Iterator[tuple[bytes, bytes, int, int]]:
    """Yield ``(type, data, start, end)`` for each chunk, checking lengths and CRCs."""
    if not image.startswith(_SIGNATURE):
        raise BakingError("not a PNG image (bad signature)")
    offset = len(_SIGNATURE)
    while offset < len(image):
        if offset + 12 > len(image):
            raise BakingError("truncated PNG chunk")
        (length,) = struct.unpack(">I", image[offset : offset + 4])
        if length > _MAX_CHUNK or offset + 12 + length > len(image):
            raise BakingError("PNG chunk length runs past the end of the file")
        kind = image[offset + 4 : offset + 8]
        data = image[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", image[offset + 8 + length : offset + 12 + length])
        if zlib.crc32(kind + data) != crc:
            raise BakingError(f"PNG chunk {kind.decode('latin-1')!r} has a bad CRC")
        end = offset + 12 + length
        yield kind, data, offset, end
        if kind == b"IEND":
            return
        offset = end
    raise BakingError("PNG has no IEND chunk")


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _is_credential_chunk(kind: bytes, data: bytes) -> bool:
    return kind == b"iTXt" and data.split(b"\0", 1)[0] == KEYWORD


def bake_png(image: bytes, credential: Mapping[str, Any] | str) -> bytes:
    """Return ``image`` with ``credential`` baked in (replacing any credential already there).

    Raises:
        BakingError: not a well-formed PNG, or not a credential.
    """
    text = serialize_payload(credential).encode("utf-8")
    # keyword, NUL, compression flag 0, method 0, empty language tag, NUL, empty translation, NUL
    chunk = _chunk(b"iTXt", KEYWORD + b"\0\0\0" + b"\0" + b"\0" + text)
    parts = [_SIGNATURE]
    for kind, data, start, end in _chunks(image):
        if _is_credential_chunk(kind, data):
            continue
        if kind == b"IEND":
            parts.append(chunk)
        parts.append(image[start:end])
    return b"".join(parts)


def extract_png(image: bytes) -> BakedCredential:
    """Return the credential baked into a PNG (JSON object or compact VC-JWT).

    Raises:
        BakingError: not a PNG, no baked credential, compressed text, or malformed content.
    """
    for kind, data, _, _ in _chunks(image):
        if not _is_credential_chunk(kind, data):
            continue
        rest = data[len(KEYWORD) + 1 :]
        if len(rest) < 2:
            raise BakingError("truncated openbadgecredential iTXt chunk")
        if rest[0] != 0:
            raise BakingError("the openbadgecredential chunk is compressed (the spec forbids it)")
        fields = rest[2:].split(b"\0", 2)
        if len(fields) != 3:
            raise BakingError("malformed openbadgecredential iTXt chunk")
        try:
            text = fields[2].decode("utf-8")
        except UnicodeDecodeError as exc:
            raise BakingError("the openbadgecredential text is not UTF-8") from exc
        return parse_payload(text, "PNG openbadgecredential chunk")
    raise BakingError("the PNG has no baked Open Badges credential")
