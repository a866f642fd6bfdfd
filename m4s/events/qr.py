"""A ticket's QR code, drawn on the server with segno (pure Python): SVG for pages and the API,
PNG for downloads."""

import io

import segno


def ticket_svg(token: str, *, scale: int = 6) -> str:
    qr = segno.make(token, error="m")
    return qr.svg_inline(scale=scale, border=2, dark="#111", light="#fff")


def ticket_png(token: str, *, scale: int = 8) -> bytes:
    out = io.BytesIO()
    segno.make(token, error="m").save(out, kind="png", scale=scale, border=2)
    return out.getvalue()
