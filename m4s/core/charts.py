"""The one chart module of M4S: server-side SVG geometry for every chart, no JavaScript.

A view turns its figures into `Series` and calls `line_chart` or `bar_chart`; the page includes
`core/charts/line.html` or `core/charts/bars.html` with the result. The functions compute
coordinates only (numbers formatted here, so template localisation never touches them); the
templates draw them, with a legend, a `<title>` per point or bar, and an accessible label.

    chart = line_chart(
        [Series(_("CSI"), [81.0, None, 77.5], colour=BRAND)],
        labels=["2026-10", "2026-11", "2026-12"],
        y_min=0, y_max=100, y_step=25, point_labels=True,
    )
    {% include "core/charts/line.html" with chart=chart label=_("CSI, last 3 months") %}
"""

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

BRAND = "var(--brand, #0b6bcb)"  # the store's own colour where a page sets it
PALETTE = (BRAND, "#e67e22", "#2e7d32", "#e0a100", "#8e44ad", "#c0392b")


@dataclass(frozen=True)
class Series:
    """One line or one colour of bars: a name for the legend and values (None: no value)."""

    name: str
    values: Sequence[float | None]
    colour: str = ""
    key: str = ""  # a CSS/test hook, e.g. "csi"


def nice_step(span: float, ticks: int = 4) -> float:
    """A round step (1, 2, 2.5 or 5 × a power of ten) that cuts `span` into about `ticks`."""
    raw = max(float(span) / max(ticks, 1), 1e-9)
    power: float = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power * (1 + 1e-9):
            return factor * power
    return 10 * power  # pragma: no cover - the loop always returns


def _n(value: float) -> str:
    return f"{value:.1f}"


def _number(value: float) -> str:
    """A tick label: whole numbers with thousands separators, else one decimal."""
    if abs(value - round(value)) < 1e-9:
        return f"{int(round(value)):,}"
    return f"{value:,.1f}"


def _colours(series: Sequence[Series]) -> list[str]:
    return [s.colour or PALETTE[i % len(PALETTE)] for i, s in enumerate(series)]


def _axis(low: float, high: float, ticks: int, step: float | None) -> tuple[float, float, float]:
    """Round bounds around [low, high] on a nice step."""
    if high <= low:
        high = low + 1
    step = step or nice_step(high - low, ticks)
    floor = math.floor(low / step + 1e-9) * step
    ceiling = max(math.ceil(high / step - 1e-9) * step, floor + step)
    return floor, ceiling, step


