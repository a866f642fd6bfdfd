"""The driving score: 0-100 per trip, and per month the distance-weighted mean of its trips
(computed in SQL by selectors.monthly_summary).

100 minus a penalty per harsh braking (5), harsh acceleration (3), harsh cornering (3), minute
over the limit (1) and minute at night (0.25), each kind capped (choices.PENALTY). The reasons
are stored as message codes with their numbers and translated when shown (`reason_text`).
"""

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from . import choices as c

REASON_MESSAGES = {
    "harsh_braking": gettext_noop("%(n)d× harsh braking"),
    "harsh_acceleration": gettext_noop("%(n)d× harsh acceleration"),
    "harsh_cornering": gettext_noop("%(n)d× harsh cornering"),
    "speeding": gettext_noop("%(n)d min over the limit"),
    "night": gettext_noop("%(n)d min at night"),
}


def counts_of(trip) -> dict[str, int]:
    """What a trip (a row or the dict from trips.measure) counts per reason code."""

    def get(name):
        return trip[name] if isinstance(trip, dict) else getattr(trip, name)

    return {
        "harsh_braking": get("harsh_brake"),
        "harsh_acceleration": get("harsh_accel"),
        "harsh_cornering": get("harsh_corner"),
        "speeding": int(round(get("speeding_s") / 60)),
        "night": get("night_min"),
    }


def score(counts: dict[str, int]) -> tuple[int, list[dict[str, Any]]]:
    """(score, reasons): reasons are {"code", "n", "points"} for each kind that cost points,
    most costly first."""
    total = 0.0
    reasons: list[dict[str, Any]] = []
    for code in c.REASON_ORDER:
        n = counts.get(code, 0)
        if n <= 0:
            continue
        per, cap = c.PENALTY[code]
        cost = min(per * n, cap)
        total += cost
        reasons.append({"code": code, "n": int(n), "points": round(cost, 1)})
    reasons.sort(key=lambda r: -r["points"])
    return max(0, min(100, int(round(100 - total)))), reasons


def reason_text(reason: dict) -> str:
    """A reason in the reader's language, e.g. "3× harsh braking"."""
    message = REASON_MESSAGES.get(reason.get("code", ""))
    if message is None:
        return ""
    return _(message) % {"n": reason.get("n", 0)}
