"""QR codes of share links (segno: pure Python, SVG and PNG without a browser)."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, *, title: str | None = None) -> str:
    """An inline SVG QR code (no XML declaration, scales with CSS)."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="svg", scale=4, xmldecl=False, svgns=True, title=title, omitsize=True)
    return out.getvalue().decode()


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """A PNG QR code, large enough to print."""
    code = segno.make(url, error="m")
    out = io.BytesIO()
    code.save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
