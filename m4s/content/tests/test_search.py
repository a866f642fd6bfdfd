"""Search in Chinese, English and Korean (jieba, words, Korean bigrams), through the database's
full-text engine (SQLite FTS5 here, PostgreSQL full-text with DATABASE_URL), limited to what the
owner may see."""

import pytest

from m4s.content import search
from m4s.content.choices import Level, Status, TargetKind

from .reading_helpers import make_item

pytestmark = pytest.mark.django_db


def found(owner, q, language="en"):
    return [i.pk for i in search.search(owner, q, language)]


def test_tokens():
    assert {"北京", "烤鸭"} <= set(search.tokens("北京烤鸭真好吃"))
    assert search.tokens("Tyre Pressure, checked!") == ["tyre", "pressure", "checked"]
    assert {"서울에서", "서울", "에서"} <= set(search.tokens("서울에서"))
    assert search.query_tokens("北京烤鸭") == ["北京", "烤鸭"]
    assert search.query_tokens("서울") == ["서울"]
    assert search.query_tokens("  ,,, ") == []


def test_chinese(world):
    duck = make_item(
        module="city_food",
        source_language="zh-hans",
        texts={"zh-hans": ("北京烤鸭指南", "全聚德和便宜坊", "<p>冬天吃<b>烤鸭</b>最好</p>")},
        index=True,
    )
    tyre = make_item(
        source_language="zh-hans",
        texts={"zh-hans": ("冬季轮胎保养", "胎压要检查", "")},
        index=True,
    )
    assert found(world.owner, "烤鸭", "zh-hans") == [duck.pk]
    assert found(world.owner, "北京的烤鸭", "zh-hans") == [duck.pk]
    assert found(world.owner, "轮胎", "zh-hans") == [tyre.pk]
    assert found(world.owner, "胎压检查", "zh-hans") == [tyre.pk]
    assert found(world.owner, "上海", "zh-hans") == []


def test_one_chinese_character_finds_the_words_it_is_in(world):
    duck = make_item(
        module="city_food",
        source_language="zh-hans",
        texts={"zh-hans": ("北京烤鸭指南", "全聚德", "<p>冬天吃烤鸭</p>")},
        index=True,
    )
    lake = make_item(
        source_language="zh-hans", texts={"zh-hans": ("西湖一日游", "杭州", "")}, index=True
    )
    assert "鸭" not in search.tokens("北京烤鸭指南")  # not an index token by itself
    assert found(world.owner, "鸭", "zh-hans") == [duck.pk]
    assert found(world.owner, "湖", "zh-hans") == [lake.pk]
    assert found(world.owner, "北京 鸭", "zh-hans") == [duck.pk]  # with a word: both must match
    assert found(world.owner, "杭州 鸭", "zh-hans") == []
    assert found(world.owner, "猫", "zh-hans") == []


def test_english(world):
    tyre = make_item(
        texts={
            "en": ("Winter tyres", "Check the pressure monthly", "<p>Cold air <i>shrinks</i></p>")
        },
        index=True,
    )
    make_item(texts={"en": ("Brake fluid", "Every two years", "")}, index=True)
    assert found(world.owner, "TYRES") == [tyre.pk]
    assert found(world.owner, "pressure winter") == [tyre.pk]
    assert found(world.owner, "shrinks") == [tyre.pk]  # the body counts, tags stripped
    assert found(world.owner, "pressure brake") == []  # every word must match


def test_korean_particles_do_not_break_matching(world):
    item = make_item(
        source_language="ko",
        texts={"ko": ("서울에서 타이어 교체", "겨울철에는 공기압을 확인하세요", "")},
        index=True,
    )
    assert found(world.owner, "서울", "ko") == [item.pk]
    assert found(world.owner, "타이어", "ko") == [item.pk]
    assert found(world.owner, "공기압", "ko") == [item.pk]
    assert found(world.owner, "부산", "ko") == []


def test_search_across_languages_and_reader_language_first(world):
    item = make_item(
        source_language="zh-hans",
        texts={"zh-hans": ("机油更换", "", ""), "en": ("Oil change", "", "")},
        index=True,
    )
    assert found(world.owner, "oil") == [item.pk]
    assert found(world.owner, "机油", "en") == [item.pk]
    assert [i.t_title for i in search.search(world.owner, "机油", "en")] == ["Oil change"]


def test_only_visible_items_are_found(world):
    world.group_b.local_org.city = "Shanghai"
    world.group_b.local_org.save()
    local = make_item(
        level=Level.LOCAL_ORG,
        module="city_food",
        local_org=world.group_b.local_org,
        texts={"en": ("Shanghai dumplings", "", "")},
        index=True,
    )
    targeted = make_item(
        targets={TargetKind.BRAND: ["bmw"]}, texts={"en": ("Dumplings for BMW", "", "")}, index=True
    )
    draft = make_item(status=Status.DRAFT, texts={"en": ("Dumplings draft", "", "")}, index=True)
    assert found(world.owner, "dumplings") == []
    assert local.pk and targeted.pk and draft.pk


def test_reindex_and_remove(world):
    item = make_item(texts={"en": ("Alpha", "", "")}, index=True)
    item.translations.update(title="Beta")
    search.index_item(item)
    assert found(world.owner, "alpha") == []
    assert found(world.owner, "beta") == [item.pk]
    search.remove_item(item)
    assert found(world.owner, "beta") == []
