"""QR codes of share links (segno: pure Python, SVG and PNG without a browser)."""

from __future__ import annotations

import html
import io

import segno


def qr_svg(url: str, *, title: str | None = None) -> str:
    """An inline SVG QR code (no XML declaration, scales with CSS).

    With a ``title`` the image is announced as one picture with that name (role and label on
    the ``svg`` element itself, so assistive technologies see one image, not two).
    """
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, xmldecl=False, svgns=True, title=title, omitsize=True)
    svg = out.getvalue().decode()
    if title:
        label = html.escape(title, quote=True)
        svg = svg.replace("<svg ", f'<svg role="img" aria-label="{label}" ', 1)
    return svg


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """A PNG QR code, large enough to print."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
