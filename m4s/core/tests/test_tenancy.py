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


def test_for_owner_returns_only_that_owners_rows(world):
    from m4s.core.tests.factories import OwnerFactory
    from m4s.customers.models import Customer

    def customer(store, owner, name):
        return Customer.objects.create(
            dealer_group_id=store.dealer_group_id,
            store=store,
            owner=owner,
            name=name,
            phone=owner.phone if owner else "+8613900000999",
        )

    neighbour = OwnerFactory(home_store=world.store_a)  # a second owner in the same group
    mine_a = customer(world.store_a, world.owner, "Me in A")
    mine_b = customer(world.store_b, world.owner, "Me in B")
    customer(world.store_a, neighbour, "Neighbour in A")
    customer(world.store_b, world.owner_b, "Someone in B")
    customer(world.store_a, None, "Never signed in")

    assert set(Customer.objects.for_owner(world.owner)) == {mine_a, mine_b}
    assert {c.name for c in Customer.objects.for_owner(neighbour)} == {"Neighbour in A"}
    assert {c.name for c in Customer.objects.for_owner(world.owner_b)} == {"Someone in B"}
    assert list(Customer.objects.for_owner(None)) == []
    # the owner-scoped query composes with other filters and stays scoped
    assert Customer.objects.for_owner(neighbour).filter(store=world.store_b).count() == 0


def test_for_owner_on_a_model_without_an_owner_path_raises(world):
    with pytest.raises(TenantScopeError):
        Store.objects.for_owner(world.owner)
