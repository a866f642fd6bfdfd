"""The store-services pages and endpoints: each owner tile opens its kind's form (the requests
area's page with this area's partial), photos are served to their owner and the group's staff
only, the console pages need MANAGE_CATALOGUE and show another group's car or course as a 404;
the framework's endpoints with these kinds keep another owner's and another group's rows out."""

import pytest
from django.conf import settings
from django.test import Client, TestCase
from django.urls import reverse

from m4s.assistance import services
from m4s.assistance.models import ScratchPhoto
from m4s.core.tests.factories import ApiClient, owner_token
from m4s.owners.middleware import SESSION_KEY
from m4s.requests import services as rq
from m4s.requests.models import ServiceRequest

from .conftest import png

pytestmark = pytest.mark.django_db

TILES = {
    "app-assistance-scratch": ("scratch_repair", "car-diagram"),
    "app-assistance-rental": ("rental", "rental-cars"),
    "app-assistance-inspection": ("annual_inspection", "inspection-due"),
    "app-assistance-violations": ("clear_violations", "violation-choices"),
    "app-assistance-new-driver": ("new_driver", "course-"),
    "app-assistance-designated": ("designated_driver", 'name="destination"'),
}


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_every_tile_opens_its_form(aw):
    c = owner_client(aw.owner)
    for name, (kind, marker) in TILES.items():
        r = c.get(reverse(name))
        assert r.status_code == 302 and r["Location"].endswith(f"/new/{kind}/"), name
        page = c.get(r["Location"])
        assert page.status_code == 200, kind
        assert marker in page.content.decode(), kind


def test_owner_form_posts_a_rental_and_refuses_bad_dates(aw):
    w = aw
    c = owner_client(w.owner)
    url = reverse("app-request-new", args=["rental"])
    start = w.today.toordinal() + 3
    import datetime as dt

    s = dt.date.fromordinal(start)
    bad = c.post(
        url,
        {
            "store_id": w.store_a.pk,
            "car_id": w.rental_car.pk,
            "starts_on": s.isoformat(),
            "ends_on": s.isoformat(),
        },
    )
    assert bad.status_code == 422
    assert not ServiceRequest.objects.for_group(w.group_a).exists()
    with TestCase.captureOnCommitCallbacks(execute=True):
        ok = c.post(
            url,
            {
                "store_id": w.store_a.pk,
                "car_id": w.rental_car.pk,
                "starts_on": s.isoformat(),
                "ends_on": (s + dt.timedelta(days=2)).isoformat(),
            },
        )
    assert ok.status_code == 302
    r = ServiceRequest.objects.for_group(w.group_a).get()
    page = c.get(reverse("app-request", args=[r.pk]))
    assert page.status_code == 200 and "rental-detail" in page.content.decode()
    assert owner_client(w.owner2).get(reverse("app-request", args=[r.pk])).status_code == 404


def test_scratch_photos_are_served_to_their_owner_and_the_groups_staff_only(aw):
    w = aw
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = rq.submit_request(
            w.owner,
            kind="scratch_repair",
            store_id=w.store_a.pk,
            vehicle_id=w.my_car.pk,
            data={"panels": ["roof"]},
            files=[png()],
        )
    photo = ScratchPhoto.objects.for_owner(w.owner).get(request=r)
    url = photo.image.url
    assert owner_client(w.owner).get(url).status_code == 200
    assert staff_client(w.advisor_a).get(url).status_code == 200
    assert owner_client(w.owner2).get(url).status_code == 404
    assert owner_client(w.owner_b).get(url).status_code == 404
    assert staff_client(w.advisor_b).get(url).status_code == 404
    assert Client().get(url).status_code == 404


