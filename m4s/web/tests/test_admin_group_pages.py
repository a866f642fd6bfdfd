"""Back-office pages whose forms point at other group-owned rows (price lists and their prices,
parts and their stock, packages, schedules, checklists, coupons): a group admin creates them,
headquarters may only tie rows of one group together, and a signed-out visitor gets the login."""

import pytest

from m4s.core.models import AuditEntry
from m4s.loyalty.models import Coupon, CouponCode
from m4s.service.models import LabourOperation, Part, PartStock, Price, PriceList

ADD_PAGES = [
    "/admin/service/pricelist/add/",
    "/admin/service/part/add/",
    "/admin/service/servicepackage/add/",
    "/admin/service/maintenanceschedule/add/",
    "/admin/service/inspectiontemplate/add/",
    "/admin/loyalty/coupon/add/",
]


def _inline(prefix, rows, **management):
    data = {
        f"{prefix}-TOTAL_FORMS": str(len(rows)),
        f"{prefix}-INITIAL_FORMS": "0",
        f"{prefix}-MIN_NUM_FORMS": "0",
        f"{prefix}-MAX_NUM_FORMS": "1000",
    }
    for i, row in enumerate(rows):
        data |= {f"{prefix}-{i}-{k}": v for k, v in row.items()}
    return data


@pytest.mark.django_db
def test_admin_login_page_opens_for_a_signed_out_visitor(client):
    r = client.get("/admin/login/?next=/admin/")
    assert r.status_code == 200
    assert client.get("/admin/").status_code == 302


@pytest.mark.django_db
def test_group_pages_open_for_group_admin_and_headquarters(client, workshop, club):
    w = workshop
    own = PriceList.objects.for_group(w.group_a).get()
    for user in (w.admin_a, w.hq):
        client.force_login(user)
        for url in [*ADD_PAGES, f"/admin/service/pricelist/{own.pk}/change/"]:
            assert client.get(url).status_code == 200, (user.username, url)


@pytest.mark.django_db
def test_group_admin_saves_a_price_list_with_prices(client, workshop):
    w = workshop
    client.force_login(w.admin_a)
    op = LabourOperation.objects.for_group(w.group_a).order_by("pk").first()
    theirs = LabourOperation.objects.for_group(w.group_b).order_by("pk").first()
    page = client.get("/admin/service/pricelist/add/").content.decode()
    assert f'value="{op.pk}"' in page and f'value="{theirs.pk}"' not in page
    form = {"name": "Winter 2027", "effective_from": "2027-01-01"}
    r = client.post(
        "/admin/service/pricelist/add/",
        form | _inline("prices", [{"operation": op.pk, "amount": "180.00"}]),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    made = PriceList.objects.for_group(w.group_a).get(name="Winter 2027")
    price = Price.objects.for_group(w.group_a).get(price_list=made)
    assert price.operation == op and price.dealer_group_id == w.group_a.pk
    assert AuditEntry.objects.for_group(w.group_a).filter(object_id=str(price.pk)).exists()
    # Another group's operation is not a valid choice for a group admin.
    r = client.post(
        "/admin/service/pricelist/add/",
        {"name": "Sneaky", "effective_from": "2027-01-01"}
        | _inline("prices", [{"operation": theirs.pk, "amount": "1.00"}]),
    )
    assert r.status_code == 200
    assert not PriceList.objects.for_group(w.group_a).filter(name="Sneaky").exists()


@pytest.mark.django_db
def test_group_admin_saves_a_part_with_stock_and_a_duplicate_number_is_a_form_error(
    client, workshop
):
    w = workshop
    client.force_login(w.admin_a)
    form = {"part_number": "NEW-1", "name": "Cabin filter", "kind": "part", "unit": "pcs"}
    r = client.post(
        "/admin/service/part/add/",
        form | _inline("stock", [{"store": w.store_a.pk, "on_hand": "4", "incoming": "0"}]),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    part = Part.objects.for_group(w.group_a).get(part_number="NEW-1")
    assert PartStock.objects.for_group(w.group_a).get(part=part).on_hand == 4
    r = client.post("/admin/service/part/add/", form | _inline("stock", []))
    assert r.status_code == 200  # the (group, part number) rule on the form, not an IntegrityError
    assert Part.objects.for_group(w.group_a).filter(part_number="NEW-1").count() == 1


@pytest.mark.django_db
def test_group_admin_saves_a_coupon_with_codes(client, club):
    w = club
    client.force_login(w.admin_a)
    r = client.post(
        "/admin/loyalty/coupon/add/",
        {
            "name": "Spring wash",
            "kind": Coupon._meta.get_field("kind").choices[0][0],
            "value": "20",
            "min_spend": "0",
            "per_owner_limit": "1",
            "valid_from": "2027-03-01",
            "valid_to": "2027-04-01",
        }
        | _inline("codes", [{"code": " spring-1 ", "member": w.member.pk}]),
    )
    assert r.status_code == 302, r.content.decode()[:3000]
    code = CouponCode.objects.for_group(w.group_a).get()
    assert code.code == "SPRING-1" and code.member == w.member


@pytest.mark.django_db
def test_headquarters_picks_the_group_and_cannot_mix_groups(client, workshop):
    w = workshop
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    client.force_login(w.hq)
    op_a = LabourOperation.objects.for_group(w.group_a).order_by("pk").first()
    op_b = LabourOperation.objects.for_group(w.group_b).order_by("pk").first()
    form = {"dealer_group": w.group_b.pk, "name": "Mixed", "effective_from": "2027-01-01"}
    r = client.post(
        "/admin/service/pricelist/add/",
        form | _inline("prices", [{"operation": op_a.pk, "amount": "10.00"}]),
    )
    assert r.status_code == 200
    assert "belongs to another dealer group" in r.content.decode()
    assert not PriceList.objects.unscoped().filter(name="Mixed").exists()
    r = client.post(
        "/admin/service/pricelist/add/",
        form | _inline("prices", [{"operation": op_b.pk, "amount": "10.00"}]),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    made = PriceList.objects.for_group(w.group_b).get(name="Mixed")
    assert Price.objects.for_group(w.group_b).get(price_list=made).operation == op_b
    # Editing one group's list, headquarters choose among that group's operations only.
    page = client.get(f"/admin/service/pricelist/{made.pk}/change/").content.decode()
    prices = page[page.index('id="prices-group"') :]
    assert f'<option value="{op_b.pk}"' in prices and f'<option value="{op_a.pk}"' not in prices
