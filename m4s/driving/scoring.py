"""The driving score: 0-100 per trip, and per month the distance-weighted mean of its trips.

100 minus a penalty per harsh braking (5), harsh acceleration (3), harsh cornering (3), minute
over the limit (1) and minute at night (0.25), each kind capped (choices.PENALTY). The reasons
are stored as message codes with their numbers and translated when shown (`reason_text`).
"""

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


def score(counts: dict[str, int]) -> tuple[int, list[dict]]:
    """(score, reasons): reasons are {"code", "n", "points"} for each kind that cost points,
    most costly first."""
    total = 0.0
    reasons = []
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


def month_score(rows) -> tuple[int | None, list[dict]]:
    """The month's score from its closed trips (rows with score, distance_km and the counts):
    the distance-weighted mean; reasons summed over the trips, with the points they cost."""
    rows = list(rows)
    km = sum(r.distance_km for r in rows)
    if not rows or km <= 0:
        return None, []
    value = sum(r.score * r.distance_km for r in rows) / km
    totals: dict[str, int] = {}
    for r in rows:
        for code, n in counts_of(r).items():
            totals[code] = totals.get(code, 0) + n
    reasons = [
        {"code": code, "n": totals[code]} for code in c.REASON_ORDER if totals.get(code, 0) > 0
    ]
    reasons.sort(key=lambda r: -min(c.PENALTY[r["code"]][0] * r["n"], 10_000))
    return int(round(value)), reasons
