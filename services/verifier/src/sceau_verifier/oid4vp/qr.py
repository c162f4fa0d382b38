"""The QR code of a presentation request (segno: pure Python, inline SVG, no browser needed)."""

from __future__ import annotations

import html
import io

import segno

__all__ = ["qr_svg"]


def qr_svg(content: str, *, title: str) -> str:
    """An inline SVG QR code announced as one image named ``title`` (role and label on ``svg``)."""
    code = segno.make(content, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, xmldecl=False, svgns=True, title=title, omitsize=True)
    label = html.escape(title, quote=True)
    return out.getvalue().decode().replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
