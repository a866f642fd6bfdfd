"""Back office: a group edits its own categories, root causes and SLA policies; another
group's rows are not found."""

from django.test import Client

from m4s.complaints import services
from m4s.complaints.models import ComplaintCategory, SlaPolicy
from m4s.core.tests.factories import PASSWORD


def _client(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_group_admin_edits_own_setup_and_not_another_groups(world):
    services.ensure_defaults(world.group_a.pk)
    services.ensure_defaults(world.group_b.pk)
    mine = ComplaintCategory.objects.for_group(world.group_a).get(code="price")
    theirs = ComplaintCategory.objects.for_group(world.group_b).get(code="price")
    a = _client(world.admin_a)
    r = a.get("/admin/complaints/complaintcategory/")
    assert r.status_code == 200 and str(mine.pk) in r.content.decode()
    assert a.get(f"/admin/complaints/complaintcategory/{theirs.pk}/change/").status_code == 404
    r = a.post(
        "/admin/complaints/slapolicy/add/",
        {
            "severity": "high",
            "category": mine.pk,
            "first_response_minutes": 30,
            "resolution_minutes": 600,
            "level1_minutes": 60,
            "level2_minutes": 120,
            "level3_minutes": 240,
        },
    )
    assert r.status_code == 302, r.content[:2000]
    policy = SlaPolicy.objects.for_group(world.group_a).get()
    assert policy.category == mine
    # another group's category cannot be chosen
    r = a.post(
        "/admin/complaints/slapolicy/add/",
        {
            "severity": "low",
            "category": theirs.pk,
            "first_response_minutes": 30,
            "resolution_minutes": 600,
            "level1_minutes": 60,
            "level2_minutes": 120,
            "level3_minutes": 240,
        },
    )
    assert r.status_code == 200 and SlaPolicy.objects.unscoped().count() == 1
    # a third level is refused
    child = ComplaintCategory.objects.for_group(world.group_a).get(code="repeat_repair")
    r = a.post(
        "/admin/complaints/complaintcategory/add/",
        {"parent": child.pk, "code": "deep", "name": "Too deep", "position": 0, "is_active": "on"},
    )
    assert r.status_code == 200
    assert not ComplaintCategory.objects.for_group(world.group_a).filter(code="deep").exists()
