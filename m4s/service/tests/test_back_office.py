"""The service catalogue in the back office: scoped to the group, changes audited."""

from m4s.core.models import AuditEntry
from m4s.service.models import LabourOperation, PriceList


def test_catalogue_admin_is_scoped_and_audited(workshop, client):
    w = workshop
    client.force_login(w.admin_a)
    r = client.get("/admin/service/pricelist/")
    assert r.status_code == 200
    mine = PriceList.objects.for_group(w.group_a).get()
    theirs = PriceList.objects.for_group(w.group_b).get()
    assert f"/admin/service/pricelist/{mine.pk}/change/" in r.content.decode()
    assert f"/admin/service/pricelist/{theirs.pk}/change/" not in r.content.decode()
    assert client.get(f"/admin/service/pricelist/{theirs.pk}/change/").status_code == 404
    r = client.post(
        "/admin/service/labouroperation/add/",
        {
            "code": "TPMS",
            "name": "Tyre pressure sensor",
            "standard_hours": "0.5",
            "skill_line": "quick",
            "resource_kind": "",
            "is_active": "on",
        },
    )
    assert r.status_code == 302, r.content
    op = LabourOperation.objects.for_group(w.group_a).get(code="TPMS")
    assert (
        AuditEntry.objects.for_group(w.group_a)
        .filter(object_id=str(op.pk), action="create")
        .exists()
    )
    # A technician has no back office.
    client.force_login(w.tech_a)
    assert client.get("/admin/service/pricelist/").status_code == 302


def test_openapi_lists_the_service_endpoints(client, db):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in [
        "/api/v1/me/vehicles/{vehicle_id}/maintenance",
        "/api/v1/stores/{store_id}/slots",
        "/api/v1/me/appointments",
        "/api/v1/me/appointments/{appointment_id}/cancel",
        "/api/v1/me/repair-orders/{ro_id}",
        "/api/v1/me/repair-orders/{ro_id}/lines/{line_id}/approve",
        "/api/v1/me/repair-orders/{ro_id}/lines/{line_id}/decline",
        "/api/v1/me/surveys",
        "/api/v1/me/surveys/{survey_id}",
        "/api/v1/staff/repair-orders/{ro_id}/settle",
        "/api/v1/staff/repair-orders/{ro_id}/deliver",
    ]:
        assert p in paths, p
