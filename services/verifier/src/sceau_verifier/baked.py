"""Baked badges: reading the credential a PNG or SVG badge carries, for the API and the page.

Open Badges 3.0 §5.3 lets a badge image carry its credential (a PNG ``iTXt`` chunk
``openbadgecredential``, an SVG ``<openbadges:credential>`` element). The engine
(:mod:`sceau_credentials.baking`) extracts it; this module decides when a submission is an
image, bounds it, and turns every way an image can be unusable into a 400 problem with the
explanation in French and English. Baking proves nothing: what is extracted is verified like
any pasted credential, so a tampered image fails its proof check, not this step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from sceau_credentials.baking import BakingError, extract_png, extract_svg
from sceau_shared.errors import BadRequest
from sceau_verifier.i18n import text
from sceau_verifier.inputs import Submission, check_depth, submission_from_value
from sceau_verifier.schemas import Lang

__all__ = [
    "IMAGE_MEDIA_TYPES",
    "MAX_IMAGE_BYTES",
    "BakedBadgeUnreadable",
    "Unbaked",
    "image_kind",
    "unbake",
]

ImageKind = Literal["png", "svg"]

#: Media types ``POST /v1/verify`` reads as a baked badge.
IMAGE_MEDIA_TYPES: Final = {"image/png": "png", "image/svg+xml": "svg"}
#: Largest badge image read (a badge is a small picture plus a few kilobytes of credential).
MAX_IMAGE_BYTES: Final = 1_048_576

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


class BakedBadgeUnreadable(BadRequest):
    """The image holds no readable credential (not a PNG/SVG, damaged, nothing baked in)."""

    type_suffix = "baked-badge-unreadable"
    title = "Unreadable baked badge"

    def __init__(self, key: str, lang: Lang, technical: str | None = None) -> None:
        fr, en = text(key, "fr"), text(key, "en")
        extra: dict[str, object] = {"detail_fr": fr, "detail_en": en, "reason": key}
        if technical:
            extra["technical"] = technical
        super().__init__(fr if lang == "fr" else en, extra=extra)


@dataclass(frozen=True)
class Unbaked:
    """What a badge image carried, ready to verify."""

    submission: Submission
    kind: ImageKind


def image_kind(raw: bytes, media_type: str | None) -> ImageKind | None:
    """``png``/``svg`` when the bytes (or their declared media type) are a badge image.

    Content wins over the declared type for uploads (browsers label files loosely): a PNG
    signature is a PNG; an XML document whose root looks like ``<svg`` is an SVG.
    """
    if raw.startswith(_PNG_SIGNATURE):
        return "png"
    declared = IMAGE_MEDIA_TYPES.get((media_type or "").split(";", 1)[0].strip().lower())
    if declared is not None:
        return declared  # type: ignore[return-value]
    head = raw[:2048].lstrip().lower()
    if head.startswith(b"<svg") or (head.startswith((b"<?xml", b"<!--")) and b"<svg" in head):
        return "svg"
    return None


def unbake(raw: bytes, kind: ImageKind, *, lang: Lang, max_depth: int) -> Unbaked:
    """Extract the credential baked into ``raw`` (a ``kind`` image).

    Raises:
        BakedBadgeUnreadable: too large, not that kind of image, damaged, no credential inside,
            or a credential nested deeper than any credential is.
    """
    if len(raw) > MAX_IMAGE_BYTES:
        raise BakedBadgeUnreadable("baked_too_large", lang)
    try:
        carried = extract_png(raw) if kind == "png" else extract_svg(raw)
    except BakingError as exc:
        message = str(exc)
        key = "baked_nothing_inside" if "has no baked" in message else "baked_unreadable"
        raise BakedBadgeUnreadable(key, lang, message) from exc
    if isinstance(carried, dict):
        try:
            check_depth(carried, max_depth)
        except BadRequest as exc:
            raise BakedBadgeUnreadable("baked_unreadable", lang, exc.detail) from exc
    return Unbaked(submission_from_value(carried), kind)
