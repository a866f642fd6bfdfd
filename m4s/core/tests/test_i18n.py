"""System text stored as source text + parameters, and catalogue translations with fallback
(m4s/core/i18n.py)."""

from types import SimpleNamespace

from django.utils import translation
from django.utils.translation import gettext_noop

from m4s.core.i18n import (
    TranslationsFormField,
    name_of,
    render,
    render_in,
    text,
    translated,
)


def test_system_text_is_translated_when_read_not_when_written():
    with translation.override("ko"):
        stored = text(gettext_noop("+%(n)d points"), n=200)  # written while Korean is active
    assert stored == {"t": "+%(n)d points", "p": {"n": 200}}
    assert render_in("en", stored) == "+200 points"
    assert render_in("ko", stored) == "+200 포인트"
    assert render_in("zh-hans", stored) == "+200 积分"


def test_parameters_that_are_text_or_names_are_translated_too():
    wash = SimpleNamespace(name="Car wash", name_i18n={"zh-hans": "洗车", "ko": "세차"})
    stored = text(gettext_noop("Mission complete: %(name)s"), name=name_of(wash))
    assert render_in("ko", stored).endswith("세차")
    assert render_in("en", stored) == "Mission complete: Car wash"  # no "en": the source name
    assert render_in("ko", [name_of(wash), text(gettext_noop("Points expired"))]) == (
        "세차, 소멸 포인트"
    )


def test_old_or_broken_rows_fall_back_to_the_stored_text():
    assert render({}, "Bound a car") == "Bound a car"  # a row written before the JSON existed
    assert render(None, "As written") == "As written"
    assert render({"t": "%(plate)s left %(name)s"}, "kept") != ""  # missing params: no crash
    assert render_in("ko", {"t": "%(plate)s left", "p": {"other": 1}}) == "%(plate)s left"
    assert render({"p": {"n": 1}}, "fallback") == "fallback"  # no source text at all


def test_catalogue_name_falls_back_to_the_source_field():
    reward = SimpleNamespace(name="Travel mug", name_i18n={"zh-hans": "旅行保温杯"})
    with translation.override("zh-hans"):
        assert translated(reward) == "旅行保温杯"
    with translation.override("ko"):
        assert translated(reward) == "Travel mug"  # no Korean yet
    assert translated(SimpleNamespace(name="Old row", name_i18n=None)) == "Old row"
    assert translated(SimpleNamespace(name="Blank", name_i18n={"ko": "  "})) == "Blank"


def test_back_office_field_has_one_input_per_language_and_drops_empty_ones():
    field = TranslationsFormField(max_length=10)
    assert field.clean(["洗车", "", " 세차 "]) == {"zh-hans": "洗车", "ko": "세차"}
    html = field.widget.render("name_i18n", {"en": "Car wash"})
    assert 'name="name_i18n_zh-hans"' in html and 'name="name_i18n_ko"' in html
    assert 'value="Car wash"' in html
