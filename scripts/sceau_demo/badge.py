"""The capstone's badge image: a small PNG drawn with the standard library alone.

The issuer bakes the signed credential into the achievement's image when the image is an inline
PNG (``data:image/png;base64,...``): the demo needs one, and drawing a disc in a ring keeps the
demo free of an imaging library.
"""

from __future__ import annotations

import base64
import struct
import zlib

NAVY = (11, 79, 156)
GOLD = (214, 160, 33)
WHITE = (255, 255, 255)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def badge_png(size: int = 96) -> bytes:
    """A navy disc in a gold ring on white, ``size`` pixels square (8-bit RGB PNG)."""
    centre = (size - 1) / 2
    outer, inner = size * 0.48, size * 0.40
    rows = []
    for y in range(size):
        row = bytearray(b"\x00")  # filter type 0 (none) for every scanline
        for x in range(size):
            distance = ((x - centre) ** 2 + (y - centre) ** 2) ** 0.5
            row += bytes(NAVY if distance <= inner else GOLD if distance <= outer else WHITE)
        rows.append(bytes(row))
    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)
    return b"".join(
        (
            b"\x89PNG\r\n\x1a\n",
            _chunk(b"IHDR", header),
            _chunk(b"IDAT", zlib.compress(b"".join(rows), 9)),
            _chunk(b"IEND", b""),
        )
    )


def badge_data_url() -> str:
    """The badge as the inline ``data:`` URL an achievement's ``image_url`` takes."""
    return "data:image/png;base64," + base64.b64encode(badge_png()).decode("ascii")
