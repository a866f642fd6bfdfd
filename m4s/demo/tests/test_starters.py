"""The starter loyalty programme is its data: every tier, earning rule, reward, badge and mission
the loop creates carries exactly the fields of its entry, and its name, description and benefits
in all three languages."""

import pytest

from m4s.demo.starters import loyalty as starter
from m4s.demo.starters.loyalty_i18n import NAMES, names
from m4s.loyalty.models import Badge, Campaign, EarningRule, Mission, Reward, Tier

pytestmark = pytest.mark.django_db
REFERENCES = {"campaign": "name", "partner": "name", "min_tier": "name"}


def _matches(row, spec: dict, badges: dict) -> None:
    for field, expected in spec.items():
        value = getattr(row, field)
        if field == "badge":
            assert value == badges[expected], (row, field)
        elif field in REFERENCES:
            assert getattr(value, REFERENCES[field]) == expected, (row, field)
        else:
            assert value == expected, (row, field, value, expected)
    for field in ("name", "description", "benefits"):
        if hasattr(row, f"{field}_i18n"):
            source = getattr(row, field)
            assert getattr(row, f"{field}_i18n") == (names(source) if source else {})
            if source:  # every starter word is translated, not only present in English
                assert set(getattr(row, f"{field}_i18n")) == {"zh-hans", "en", "ko"}, source
                assert source in NAMES


def test_the_starter_programme_is_its_data(world):
    club = starter.install_programme(world.group_a)
    g = world.group_a.pk

    def rows(model):
        return list(model.objects.for_group(g).order_by("pk"))

    badges = {
        key: Badge.objects.for_group(g).get(name=spec["name"])
        for key, spec in starter.BADGES.items()
    }
    assert [t.name for t in rows(Tier)] == [spec["name"] for spec in starter.TIERS]
    for row, spec in zip(rows(Tier), starter.TIERS, strict=True):
        _matches(row, spec, badges)
    [campaign] = rows(Campaign)
    _matches(campaign, starter.CAMPAIGN, badges)
    _matches(club.partner, starter.PARTNER, badges)
    assert [b.name for b in rows(Badge)] == [s["name"] for s in starter.BADGES.values()]
    for row, spec in zip(rows(Badge), starter.BADGES.values(), strict=True):
        _matches(row, spec, badges)
    for model, data, created in (
        (EarningRule, starter.RULES, club.rules),
        (Reward, starter.REWARDS, club.rewards),
        (Mission, starter.MISSIONS, club.missions),
    ):
        assert [r.name for r in rows(model)] == [spec["name"] for spec in data.values()]
        assert list(created) == list(data)
        for key, spec in data.items():
            assert created[key] in rows(model)
            _matches(model.objects.for_group(g).get(pk=created[key].pk), spec, badges)
    # the other group's programme is its own copy of the same data
    other = starter.install_programme(world.group_b)
    assert other.rules["bound"].campaign == other.campaign != club.campaign
    assert other.rewards["detail"].min_tier == other.tiers[1] != club.tiers[1]
    assert other.rewards["partner_wash"].partner == other.partner != club.partner
