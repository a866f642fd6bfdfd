"""Pictures made for the content demo, drawn in code with Pillow (no files shipped, no third-party
artwork): flat illustrations of a diagonal gradient, soft circles, a horizon and a simple glyph
(car, bowl, moon, map pin, book, shield, price tag, train, shirt, compass, megaphone, wrench,
bulb, mountains) in white with a soft shadow."""

import io
import math
import random

from PIL import Image, ImageDraw, ImageFilter, ImageOps

W, H = 960, 540

PALETTES = {
    "car": ("#0b6bcb", "#12233a"),
    "bowl": ("#f4a259", "#bc4b51"),
    "moon": ("#3d348b", "#0b0a2a"),
    "pin": ("#f25f5c", "#7a1f2b"),
    "book": ("#2a9d8f", "#1d3557"),
    "shield": ("#457b9d", "#1d3557"),
    "tag": ("#f6bd60", "#e76f51"),
    "train": ("#00a6a6", "#0b3954"),
    "shirt": ("#ff7eb6", "#6a0572"),
    "compass": ("#8ac926", "#1b5e20"),
    "megaphone": ("#ff595e", "#6a040f"),
    "wrench": ("#6c757d", "#212529"),
    "bulb": ("#ffca3a", "#d1495b"),
    "mountains": ("#4cc9f0", "#3a0ca3"),
}


def _hex(colour: str) -> tuple[int, int, int]:
    colour = colour.lstrip("#")
    return int(colour[0:2], 16), int(colour[2:4], 16), int(colour[4:6], 16)


def _gradient(top: str, bottom: str, size=(W, H)) -> Image.Image:
    w, h = size
    side = 2 * max(w, h)
    big = Image.linear_gradient("L").resize((side, side)).rotate(-35)
    left, top_ = (side - w) // 2, (side - h) // 2
    mask = ImageOps.autocontrast(big.crop((left, top_, left + w, top_ + h)))
    return Image.composite(
        Image.new("RGB", size, _hex(bottom)), Image.new("RGB", size, _hex(top)), mask
    )


