"""The configuration cache (m4s/core/cache.py): what the owner pages cache is forgotten when the
rows behind it are saved or deleted, whoever writes them."""

import pytest

from m4s.core import cache as config_cache


@pytest.mark.django_db
def test_a_store_edit_reaches_the_cached_branding_at_once(world):
    from m4s.org.models import EmergencyNumber
    from m4s.web.owner_views import branding

    store = world.store_a
    assert branding(store.pk).name == store.name
    store.name = "Renamed store"
    store.save()  # as the back office or a service would
    assert branding(store.pk).name == "Renamed store"
    before = len(branding(store.pk).emergency_numbers.all())
    number = EmergencyNumber.objects.create(
        dealer_group=world.group_a, store=store, kind="rescue", label="Tow", phone="4008001234"
    )
    assert len(branding(store.pk).emergency_numbers.all()) == before + 1
    number.delete()
    assert len(branding(store.pk).emergency_numbers.all()) == before


@pytest.mark.django_db
def test_a_programme_or_tier_edit_reaches_the_cached_programme_at_once(world):
    from m4s.loyalty.models import Programme, Tier
    from m4s.loyalty.selectors import programme_config

    group = world.group_a
    Programme.objects.for_group(group.pk).delete()  # before anything is cached
    assert programme_config(group.pk) is None  # cached: no programme
    programme = Programme.objects.create(dealer_group=group, name="Club")
    assert programme_config(group.pk).programme.pk == programme.pk
    Tier.objects.create(dealer_group=group, name="Gold", threshold=5000)
    assert [t.name for t in programme_config(group.pk).tiers] == ["Gold"]


def test_values_are_kept_until_their_scope_changes(db):
    calls = []

    def build():
        calls.append(1)
        return len(calls)

    assert config_cache.get("test-scope", 1, build) == 1
    assert config_cache.get("test-scope", 1, build) == 1  # cached
    config_cache.changed("other-scope")
    assert config_cache.get("test-scope", 1, build) == 1
    config_cache.changed("test-scope")
    assert config_cache.get("test-scope", 1, build) == 2
