import pytest

from m4s.core.errors import DomainError
from m4s.core.tests.factories import PASSWORD, make_staff
from m4s.staff.choices import ROLE_PERMS, Perm, Role
from m4s.staff.permissions import check_perm


@pytest.mark.parametrize("role", Role.values)
def test_every_role_has_a_permission_set(role):
    assert Perm.USE_CONSOLE in ROLE_PERMS[role]


@pytest.mark.django_db
def test_capabilities_follow_roles(world):
    assert world.admin_a.has_perm_m4s(Perm.MANAGE_STAFF)
    assert not world.advisor_a.has_perm_m4s(Perm.MANAGE_STAFF)
    assert world.advisor_a.has_perm_m4s(Perm.VIEW_CUSTOMERS)
    assert not world.tech_a.has_perm_m4s(Perm.VIEW_CUSTOMERS)
    assert world.hq.has_perm_m4s(Perm.MANAGE_PLATFORM) and not world.admin_a.has_perm_m4s(
        Perm.MANAGE_PLATFORM
    )
    with pytest.raises(DomainError) as e:
        check_perm(world.tech_a, Perm.VIEW_CUSTOMERS)
    assert e.value.status == 403
    world.admin_a.is_active = False
    assert not world.admin_a.has_perm_m4s(Perm.MANAGE_STAFF)


@pytest.mark.django_db
def test_staff_must_belong_to_a_group_and_its_stores(world):
    with pytest.raises(DomainError) as e:
        make_staff("loose", Role.SERVICE_ADVISOR, None)
    assert e.value.code == "group_required"
    with pytest.raises(DomainError) as e:
        make_staff("crossover", Role.SERVICE_ADVISOR, world.group_a, [world.store_b])
    assert e.value.code == "store_outside_group"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username,page_ok,admin_ok",
    [
        ("advisor-a", 200, 302),
        ("tech-a", 200, 302),
        ("admin-a", 200, 200),
        ("hq", 200, 200),
    ],
)
def test_console_and_back_office_by_role(client, world, username, page_ok, admin_ok):
    assert client.login(username=username, password=PASSWORD)
    assert client.get("/console/").status_code == page_ok
    assert client.get("/admin/").status_code == admin_ok


@pytest.mark.django_db
def test_console_requires_sign_in(client):
    r = client.get("/console/")
    assert r.status_code == 302 and r["Location"].startswith("/console/login/")
