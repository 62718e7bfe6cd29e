"""Codes a member shows at the desk or to a friend, drawn server-side as SVG images.

QR codes with `segno`, Code 128 barcodes with `python-barcode`: both pure Python, both
maintained. Images (not inline SVG) so the strict CSP needs no style exceptions.
"""

from __future__ import annotations

import io

import barcode
import segno
from barcode.writer import SVGWriter


def qr_svg(text: str, *, title: str) -> bytes:
    out = io.BytesIO()
    segno.make(text, error="m").save(
        out,
        kind="svg",
        scale=8,
        border=4,
        xmldecl=False,
        omitsize=True,  # a viewBox only: the image scales to the width the page gives it
        title=title,
    )
    return out.getvalue()


def barcode_svg(text: str) -> bytes:
    out = io.BytesIO()
    code128 = barcode.get("code128", text, writer=SVGWriter())
    code128.write(out, options={"write_text": False, "module_height": 22.0, "quiet_zone": 4})
    return out.getvalue()
