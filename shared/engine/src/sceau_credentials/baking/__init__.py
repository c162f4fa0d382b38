"""Baked badges (Open Badges 3.0 §5.3): a credential carried inside its own PNG or SVG image.

Baking only *carries* a credential; it proves nothing. Whoever extracts one must verify it like
any other credential (:func:`sceau_credentials.verification.verify`), which is how a tampered
image is caught.
"""

from sceau_credentials.baking.common import BakedCredential, BakingError
from sceau_credentials.baking.png import bake_png, extract_png
from sceau_credentials.baking.svg import bake_svg, extract_svg

__all__ = [
    "BakedCredential",
    "BakingError",
    "bake",
    "bake_png",
    "bake_svg",
    "extract",
    "extract_png",
    "extract_svg",
]

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def bake(image: bytes, credential: BakedCredential) -> bytes:
    """Bake ``credential`` into a PNG or SVG image, recognised by its content."""
    if image.startswith(_PNG_SIGNATURE):
        return bake_png(image, credential)
    return bake_svg(image, credential)


def extract(image: bytes) -> BakedCredential:
    """Extract the credential baked into a PNG or SVG image, recognised by its content."""
    if image.startswith(_PNG_SIGNATURE):
        return extract_png(image)
    return extract_svg(image)
