import pytest

from m4s.core.tenancy import TenantScopeError
from m4s.org.models import BusinessHours, Store


def test_unscoped_read_of_tenant_table_is_refused(world):
    with pytest.raises(TenantScopeError):
        list(Store.objects.all())
    with pytest.raises(TenantScopeError):
        Store.objects.filter(name__startswith="Alpha").count()
    with pytest.raises(TenantScopeError):
        Store.objects.get(pk=world.store_a.pk)
    with pytest.raises(TenantScopeError):
        Store.objects.update(name="hijacked")


def test_scoped_reads_only_return_own_group(world):
    assert list(Store.objects.for_group(world.group_a)) == [world.store_a]
    assert list(Store.objects.for_actor(world.advisor_b)) == [world.store_b]
    assert set(Store.objects.for_actor(world.hq)) == {world.store_a, world.store_b}
    assert Store.objects.unscoped().count() == 2


def test_anonymous_actor_sees_nothing(world):
    from django.contrib.auth.models import AnonymousUser

    assert list(Store.objects.for_actor(AnonymousUser())) == []
    assert list(Store.objects.for_actor(None)) == []


def test_related_manager_of_a_scoped_row_is_scoped(world):
    store = Store.objects.for_group(world.group_a).get()
    hours = list(store.business_hours.all())
    assert len(hours) == 2
    assert {h.dealer_group_id for h in hours} == {world.group_a.pk}
    with pytest.raises(TenantScopeError):
        list(BusinessHours.objects.filter(store=store))
