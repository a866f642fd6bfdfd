"""SVG icons (Lucide, ISC licence, vendored under static/m4s/icons/lucide/) drawn inline.

Emoji are not used as icons: a machine without an emoji font shows them as empty boxes. The
templates write `{% icon "house" %}`; navigation and data that still carry an emoji (the icon a
manager typed for a reward or a badge) go through `EMOJI_ICONS` to the nearest Lucide icon.
"""

import re
from functools import cache
from pathlib import Path

from django.utils.html import format_html
from django.utils.safestring import mark_safe

LUCIDE_DIR = Path(__file__).resolve().parent / "static" / "m4s" / "icons" / "lucide"
_NAME = re.compile(r"^[a-z0-9-]{1,40}$")
_BODY = re.compile(r"<svg[^>]*>(.*)</svg>", re.S)

# Emoji found in stored data (reward and badge icons, the loyalty starter set) -> Lucide name.
EMOJI_ICONS = {
    "🎁": "gift",
    "🏅": "medal",
    "🏆": "trophy",
    "🚿": "shower-head",
    "🌬": "wind",
    "☕": "coffee",
    "✨": "sparkles",
    "🫧": "droplets",
    "⏱": "timer",
    "🧭": "compass",
    "🚗": "car",
    "🔧": "wrench",
    "🛠": "hammer",
    "🎟": "ticket",
    "⭐": "star",
    "🥇": "medal",
    "🥈": "medal",
    "🥉": "medal",
    "👑": "crown",
    "🎯": "target",
    "📦": "package",
    "💳": "credit-card",
    "🧾": "receipt",
}


@cache
def _svg_body(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"bad icon name {name!r}")
    match = _BODY.search((LUCIDE_DIR / f"{name}.svg").read_text(encoding="utf-8"))
    if match is None:
        raise ValueError(f"no SVG body in icon {name!r}")
    return " ".join(match.group(1).split())


def icon(name: str, label: str = "") -> str:
    """One icon as inline SVG; decorative (aria-hidden) unless a label is given."""
    a11y = format_html(' role="img" aria-label="{}"', label) if label else ' aria-hidden="true"'
    return mark_safe(  # noqa: S308 - the body is our own vendored file, the name is checked
        f'<svg class="i i-{name}" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" '
        f'fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" '
        f'stroke-linejoin="round" focusable="false"{a11y}>{_svg_body(name)}</svg>'
    )


def icon_name_for(value: str, default: str) -> str:
    """A Lucide name for a stored icon value: a Lucide name as is, a known emoji mapped."""
    value = (value or "").replace("\ufe0f", "").strip()
    if _NAME.match(value) and (LUCIDE_DIR / f"{value}.svg").is_file():
        return value
    return EMOJI_ICONS.get(value, default)
