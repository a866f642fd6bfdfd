"""The back office is Django admin scoped to the signed-in staff member's dealer group."""

import pytest

from m4s.core.models import AuditEntry
from m4s.core.tests.factories import PASSWORD
from m4s.org.models import EmergencyNumber, Store
from m4s.staff.models import StaffUser


@pytest.fixture
def admin_a(client, world):
    assert client.login(username="admin-a", password=PASSWORD)
    return client


@pytest.mark.django_db
def test_store_list_shows_only_own_group(admin_a, world):
    r = admin_a.get("/admin/org/store/")
    assert r.status_code == 200
    assert world.store_a.name in r.content.decode() and world.store_b.name not in r.content.decode()


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/admin/org/store/{b}/change/",
        "/admin/org/store/{b}/delete/",
        "/admin/org/store/{b}/history/",
    ],
)
def test_other_groups_store_is_404(admin_a, world, url):
    assert admin_a.get(url.format(b=world.store_b.pk)).status_code == 404


@pytest.mark.django_db
def test_cannot_edit_other_groups_store_by_post(admin_a, world):
    r = admin_a.post(f"/admin/org/store/{world.store_b.pk}/change/", {"name": "pwned", "code": "x"})
    assert r.status_code == 404
    assert Store.objects.unscoped().get(pk=world.store_b.pk).name == "Beta South"


@pytest.mark.django_db
def test_staff_list_and_change_are_scoped(admin_a, world):
    listing = admin_a.get("/admin/staff/staffuser/").content.decode()
    assert "advisor-a" in listing and "advisor-b" not in listing and ">hq<" not in listing
    assert admin_a.get(f"/admin/staff/staffuser/{world.advisor_b.pk}/change/").status_code == 404
    assert admin_a.get(f"/admin/staff/staffuser/{world.hq.pk}/change/").status_code == 404


@pytest.mark.django_db
def test_platform_models_are_hidden_from_group_admins(admin_a, world):
    for url in ("/admin/org/dealergroup/", "/admin/owners/owner/", "/admin/notify/message/"):
        assert admin_a.get(url).status_code == 403


@pytest.mark.django_db
def test_group_admin_creates_store_in_own_group_with_audit(admin_a, world):
    form = {
        "name": "Alpha East",
        "code": "east",
        "timezone": "Asia/Shanghai",
        "brand_colour": "#123456",
        "is_active": "on",
        **{
            f"{prefix}-{k}": v
            for prefix in ("business_hours", "holidays", "emergency_numbers", "splash_pictures")
            for k, v in {"TOTAL_FORMS": "0", "INITIAL_FORMS": "0"}.items()
        },
    }
    form.update(
        {
            "emergency_numbers-TOTAL_FORMS": "1",
            "emergency_numbers-0-kind": "rescue",
            "emergency_numbers-0-phone": "400-123-4567",
            "emergency_numbers-0-position": "0",
        }
    )
    r = admin_a.post("/admin/org/store/add/", form)
    assert r.status_code == 302, r.content.decode()[:3000]
    store = Store.objects.for_group(world.group_a).get(code="east")
    assert store.dealer_group_id == world.group_a.pk
    number = EmergencyNumber.objects.for_group(world.group_a).get(store=store)
    assert number.dealer_group_id == world.group_a.pk
    entries = AuditEntry.objects.for_group(world.group_a).filter(actor=world.admin_a)
    assert {(e.object_type, e.action) for e in entries} == {
        ("org.store", "create"),
        ("org.emergencynumber", "create"),
    }
    assert entries.get(object_type="org.store").changes["name"] == [None, "Alpha East"]


