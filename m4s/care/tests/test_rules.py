"""The rule table and the words, without a database: inspection due dates by China's defaults
(years 6 and 10 exempt labels, yearly from year 10, every 6 months from year 15), the stages of
lead times, leap days, a group's own templates in every language."""

import datetime as dt

import pytest
from django.utils import translation

from m4s.care import rules
from m4s.care.models import ReminderRule
from m4s.care.scan import _month_days
from m4s.core.dates import add_months
from m4s.core.i18n import render


def test_china_defaults_make_exempt_labels_at_6_and_10_then_yearly_then_half_yearly():
    events = dict(rules.inspection_events(rules.default_table()))
    years = {m / 12: exempt for m, exempt in events.items() if m <= 17 * 12}
    assert years == {
        6: True,
        10: True,
        11: False,
        12: False,
        13: False,
        14: False,
        15: False,
        15.5: False,
        16: False,
        16.5: False,
        17: False,
    }
    assert 5 * 12 not in events and 7 * 12 not in events and 9 * 12 not in events
    assert max(events) < 60 * 12  # the horizon


@pytest.mark.parametrize(
    ("age_days", "expected"),
    [
        # registered (today - age): the first due date on or after today
        (6 * 365 - 40, (6, True)),  # just before year 6: the exempt label
        (10 * 365 + 10, (11, False)),  # past year 10 (the label): yearly from there
        (14 * 365 + 100, (15, False)),  # year 15 starts the half-yearly inspections
        (15 * 365 + 100, (15.5, False)),
    ],
)
def test_next_inspection_at_the_boundaries(age_days, expected):
    today = dt.date(2026, 6, 1)
    registered = today - dt.timedelta(days=age_days)
    due, exempt = rules.next_inspection(registered, rules.default_table(), today)
    years, label = expected
    assert due == add_months(registered, int(years * 12)) and exempt is label


def test_a_group_can_edit_the_table():
    class Row:
        def __init__(self, a, b, m, e):
            self.from_year, self.to_year, self.interval_months, self.exempt_years = a, b, m, e

    table = rules.table_rows([Row(0, None, 24, [])])  # every two years from the start
    assert [m for m, _e in rules.inspection_events(table)][:3] == [24, 48, 72]


def test_inspection_pairs_map_registration_dates_onto_due_dates_even_at_month_ends():
    today = dt.date(2027, 2, 20)
    pairs = rules.inspection_pairs(rules.default_table(), today, 30)
    for registered, due, _exempt, months in pairs:
        assert add_months(registered, months) == due and today <= due <= today + dt.timedelta(30)
    # 29, 30 and 31 August 2011 + 15½ years all land on 28 February 2027 (clamped)
    for day in (29, 30, 31):
        assert (dt.date(2011, 8, day), dt.date(2027, 2, 28), False, 186) in pairs
    # a car registered on 29 February 2020: its year-6 label on 28 February 2026
    pairs = rules.inspection_pairs(rules.default_table(), dt.date(2026, 2, 20), 30)
    assert (dt.date(2020, 2, 29), dt.date(2026, 2, 28), True, 72) in pairs


def test_leap_day_birthdays_fall_on_28_february_in_other_years():
    assert _month_days(dt.date(2027, 2, 28)) == ["02-28", "02-29"]
    assert _month_days(dt.date(2028, 2, 28)) == ["02-28"]
    assert _month_days(dt.date(2028, 2, 29)) == ["02-29"]
    assert _month_days(dt.date(2027, 3, 1)) == ["03-01"]


def test_lead_days_are_cleaned():
    assert rules.clean_lead_days([7, "30", 60, 60, -1, 999]) == [60, 30, 7]
    assert rules.clean_lead_days("junk") == [0]
    assert rules.clean_lead_days([]) == [0]


def test_built_in_words_and_the_declined_line_with_its_measurement():
    title, body = rules.compose(
        None,
        "declined_repair",
        {
            "item": {"n": "Front brake pads", "i18n": {"zh-hans": "前刹车片"}},
            "declined_on": "2026-11-03",
            "measurement": "3.50",
            "unit": "mm",
        },
    )
    with translation.override("en"):
        assert render(title) == "Time to look at Front brake pads again"
        assert render(body) == (
            "You declined Front brake pads on 2026-11-03 (3.5 mm). Book it in one tap."
        )
    with translation.override("zh-hans"):
        assert "前刹车片" in render(body)


def test_a_groups_own_template_is_filled_in_for_each_language():
    rule = ReminderRule(
        kind="insurance",
        title="Insurance for %(plate)s ends %(date)s",
        title_i18n={
            "zh-hans": "%(plate)s 的保险 %(date)s 到期",
            "ko": "%(plate)s 보험 %(date)s 만료",
        },
        body="",
        body_i18n={},
    )
    payload = {"plate": "京A12345", "date": "2026-12-31", "insurer": "PICC", "lead": 30}
    title, body = rules.compose(rule, "insurance", payload)
    for language, expected in (
        ("en", "Insurance for 京A12345 ends 2026-12-31"),
        ("zh-hans", "京A12345 的保险 2026-12-31 到期"),
        ("ko", "京A12345 보험 2026-12-31 만료"),
    ):
        with translation.override(language):
            assert render(title) == expected
    with translation.override("en"):  # no own body: the built-in one
        assert render(body) == "京A12345: ask us for a renewal quote in one tap."


def test_a_broken_template_falls_back_to_its_text_and_the_preview_works():
    rule = ReminderRule(
        kind="licence", title="Licence %(nope)s", title_i18n={}, body="", body_i18n={}
    )
    title, _body = rules.preview(rule, "en")
    assert title == "Licence %(nope)s"
    for kind in rules.TEXTS:
        base = kind.split(".")[0]
        for language in ("en", "zh-hans", "ko"):
            t, b = rules.preview(ReminderRule(kind=base, title_i18n={}, body_i18n={}), language)
            assert t and b and "%(" not in t + b, (kind, language)


def test_a_greeting_with_a_gift_mentions_the_coupon():
    title, body = rules.compose(
        None,
        "birthday",
        {
            "name": "Li Wei",
            "store": "Alpha North",
            "coupon": {"n": "Free car wash", "i18n": {}},
            "coupon_code": "ABCD2345EF",
        },
    )
    with translation.override("en"):
        assert render(title) == "Happy birthday, Li Wei!"
        assert "Free car wash" in render(body) and "ABCD2345EF" in render(body)