def line_chart(
    series: Sequence[Series],
    *,
    labels: Sequence[str] = (),
    xs: Sequence[float] | None = None,
    x_labels: Sequence[tuple[float, str]] | None = None,
    width: int = 480,
    height: int = 250,
    pad: tuple[int, int, int, int] = (40, 30, 22, 30),
    y_min: float | None = None,
    y_max: float | None = None,
    y_step: float | None = None,
    ticks: int = 4,
    area: bool = False,
    point_labels: bool = False,
    last_label: str = "",
    value_format: Callable[[float], str] = _number,
) -> dict[str, Any]:
    """Lines over categories (`labels`, evenly spaced) or over numbers (`xs`, e.g. days since
    the first reading, spaced in proportion, with `x_labels` as (x, text) marks). A None value
    breaks its line. The y axis spans the data on a nice step unless `y_min`/`y_max` fix it.
    `area` fills under the first series; `last_label` marks its last point."""
    left, right_pad, top, bottom_pad = pad
    right, bottom = width - right_pad, height - bottom_pad
    count = len(xs) if xs is not None else max((len(s.values) for s in series), default=0)
    positions = list(xs) if xs is not None else list(range(count))
    x0 = min(positions, default=0)
    x1 = max(positions, default=1)
    x_span = x1 - x0

    def x(value: float) -> float:
        if x_span == 0:
            return (left + right) / 2
        return left + (right - left) * (value - x0) / x_span

    values = [v for s in series for v in s.values if v is not None]
    low = y_min if y_min is not None else min(values, default=0.0)
    high = y_max if y_max is not None else max(values, default=1.0)
    if y_min is not None and y_max is not None:
        floor, ceiling = float(y_min), float(y_max)
        step = y_step or nice_step(ceiling - floor, ticks)
    else:
        floor, ceiling, step = _axis(low, high, ticks, y_step)
        if y_min is not None:
            floor = float(y_min)
        if y_max is not None:
            ceiling = float(y_max)

    def y(value: float) -> float:
        return bottom - (bottom - top) * (value - floor) / (ceiling - floor)

    drawn: list[dict[str, Any]] = []
    for s, colour in zip(series, _colours(series), strict=True):
        segments: list[list[tuple[float, float]]] = []
        current: list[tuple[float, float]] = []
        points = []
        for position, value in zip(positions, s.values, strict=False):
            if value is None:
                if current:
                    segments.append(current)
                current = []
                continue
            point = (x(position), y(value))
            current.append(point)
            points.append(
                {
                    "x": _n(point[0]),
                    "y": _n(point[1]),
                    "label_y": _n(point[1] - 9),
                    "label": value_format(value),
                }
            )
        if current:
            segments.append(current)
        drawn.append(
            {
                "name": s.name,
                "key": s.key,
                "colour": colour,
                "paths": [" ".join(f"{_n(a)},{_n(b)}" for a, b in seg) for seg in segments],
                "points": points if point_labels else [],
                "count": len(points),
            }
        )
    grid = []
    value = floor
    while value <= ceiling + step / 2:
        grid.append({"y": _n(y(value)), "label": value_format(value), "zero": abs(value) < 1e-9})
        value += step
    if x_labels is None:
        marks = [
            {"x": _n(x(p)), "label": t, "anchor": "middle"}
            for p, t in zip(positions, labels, strict=False)
        ]
    else:
        marks = []
        for p, t in x_labels:
            anchor = "start" if p <= x0 else "end" if p >= x1 else "middle"
            marks.append({"x": _n(x(p)), "label": t, "anchor": anchor})
    chart: dict[str, object] = {
        "w": width,
        "h": height,
        "left": left,
        "right": right,
        "top": top,
        "bottom": bottom,
        "axis_x": left - 6,
        "label_y": height - 8,
        "grid": grid,
        "x_labels": marks,
        "series": drawn,
        "legend": len(series) > 1,
        "empty": not values,
        "area": "",
        "last": None,
    }
    first = drawn[0] if drawn else None
    if first and first["paths"]:
        line: str = first["paths"][-1]
        start_x = line.split(" ", 1)[0].split(",")[0]
        end_x, end_y = line.rsplit(" ", 1)[-1].split(",")
        if area:
            chart["area"] = f"{start_x},{_n(bottom)} {line} {end_x},{_n(bottom)}"
        if last_label:
            ly = float(end_y)
            chart["last"] = {
                "x": end_x,
                "y": end_y,
                "label_y": _n(ly - 10 if ly - 10 > top - 10 else ly + 18),
                "label": last_label,
            }
    return chart


def bar_chart(
    series: Sequence[Series],
    *,
    labels: Sequence[str],
    width: int = 720,
    height: int = 280,
    pad: tuple[int, int, int, int] = (56, 16, 20, 36),
    ticks: int = 4,
    value_format: Callable[[float], str] = _number,
) -> dict[str, Any]:
    """Grouped bars: one group per label, one bar per series (values ≥ 0; None counts as 0)."""
    left, right_pad, top, bottom_pad = pad
    right, bottom = width - right_pad, height - bottom_pad
    groups_n = max(len(labels), 1)
    per_group = max(len(series), 1)
    peak = max([v or 0 for s in series for v in s.values] + [0])
    step = nice_step(peak, ticks) if peak else 1
    ceiling = step * math.ceil(peak / step) if peak else ticks
    scale = (bottom - top) / ceiling
    group_w = (right - left) / groups_n
    bar_w = min(28.0, (group_w - 16) / per_group)
    colours = _colours(series)
    groups = []
    for i, label in enumerate(labels):
        start = left + i * group_w + (group_w - per_group * bar_w - (per_group - 1) * 4) / 2
        bars = []
        for j, (s, colour) in enumerate(zip(series, colours, strict=True)):
            value = (s.values[i] if i < len(s.values) else 0) or 0
            h = value * scale
            bars.append(
                {
                    "name": s.name,
                    "key": s.key,
                    "colour": colour,
                    "value": value,
                    "label": value_format(value),
                    "x": _n(start + j * (bar_w + 4)),
                    "y": _n(bottom - h),
                    "w": _n(bar_w),
                    "h": _n(h),
                    "label_y": _n(bottom - h - 4),
                }
            )
        groups.append({"label": label, "x": _n(left + (i + 0.5) * group_w), "bars": bars})
    grid = []
    value = 0.0
    while value <= ceiling + step / 2:
        grid.append(
            {"y": _n(bottom - value * scale), "label": value_format(value), "zero": not value}
        )
        value += step
    return {
        "w": width,
        "h": height,
        "left": left,
        "right": right,
        "bottom": bottom,
        "axis_x": left - 8,
        "label_y": height - 12,
        "grid": grid,
        "groups": groups,
        "legend": [
            {"name": s.name, "key": s.key, "colour": c}
            for s, c in zip(series, colours, strict=True)
        ],
        "empty": peak == 0,
    }
