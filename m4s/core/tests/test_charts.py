"""The shared chart module: geometry that a page can trust."""

import pytest
from django.template.loader import render_to_string

from m4s.core.charts import Series, bar_chart, line_chart, nice_step


@pytest.mark.parametrize(
    "span,ticks,step",
    [(100, 4, 25), (1000, 4, 250), (7, 3, 2.5), (0.9, 3, 0.5), (12_345, 3, 5000), (1, 1, 1)],
)
def test_nice_step_is_round_and_covers_the_span(span, ticks, step):
    assert nice_step(span, ticks) == pytest.approx(step)
    assert nice_step(span, ticks) * ticks >= span


def coords(path: str) -> list[tuple[float, float]]:
    return [tuple(map(float, p.split(","))) for p in path.split()]


def test_line_chart_scales_values_into_the_plot_and_breaks_at_gaps():
    chart = line_chart(
        [Series("CSI", [100, None, 50, 0], key="csi")],
        labels=["a", "b", "c", "d"],
        width=200,
        height=120,
        pad=(20, 20, 10, 10),
        y_min=0,
        y_max=100,
        point_labels=True,
    )
    (s,) = chart["series"]
    assert len(s["paths"]) == 2  # the None splits the line
    first, rest = coords(s["paths"][0]), coords(s["paths"][1])
    assert first == [(20.0, 10.0)]  # 100 at the top of the plot, first category at the left
    assert rest == [(126.7, 60.0), (180.0, 110.0)]  # 50 half-way up, 0 on the bottom edge
    assert [p["label"] for p in s["points"]] == ["100", "50", "0"]
    assert [g["label"] for g in chart["grid"]] == ["0", "25", "50", "75", "100"]
    assert [m["label"] for m in chart["x_labels"]] == ["a", "b", "c", "d"]
    assert chart["empty"] is False and chart["legend"] is False


def test_line_chart_over_numbers_spaces_points_in_proportion_and_marks_the_last():
    chart = line_chart(
        [Series("km", [1000, 1010, 1100])],
        xs=[0, 1, 10],
        x_labels=[(0, "05-01"), (10, "05-11")],
        width=110,
        height=100,
        pad=(10, 0, 0, 0),
        area=True,
        last_label="1,100 km",
    )
    xs = [x for x, _y in coords(chart["series"][0]["paths"][0])]
    assert xs == [10.0, 20.0, 110.0]
    assert chart["last"]["label"] == "1,100 km" and chart["last"]["x"] == "110.0"
    assert chart["area"].startswith("10.0,100.0 ") and chart["area"].endswith(" 110.0,100.0")
    assert [m["anchor"] for m in chart["x_labels"]] == ["start", "end"]
    ys = [float(g["label"].replace(",", "")) for g in chart["grid"]]
    assert ys[0] <= 1000 and ys[-1] >= 1100  # the axis covers the data


def test_an_empty_chart_says_so():
    chart = line_chart([Series("CSI", [None, None])], labels=["a", "b"])
    assert chart["empty"] is True and chart["series"][0]["paths"] == []
    assert bar_chart([Series("x", [0, 0])], labels=["a", "b"])["empty"] is True


def test_bars_are_proportional_and_grouped():
    chart = bar_chart(
        [Series("issued", [100, 50]), Series("redeemed", [25, 0])],
        labels=["2026-11", "2026-12"],
        width=400,
        height=220,
        pad=(40, 0, 20, 20),
    )
    (nov, dec) = chart["groups"]
    heights = [float(b["h"]) for b in nov["bars"]]
    assert heights[0] == pytest.approx(4 * heights[1])
    assert float(nov["bars"][0]["y"]) + heights[0] == pytest.approx(200)  # standing on the axis
    assert float(dec["bars"][1]["h"]) == 0 and dec["bars"][1]["value"] == 0
    assert float(nov["bars"][0]["x"]) < float(nov["bars"][1]["x"]) < float(dec["bars"][0]["x"])
    assert [s["name"] for s in chart["legend"]] == ["issued", "redeemed"]


def test_templates_draw_every_series_and_label():
    chart = line_chart(
        [Series("CSI", [80, 90], key="csi"), Series("NPS", [10, -5], key="nps")],
        labels=["2026-11", "2026-12"],
        point_labels=True,
    )
    html = render_to_string("core/charts/line.html", {"chart": chart, "label": "CSI and NPS"})
    assert html.count("<polyline") == 2 and 'aria-label="CSI and NPS"' in html
    assert "2026-12" in html and ">-5<" in html and "m4s-legend" in html
    bars = bar_chart([Series("issued", [3, 0])], labels=["a", "b"])
    html = render_to_string("core/charts/bars.html", {"chart": bars, "label": "points"})
    assert html.count("<rect") == 1  # a zero bar is not drawn
