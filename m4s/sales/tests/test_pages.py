"""The console pages: board, lead, walk-in (duplicate warning), figures and the .xlsx export;
another group's lead 404, another store's consultant 404, an advisor 403."""

import io

import openpyxl
import pytest
from django.test import Client
from django.utils import timezone

from m4s.sales import services
from m4s.sales.models import Lead

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


@pytest.fixture
def lead(sw):
    lead = services.open_or_update_lead(
        group_id=sw.group_a.pk, store=sw.store_a, phone="13900050001", name="Zhang", source="web"
    )
    Lead.objects.for_group(sw.group_a).filter(pk=lead.pk).update(
        assigned_to=sw.sales1, value="150000.00", expected_close=timezone.localdate()
    )
    return lead


def test_board_and_lead_pages(sw, lead):
    c = _client(sw.sales1)
    r = c.get("/console/sales/")
    assert r.status_code == 200 and b"Zhang" in r.content
    assert c.get(f"/console/sales/{lead.pk}/").status_code == 200
    r = c.post(f"/console/sales/{lead.pk}/move/", {"stage": "negotiation"})
    assert r.status_code == 302
    lead.refresh_from_db()
    assert lead.stage == "negotiation"
    r = c.post(f"/console/sales/{lead.pk}/stage/", {"stage": "lost"})
    assert r.status_code == 409
    lead.refresh_from_db()
    assert lead.stage == "negotiation"
    c.post(f"/console/sales/{lead.pk}/activity/", {"kind": "visit", "note": "came by"})
    assert lead.activities.filter(kind="visit").exists()


def test_walk_in_warns_of_a_duplicate(sw, lead):
    c = _client(sw.sales2)
    r = c.post("/console/sales/new/", {"phone": "139 0005 0001", "name": "Z"})
    assert r.status_code == 409 and b'data-testid="duplicate"' in r.content
    r = c.post("/console/sales/new/", {"phone": "13900050001", "confirm": "1"})
    assert r.status_code == 302
    assert Lead.objects.for_group(sw.group_a).filter(phone="+8613900050001").count() == 1
    r = c.post("/console/sales/new/", {"phone": "13900050002", "name": "New one"})
    assert r.status_code == 302
    assert Lead.objects.for_group(sw.group_a).get(phone="+8613900050002").assigned_to == sw.sales2


def test_isolation_on_pages(sw, lead):
    for who in (sw.sales_b, sw.admin_b, sw.sales_south):
        c = _client(who)
        assert c.get(f"/console/sales/{lead.pk}/").status_code == 404
        assert c.post(f"/console/sales/{lead.pk}/move/", {"stage": "won"}).status_code == 404
        assert b"Zhang" not in c.get("/console/sales/").content
    lead.refresh_from_db()
    assert lead.stage == "new"
    c = _client(sw.advisor_a)
    for path in ("/console/sales/", f"/console/sales/{lead.pk}/", "/console/sales/figures/"):
        assert c.get(path).status_code == 403
    assert _client(sw.sales1).get("/console/sales/figures/").status_code == 403


def test_figures_and_export(sw, lead):
    c = _client(sw.manager_a)
    r = c.get("/console/sales/figures/")
    assert r.status_code == 200 and b"15,000" in r.content or b"15000" in r.content
    r = c.get("/console/sales/figures/export.xlsx")
    assert r.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(r.content))
    assert len(book.sheetnames) == 4  # pipeline, forecast, by consultant, by month
    rows = list(book.worksheets[1].iter_rows(values_only=True))
    assert rows[-1][-1] == 15000
    # another group's manager: none of it
    other = _client(sw.admin_b).get("/console/sales/figures/export.xlsx")
    rows = list(
        openpyxl.load_workbook(io.BytesIO(other.content)).worksheets[1].iter_rows(values_only=True)
    )
    assert rows[-1][-1] == 0