def _glyph(kind: str, size=(W, H)) -> Image.Image:
    """The glyph as an L mask (255 = white), centred a little right of the middle."""
    m = Image.new("L", size, 0)
    d = ImageDraw.Draw(m)
    cx, cy, s = size[0] * 0.62, size[1] * 0.52, min(size) / 540
    on, off = 255, 0

    def box(x0, y0, x1, y1):
        return (cx + x0 * s, cy + y0 * s, cx + x1 * s, cy + y1 * s)

    def pts(*xy):
        return [(cx + x * s, cy + y * s) for x, y in xy]

    if kind == "car":
        d.rounded_rectangle(box(-190, -20, 190, 70), radius=int(36 * s), fill=on)
        d.polygon(pts((-110, -20), (-60, -95), (80, -95), (135, -20)), fill=on)
        d.polygon(pts((-85, -28), (-50, -80), (0, -80), (0, -28)), fill=off)
        d.polygon(pts((15, -28), (15, -80), (70, -80), (108, -28)), fill=off)
        for x in (-110, 110):
            d.ellipse(box(x - 48, 22, x + 48, 118), fill=off)
            d.ellipse(box(x - 38, 32, x + 38, 108), fill=on)
            d.ellipse(box(x - 14, 56, x + 14, 84), fill=off)
    elif kind == "bowl":
        d.pieslice(box(-170, -110, 170, 170), 0, 180, fill=on)
        d.rounded_rectangle(box(-60, 160, 60, 180), radius=int(8 * s), fill=on)
        d.line(pts((40, -150), (190, 0)), fill=on, width=int(14 * s))
        d.line(pts((80, -160), (215, -20)), fill=on, width=int(14 * s))
        for x in (-90, -30, 30):
            d.arc(box(x - 20, -130, x + 20, -40), 90, 270, fill=on, width=int(10 * s))
    elif kind == "moon":
        d.ellipse(box(-140, -140, 140, 140), fill=on)
        d.ellipse(box(-70, -175, 200, 95), fill=off)
        rng = random.Random(3)
        for _ in range(7):
            x, y, r = rng.randint(60, 230), rng.randint(-170, 170), rng.randint(5, 11)
            d.ellipse(box(x - r, y - r, x + r, y + r), fill=on)
    elif kind == "pin":
        d.ellipse(box(-110, -190, 110, 30), fill=on)
        d.polygon(pts((-95, -30), (95, -30), (0, 170)), fill=on)
        d.ellipse(box(-45, -125, 45, -35), fill=off)
        d.ellipse(box(-170, 150, 170, 190), outline=on, width=int(8 * s))
    elif kind == "book":
        d.rounded_rectangle(box(-200, -120, -8, 130), radius=int(14 * s), fill=on)
        d.rounded_rectangle(box(8, -120, 200, 130), radius=int(14 * s), fill=on)
        for y in (-70, -30, 10, 50):
            d.line(pts((-170, y), (-40, y)), fill=off, width=int(8 * s))
            d.line(pts((40, y), (170, y)), fill=off, width=int(8 * s))
    elif kind == "shield":
        d.polygon(
            pts((0, -170), (150, -115), (140, 40), (0, 170), (-140, 40), (-150, -115)), fill=on
        )
        d.line(pts((-60, 0), (-15, 50), (70, -50)), fill=off, width=int(24 * s), joint="curve")
    elif kind == "tag":
        poly = [(-60, -150), (150, -150), (150, 60), (-10, 220), (-220, 10)]
        a = math.radians(-10)
        d.polygon(
            pts(
                *[
                    (x * math.cos(a) - y * math.sin(a), x * math.sin(a) + y * math.cos(a))
                    for x, y in poly
                ]
            ),
            fill=on,
        )
        d.ellipse(box(60, -120, 110, -70), fill=off)
    elif kind == "train":
        d.rounded_rectangle(box(-120, -180, 120, 110), radius=int(50 * s), fill=on)
        d.rounded_rectangle(box(-85, -135, 85, -30), radius=int(16 * s), fill=off)
        for x in (-65, 65):
            d.ellipse(box(x - 18, 40, x + 18, 76), fill=off)
        d.line(pts((-80, 110), (-140, 190)), fill=on, width=int(14 * s))
        d.line(pts((80, 110), (140, 190)), fill=on, width=int(14 * s))
        d.line(pts((-115, 160), (115, 160)), fill=on, width=int(10 * s))
    elif kind == "shirt":
        d.polygon(
            pts(
                (-60, -160),
                (-200, -100),
                (-160, -10),
                (-110, -35),
                (-110, 170),
                (110, 170),
                (110, -35),
                (160, -10),
                (200, -100),
                (60, -160),
                (0, -100),
            ),
            fill=on,
        )
    elif kind == "compass":
        d.ellipse(box(-170, -170, 170, 170), fill=on)
        d.ellipse(box(-140, -140, 140, 140), fill=off)
        d.polygon(pts((0, -120), (35, 0), (0, 120), (-35, 0)), fill=on)
        d.ellipse(box(-16, -16, 16, 16), fill=off)
    elif kind == "megaphone":
        d.polygon(pts((-150, -40), (110, -150), (110, 150), (-150, 40)), fill=on)
        d.rounded_rectangle(box(-190, -55, -130, 55), radius=int(12 * s), fill=on)
        d.polygon(pts((-120, 40), (-60, 40), (-30, 150), (-90, 150)), fill=on)
        for r in (170, 215):
            d.arc(box(-r + 60, -r + 0, r + 60, r), -30, 30, fill=on, width=int(12 * s))
    elif kind == "wrench":
        d.line(pts((-150, 150), (60, -60)), fill=on, width=int(56 * s))
        d.ellipse(box(10, -200, 190, -20), fill=on)
        d.polygon(pts((95, -110), (170, -230), (260, -130)), fill=off)
        d.ellipse(box(-175, 125, -125, 175), fill=off)
    elif kind == "bulb":
        d.ellipse(box(-130, -190, 130, 70), fill=on)
        d.rectangle(box(-65, 40, 65, 120), fill=on)
        d.rounded_rectangle(box(-55, 125, 55, 155), radius=int(10 * s), fill=on)
        d.line(pts((-30, 0), (0, -50), (30, 0)), fill=off, width=int(10 * s))
    else:  # mountains
        d.polygon(pts((-240, 160), (-70, -120), (90, 160)), fill=on)
        d.polygon(pts((-20, 160), (120, -40), (250, 160)), fill=on)
        d.polygon(pts((-70, -120), (-115, -45), (-25, -45)), fill=off)
        d.ellipse(box(150, -190, 230, -110), fill=on)
    return m


def picture(kind: str, seed: int = 0, size=(W, H)) -> bytes:
    """A PNG illustration for `kind` (a key of PALETTES); `seed` varies the background."""
    top, bottom = PALETTES.get(kind, PALETTES["car"])
    img = _gradient(top, bottom, size).convert("RGBA")
    rng = random.Random(f"{kind}-{seed}")
    overlay = Image.new("RGBA", size, (0, 0, 0, 0))
    d = ImageDraw.Draw(overlay)
    w, h = size
    for _ in range(5):
        r = rng.randint(h // 6, h // 2)
        x, y = rng.randint(-r, w), rng.randint(-r, h)
        d.ellipse((x, y, x + 2 * r, y + 2 * r), fill=(255, 255, 255, rng.randint(14, 34)))
    d.rectangle((0, int(h * 0.82), w, h), fill=(0, 0, 0, 40))  # a horizon band
    d.rounded_rectangle(
        (int(w * 0.06), int(h * 0.12), int(w * 0.30), int(h * 0.16)),
        radius=8,
        fill=(255, 255, 255, 200),
    )
    d.rounded_rectangle(
        (int(w * 0.06), int(h * 0.20), int(w * 0.22), int(h * 0.235)),
        radius=8,
        fill=(255, 255, 255, 120),
    )
    img = Image.alpha_composite(img, overlay)
    mask = _glyph(kind, size)
    shadow = mask.filter(ImageFilter.GaussianBlur(14)).point(lambda v: v * 0.35)
    dark = Image.new("RGBA", size, (0, 0, 0, 255))
    img.paste(dark, (10, 14), shadow)
    img.paste(Image.new("RGBA", size, (255, 255, 255, 255)), (0, 0), mask)
    out = io.BytesIO()
    img.convert("RGB").save(out, "PNG", optimize=True)
    return out.getvalue()
