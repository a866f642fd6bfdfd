"""The sales tests' world: group A with two stores (North: two consultants and a manager;
South: one consultant), group B with its own consultant and lead; an advisor (no leads) who
sees nothing."""

import pytest

from m4s.core.tests.factories import StoreFactory, make_staff
from m4s.customers.services import get_or_create_customer_for_owner
from m4s.sales import services
from m4s.staff.choices import Role


@pytest.fixture
def sw(world):
    w = world
    w.store_a2 = StoreFactory(dealer_group=w.group_a, name="Alpha South")
    w.sales1 = make_staff("sales-1", Role.SALES_CONSULTANT, w.group_a, [w.store_a])
    w.sales2 = make_staff("sales-2", Role.SALES_CONSULTANT, w.group_a, [w.store_a])
    w.sales_south = make_staff("sales-s", Role.SALES_CONSULTANT, w.group_a, [w.store_a2])
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.sales_b = make_staff("sales-b", Role.SALES_CONSULTANT, w.group_b, [w.store_b])
    w.customer = get_or_create_customer_for_owner(w.owner, w.store_a)
    w.lead_b = services.open_or_update_lead(
        group_id=w.group_b.pk, store=w.store_b, phone="13900000077", source="walk_in"
    )
    return w