def test_api_scratch_photo_then_request(aw):
    w = aw
    api = ApiClient()
    token = owner_token(w.owner)
    up = api.client.post(
        "/api/v1/me/assistance/scratch-photos",
        {"photo": png()},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert up.status_code == 201, up.content
    pid = up.json()["id"]
    bad = api.client.post(
        "/api/v1/me/assistance/scratch-photos",
        {"photo": png().__class__("x.png", b"<svg/>")},
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    assert 400 <= bad.status_code < 500
    other = api.post(
        "/api/v1/me/requests",
        {
            "kind": "scratch_repair",
            "store_id": w.store_a.pk,
            "vehicle_id": w.my_car.pk,
            "fields": {"panels": ["roof"], "photo_ids": [pid]},
        },
        token=owner_token(w.owner2),
    )
    assert other.status_code in (404, 422)
    mine = api.post(
        "/api/v1/me/requests",
        {
            "kind": "scratch_repair",
            "store_id": w.store_a.pk,
            "vehicle_id": w.my_car.pk,
            "fields": {"panels": ["roof"], "photo_ids": [pid]},
        },
        token=token,
        HTTP_IDEMPOTENCY_KEY="scratch-1",
    )
    assert mine.status_code == 201, mine.content
    again = api.post(
        "/api/v1/me/requests",
        {
            "kind": "scratch_repair",
            "store_id": w.store_a.pk,
            "vehicle_id": w.my_car.pk,
            "fields": {"panels": ["roof"], "photo_ids": [pid]},
        },
        token=token,
        HTTP_IDEMPOTENCY_KEY="scratch-1",
    )
    assert again.status_code in (200, 201) and again.json()["id"] == mine.json()["id"]
    assert ServiceRequest.objects.for_group(w.group_a).count() == 1


def test_api_someone_elses_violation_and_other_group(aw):
    w = aw
    api = ApiClient()
    r = api.post(
        "/api/v1/me/requests",
        {
            "kind": "clear_violations",
            "store_id": w.store_a.pk,
            "fields": {"violation_ids": [w.v1.pk]},
        },
        token=owner_token(w.owner2),
    )
    assert r.status_code == 404
    r = api.post(
        "/api/v1/me/requests",
        {
            "kind": "rental",
            "store_id": w.store_b.pk,
            "fields": {
                "car_id": w.rental_car.pk,
                "starts_on": "2099-01-01",
                "ends_on": "2099-01-03",
            },
        },
        token=owner_token(w.owner_b),
    )
    assert r.status_code in (404, 422)
    assert not ServiceRequest.objects.unscoped().exists()


def test_console_pages(aw):
    w = aw
    admin = staff_client(w.admin_a)
    for name, args in [
        ("console-assistance-fleet", []),
        ("console-assistance-fees", []),
        ("console-assistance-courses", []),
        ("console-assistance-car", [w.rental_car.pk]),
        ("console-assistance-course", [w.course.pk]),
    ]:
        assert admin.get(reverse(name, args=args)).status_code == 200, name
    assert admin.get(reverse("console-assistance-car", args=[w.rental_car_b.pk])).status_code == 404
    assert staff_client(w.advisor_a).get(reverse("console-assistance-fleet")).status_code == 403
    r = admin.post(
        reverse("console-assistance-fleet"),
        {
            "store_id": w.store_a.pk,
            "name": "Yaris",
            "plate": "京R00009",
            "seats": "5",
            "price_per_day": "150",
            "deposit": "1000",
            "active": "on",
        },
    )
    assert r.status_code == 302
    r = admin.post(
        reverse("console-assistance-course", args=[w.course.pk]),
        {
            "form": "session",
            "starts_at": "2099-05-01 09:00",
            "ends_at": "2099-05-01 08:00",
            "capacity": "5",
        },
    )
    assert r.status_code == 422
    assert services.selectors.fleet_for_staff(w.admin_b).filter(plate="京R00009").count() == 0


def test_every_page_renders_in_chinese(aw):
    """Each kind's form, a request of each kind on the owner's and the console's page, and the
    console's store-services pages, in zh-hans."""
    import datetime as dt

    from django.utils import timezone

    w = aw
    soon = (timezone.now() + dt.timedelta(days=2)).replace(microsecond=0).isoformat()
    start = (w.today + dt.timedelta(days=3)).isoformat()
    end = (w.today + dt.timedelta(days=5)).isoformat()
    made = []
    with TestCase.captureOnCommitCallbacks(execute=True):
        for kind, data, files, car in [
            ("scratch_repair", {"panels": ["roof"]}, [png()], True),
            (
                "rental",
                {"car_id": w.rental_car.pk, "starts_on": start, "ends_on": end},
                None,
                False,
            ),
            ("annual_inspection", {"mode": "dropoff"}, None, True),
            ("clear_violations", {"violation_ids": [w.v1.pk]}, None, False),
            ("new_driver", {"session_id": w.session.pk}, None, False),
            (
                "designated_driver",
                {
                    "pickup_at": soon,
                    "pickup_address": "Bar",
                    "destination": "Home",
                    "phone": "+8613800000000",
                },
                None,
                True,
            ),
        ]:
            made.append(
                rq.submit_request(
                    w.owner,
                    kind=kind,
                    store_id=w.store_a.pk,
                    vehicle_id=w.my_car.pk if car else None,
                    data=data,
                    files=files,
                )
            )
    owner = owner_client(w.owner)
    owner.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for name in TILES:
        page = owner.get(reverse(name), follow=True)
        assert page.status_code == 200, name
    for staff in (w.admin_a, w.advisor_a, w.cs_a, w.sales_a):
        c = staff_client(staff)
        c.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
        for r in made:
            assert c.get(reverse("console-request", args=[r.pk])).status_code == 200, r.kind
    for r in made:
        assert owner.get(reverse("app-request", args=[r.pk])).status_code == 200, r.kind
    admin = staff_client(w.admin_a)
    admin.cookies[settings.LANGUAGE_COOKIE_NAME] = "zh-hans"
    for name, args in [
        ("console-assistance-fleet", []),
        ("console-assistance-fees", []),
        ("console-assistance-courses", []),
        ("console-assistance-car", [w.rental_car.pk]),
        ("console-assistance-course", [w.course.pk]),
    ]:
        page = admin.get(reverse(name, args=args))
        assert page.status_code == 200 and "门店服务" in page.content.decode(), name
