"""The catalogue tests' world: group A's and group B's catalogues, a manager of A (MANAGE_CATALOGUE
through the group admin), the test owner (a customer of group A) and owner B (of group B)."""

import pytest

from m4s.customers.services import get_or_create_customer_for_owner

from .factories import make_catalogue


@pytest.fixture
def cat(cars):
    w = cars
    w.a = make_catalogue(w.admin_a)
    w.b = make_catalogue(w.admin_b, prefix="Borealis")
    w.customer = get_or_create_customer_for_owner(w.owner, w.store_a)
    w.customer_b = get_or_create_customer_for_owner(w.owner_b, w.store_b)
    return w
