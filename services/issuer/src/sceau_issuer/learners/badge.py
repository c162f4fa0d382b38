"""The baked badge: the achievement's PNG image with the signed credential inside (OB baking).

Only images the institution gave inline (``data:image/png;base64,...``) are baked: fetching a
remote image on a learner's request would let anyone make the issuer call arbitrary URLs.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from sceau_credentials.baking import bake_png

PNG_DATA = "data:image/png;base64,"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def inline_png(image_url: str | None) -> bytes | None:
    """The PNG bytes of an inline ``data:`` image URL, else None."""
    if not image_url or not image_url.startswith(PNG_DATA):
        return None
    try:
        data = base64.b64decode(image_url[len(PNG_DATA) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return data if data.startswith(PNG_SIGNATURE) else None


def baked_png(image: bytes, signed: dict[str, Any] | str) -> bytes:
    """The image with the signed credential baked in (an ``iTXt`` ``openbadgecredential``)."""
    return bake_png(image, signed)