@pytest.mark.django_db
def test_duplicate_store_code_is_a_form_error_not_a_crash(admin_a, world):
    empty = {
        f"{p}-{k}": "0"
        for p in ("business_hours", "holidays", "emergency_numbers", "splash_pictures")
        for k in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    r = admin_a.post(
        "/admin/org/store/add/",
        {
            "name": "Dup",
            "code": world.store_a.code,
            "timezone": "Asia/Shanghai",
            "brand_colour": "#123456",
            **empty,
        },
    )
    assert r.status_code == 200 and "code" in r.context["adminform"].form.errors
    # the same code in another group is fine: codes are unique per group
    assert Store.objects.for_group(world.group_a).count() == 1


@pytest.mark.django_db
def test_edit_is_audited_with_before_and_after(admin_a, world):
    empty = {
        f"{p}-{k}": "0"
        for p in ("business_hours", "holidays", "emergency_numbers", "splash_pictures")
        for k in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    hours = list(world.store_a.business_hours.all())
    empty.update(
        {
            "business_hours-TOTAL_FORMS": str(len(hours)),
            "business_hours-INITIAL_FORMS": str(len(hours)),
        }
    )
    for i, h in enumerate(hours):
        empty.update(
            {
                f"business_hours-{i}-id": h.pk,
                f"business_hours-{i}-store": world.store_a.pk,
                f"business_hours-{i}-weekday": h.weekday,
                f"business_hours-{i}-opens_at": h.opens_at.strftime("%H:%M"),
                f"business_hours-{i}-closes_at": h.closes_at.strftime("%H:%M"),
            }
        )
    numbers = list(world.store_a.emergency_numbers.all())
    empty.update(
        {
            "emergency_numbers-TOTAL_FORMS": str(len(numbers)),
            "emergency_numbers-INITIAL_FORMS": str(len(numbers)),
        }
    )
    for i, n in enumerate(numbers):
        empty.update(
            {
                f"emergency_numbers-{i}-id": n.pk,
                f"emergency_numbers-{i}-store": world.store_a.pk,
                f"emergency_numbers-{i}-kind": n.kind,
                f"emergency_numbers-{i}-label": n.label,
                f"emergency_numbers-{i}-phone": n.phone,
                f"emergency_numbers-{i}-position": n.position,
            }
        )
    r = admin_a.post(
        f"/admin/org/store/{world.store_a.pk}/change/",
        {
            "name": "Alpha North",
            "code": world.store_a.code,
            "timezone": "Asia/Shanghai",
            "brand_colour": "#c8102e",
            "app_title": "Alpha App",
            "is_active": "on",
            "observes_statutory_holidays": "on",
            **empty,
        },
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    entry = AuditEntry.objects.for_group(world.group_a).get(
        object_type="org.store", action="update"
    )
    assert entry.changes == {
        "app_title": ["Alpha North app", "Alpha App"],
        "brand_colour": ["#0b6bcb", "#c8102e"],
    }
    assert entry.actor_name == "admin-a"


@pytest.mark.django_db
def test_group_admin_cannot_create_platform_admin(admin_a, world):
    r = admin_a.post(
        "/admin/staff/staffuser/add/",
        {
            "username": "sneaky",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
            "display_name": "S",
            "role": "platform_admin",
        },
    )
    assert r.status_code == 200  # form error: not a valid choice
    assert not StaffUser.objects.filter(username="sneaky").exists()
    r = admin_a.post(
        "/admin/staff/staffuser/add/",
        {
            "username": "newbie",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
            "display_name": "N",
            "role": "sales_consultant",
            "stores": [world.store_a.pk],
        },
    )
    assert r.status_code == 302
    newbie = StaffUser.objects.get(username="newbie")
    assert (
        newbie.dealer_group_id == world.group_a.pk
        and not newbie.is_superuser
        and not newbie.is_staff
    )


@pytest.mark.django_db
def test_group_admin_cannot_assign_other_groups_store(admin_a, world):
    r = admin_a.post(
        "/admin/staff/staffuser/add/",
        {
            "username": "leaky",
            "password1": "a-long-password-1",
            "password2": "a-long-password-1",
            "display_name": "L",
            "role": "sales_consultant",
            "stores": [world.store_b.pk],
        },
    )
    assert r.status_code == 200 and not StaffUser.objects.filter(username="leaky").exists()


@pytest.mark.django_db
def test_audit_log_is_read_only_and_scoped(client, world):
    from m4s.core.audit import record_audit

    record_audit(
        actor=world.admin_b,
        action="update",
        obj=world.store_b,
        before={"name": "x"},
        after={"name": "y"},
    )
    assert client.login(username="admin-a", password=PASSWORD)
    r = client.get("/admin/core/auditentry/")
    assert r.status_code == 200 and "Beta South" not in r.content.decode()
    entry = AuditEntry.objects.for_group(world.group_b).get()
    assert client.get(f"/admin/core/auditentry/{entry.pk}/change/").status_code == 404


@pytest.mark.django_db
def test_platform_admin_sees_every_group(client, world):
    assert client.login(username="hq", password=PASSWORD)
    body = client.get("/admin/org/store/").content.decode()
    assert world.store_a.name in body and world.store_b.name in body
    assert client.get("/admin/org/dealergroup/").status_code == 200


@pytest.mark.django_db
def test_inline_row_of_another_group_cannot_be_edited_through_own_store(admin_a, world):
    """Posting group B's emergency-number id inside group A's store form must not touch it."""
    theirs = EmergencyNumber.objects.for_group(world.group_b).get()
    empty = {
        f"{p}-{k}": "0"
        for p in ("business_hours", "holidays", "splash_pictures")
        for k in ("TOTAL_FORMS", "INITIAL_FORMS")
    }
    r = admin_a.post(
        f"/admin/org/store/{world.store_a.pk}/change/",
        {
            "name": "Alpha North",
            "code": world.store_a.code,
            "timezone": "Asia/Shanghai",
            "brand_colour": "#0b6bcb",
            "is_active": "on",
            **empty,
            "emergency_numbers-TOTAL_FORMS": "1",
            "emergency_numbers-INITIAL_FORMS": "1",
            "emergency_numbers-0-id": theirs.pk,
            "emergency_numbers-0-store": world.store_a.pk,
            "emergency_numbers-0-kind": "rescue",
            "emergency_numbers-0-phone": "110",
            "emergency_numbers-0-position": "0",
        },
    )
    assert r.status_code in (200, 404)  # a form error or not found, never a save
    theirs.refresh_from_db()
    assert theirs.phone == "400-800-0000" and theirs.store_id == world.store_b.pk
