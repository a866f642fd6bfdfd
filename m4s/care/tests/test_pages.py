"""The care pages: the owner's reminders (grouped by car, with each kind's one-tap action,
snooze, done elsewhere), a reminder's own page, violations with "have the store clear it", the
reminders in the home to-do list; the console's care week (call, book, mark handled), the
declined-items panel at booking and check-in, violations entry and import, weather warnings,
the figures; the rule preview in the back office. Another owner's reminder or violation is a
404, another group's staff get a 404, staff without the capability a 403, a third owner sees
nothing; bad input is a 4xx that changes nothing."""

import datetime as dt
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, TestCase
from django.utils import timezone

from m4s.care import scan, services, violations
from m4s.care.choices import Kind, Status, ViolationStatus
from m4s.care.models import DoneElsewhere, Reminder, Violation, WeatherWarning
from m4s.core.tests.factories import OwnerFactory, make_staff
from m4s.owners.middleware import SESSION_KEY
from m4s.staff.choices import Role

from .conftest import days

pytestmark = pytest.mark.django_db


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


def text(response) -> str:
    return response.content.decode()


def post(client, url, data=None, **extra):
    """A POST as the server runs it: on-commit work (the scan after a violation) done."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        return client.post(url, data or {}, **extra)


def declined_brake_pads(w, *, days_ago: int = 35, rating: str = "amber", mm: str = "3.5"):
    """The owner's car was in the workshop `days_ago` days ago: the inspection found the front
    brake pads amber (3.5 mm), the owner declined the line in the app, the car went home."""
    from m4s.service import workshop
    from m4s.service.choices import RepairOrderStatus
    from m4s.service.models import InspectionPoint, RepairLine, RepairOrder

    ro = workshop.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="squeak when braking",
    )
    point = InspectionPoint.objects.for_group(w.group_a).get(
        template__store=w.store_a, name="Front brake pads"
    )
    workshop.record_inspection(
        w.tech_a,
        ro,
        [{"point_id": point.pk, "rating": rating, "note": f"{mm} mm left", "measurement": mm}],
    )
    workshop.complete_inspection(w.tech_a, ro)
    line = RepairLine.objects.for_group(w.group_a).get(repair_order=ro, result__point=point)
    workshop.decide_line(ro, line.pk, False, owner=w.owner)
    # that visit was `days_ago` days ago, and the car went home
    at = timezone.now() - days(days_ago)
    RepairLine.objects.for_group(w.group_a).filter(pk=line.pk).update(decided_at=at)
    RepairOrder.objects.for_group(w.group_a).filter(pk=ro.pk).update(
        status=RepairOrderStatus.DELIVERED,
        checked_in_at=at - dt.timedelta(hours=2),
        delivered_at=at + dt.timedelta(hours=3),
    )
    return ro, line


def remind(w, kind, *, due=None, vehicle=True, customer=None, target="", **payload) -> Reminder:
    """A reminder as the scan writes it (its link made by the hand-off's link_for)."""
    customer = customer or w.customer
    car = w.my_car if vehicle is True else (vehicle or None)
    r = Reminder.objects.create(
        dealer_group_id=customer.dealer_group_id,
        customer=customer,
        owner=customer.owner,
        vehicle=car,
        kind=kind,
        target_ref=target or f"{kind}:{getattr(car, 'pk', 0)}",
        cycle="1",
        due_on=due or w.today + days(10),
        status=Status.SENT,
        payload={"plate": getattr(car, "plate", ""), **payload},
        created_at=w.now,
        sent_at=w.now,
    )
    r.action_url = services.link_for(r)
    r.save(update_fields=["action_url"])
    return r


@pytest.fixture
def pages(care):
    """The care world (with its manager, customer-service agent, sales consultant - no care
    capability - and the other group's advisor) and a third owner who is nobody's customer."""
    w = care
    w.third = OwnerFactory(home_store=w.store_a)
    w.customer.phone = "+8613800001111"
    w.customer.save(update_fields=["phone"])
    return w


# --- owner: my reminders -----------------------------------------------------------------------
def test_my_reminders_grouped_by_car_with_each_kinds_one_tap_action(pages):
    w = pages
    ro, line = declined_brake_pads(w)
    out = scan.run_scan(["declined_repair"], today=w.today, now=w.now)
    assert out["written"]["declined_repair"] == 1
    declined = Reminder.objects.for_group(w.group_a).get(kind=Kind.DECLINED_REPAIR)
    insurance = remind(w, Kind.INSURANCE, date="2027-01-31", insurer="PICC", lead=30)
    licence = remind(w, Kind.LICENCE, vehicle=None, target="licence", date="2027-03-01", lead=90)
    client = owner_client(w.owner)
    page = text(client.get("/app/care/"))
    # the declined line, in the owner's words, with a one-tap booking of that line
    assert "Time to look at" in page and "3.5 mm" in page
    assert declined.action_url.startswith("/app/service/book/?vehicle=")
    assert f'href="{declined.action_url.replace("&", "&amp;")}"' in page
    # insurance: ask for a quote in one tap; the licence is the owner's, not a car's
    assert f'action="/app/care/reminders/{insurance.pk}/quote/"' in page
    assert "For you" in page and f'id="reminder-{licence.pk}"' in page
    assert page.index("For you") < page.index(w.my_car.plate)
    assert f'action="/app/care/reminders/{declined.pk}/snooze/"' in page
    assert f'href="/app/care/reminders/{declined.pk}/done-elsewhere/"' in page
    # the booking form the link opens has the declined line in the problem box
    booking = text(client.get(declined.action_url))
    assert "Front brake pads replacement (declined" in booking and "3.5 mm)" in booking


def test_snooze_and_bad_snooze(pages):
    w = pages
    r = remind(w, Kind.INSPECTION, date="2027-01-31")
    client = owner_client(w.owner)
    bad = client.post(f"/app/care/reminders/{r.pk}/snooze/", {"days": "500"}, follow=True)
    assert "Snooze for 1 to 90 days" in text(bad)
    r.refresh_from_db()
    assert r.status == Status.SENT and r.snoozed_until is None
    ok = client.post(f"/app/care/reminders/{r.pk}/snooze/", {"days": "14"})
    assert ok.status_code == 302 and ok["Location"] == "/app/care/"
    r.refresh_from_db()
    assert r.status == Status.SNOOZED and r.snoozed_until == w.today + days(14)
    assert "Snoozed until" in text(client.get("/app/care/"))
    # a snoozed reminder is not on the home to-do list
    assert f"/app/care/reminders/{r.pk}/" not in text(client.get("/app/"))


def test_done_elsewhere_records_the_service_and_closes_the_reminder(pages):
    w = pages
    ro, line = declined_brake_pads(w)
    scan.run_scan(["declined_repair"], today=w.today, now=w.now)
    r = Reminder.objects.for_group(w.group_a).get(kind=Kind.DECLINED_REPAIR)
    client = owner_client(w.owner)
    form = client.get(f"/app/care/reminders/{r.pk}/done-elsewhere/")
    assert form.status_code == 200 and 'name="odometer"' in text(form)
    future = client.post(
        f"/app/care/reminders/{r.pk}/done-elsewhere/",
        {"done_on": (w.today + days(3)).isoformat(), "odometer": "19000"},
    )
    assert future.status_code == 400 and "future" in text(future)
    junk = client.post(
        f"/app/care/reminders/{r.pk}/done-elsewhere/", {"done_on": "yesterday", "odometer": "x"}
    )
    assert junk.status_code == 422
    assert not DoneElsewhere.objects.for_group(w.group_a).exists()
    done = client.post(
        f"/app/care/reminders/{r.pk}/done-elsewhere/",
        {"done_on": (w.today - days(2)).isoformat(), "odometer": "19000"},
    )
    assert done.status_code == 302
    r.refresh_from_db()
    assert r.status == Status.DONE_ELSEWHERE
    record = DoneElsewhere.objects.for_group(w.group_a).get()
    assert record.odometer_km == 19000 and record.done_on == w.today - days(2)
    assert f'id="reminder-{r.pk}"' not in text(client.get("/app/care/"))
    # not a service: a licence cannot be "done elsewhere"
    licence = remind(w, Kind.LICENCE, vehicle=None, target="licence", date="2027-03-01")
    assert client.get(f"/app/care/reminders/{licence.pk}/done-elsewhere/").status_code == 422


def test_insurance_quote_in_one_tap(pages):
    w = pages
    r = remind(w, Kind.INSURANCE, date="2027-01-31", insurer="PICC", lead=30)
    client = owner_client(w.owner)
    assert r.action_url == f"/app/care/reminders/{r.pk}/"
    page = text(client.get(r.action_url))
    assert "Your car insurance ends on 2027-01-31" in page and "Ask for a quote" in page
    response = client.post(f"/app/care/reminders/{r.pk}/quote/", {"back": r.action_url})
    assert response.status_code == 302 and response["Location"] == r.action_url
    r.refresh_from_db()
    assert r.status == Status.DONE


def test_violations_with_fine_and_points_and_have_the_store_clear_it(pages):
    w = pages
    violation, _created = violations.record_violation(
        w.my_car,
        violations.ViolationInput(
            occurred_at=w.now - days(2),
            description="Speeding 20% over the limit",
            place="Chang'an Avenue",
            fine_cny="200",
            points=3,
        ),
        source="staff",
    )
    scan.run_scan(["violation"], today=w.today, now=w.now)
    r = Reminder.objects.for_group(w.group_a).get(kind=Kind.VIOLATION)
    client = owner_client(w.owner)
    page = text(client.get("/app/care/"))
    assert "Speeding 20% over the limit" in page and "Fine ¥200" in page and "3 points" in page
    assert f'action="/app/care/violations/{violation.pk}/clear/"' in page
    assert r.action_url == f"/app/care/reminders/{r.pk}/"
    assert "Have the store clear it" in text(client.get(r.action_url))
    # another owner cannot ask for it: 404, nothing changes
    assert (
        owner_client(w.owner_b).post(f"/app/care/violations/{violation.pk}/clear/").status_code
        == 404
    )
    violation.refresh_from_db()
    assert violation.status == ViolationStatus.OPEN
    response = client.post(f"/app/care/violations/{violation.pk}/clear/")
    assert response.status_code == 302
    violation.refresh_from_db()
    assert violation.status == ViolationStatus.CLEARING
    listing = text(client.get("/app/care/violations/"))
    assert "The store is clearing it" in listing


def test_weather_card_and_greeting_card_with_the_coupon(pages):
    w = pages
    weather = remind(
        w,
        Kind.WEATHER,
        vehicle=None,
        target="warning:1",
        due=w.today,
        city="Beijing",
        warning_kind="rainstorm",
        severity="orange",
        until="2026-07-21 20:00",
        advice={"n": "Avoid underpasses.", "i18n": {}},
    )
    birthday = remind(
        w,
        Kind.BIRTHDAY,
        vehicle=None,
        target="birthday",
        due=w.today,
        name="Wang Wei",
        store="Alpha North",
        coupon={"n": "Free car wash", "i18n": {}},
        coupon_code="GIFT123456",
    )
    client = owner_client(w.owner)
    page = text(client.get("/app/care/"))
    assert 'data-testid="weather-card"' in page and "Weather warning for Beijing" in page
    assert "Avoid underpasses." in page
    assert 'data-testid="greeting-card"' in page and "Happy birthday, Wang Wei!" in page
    assert "GIFT123456" in page and "Free car wash" in page
    tips = text(client.get(f"/app/care/reminders/{weather.pk}/"))
    assert 'data-testid="check-tips"' in tips
    gift = text(client.get(f"/app/care/reminders/{birthday.pk}/"))
    assert 'data-testid="coupon-code"' in gift and "GIFT123456" in gift


def test_reminders_in_the_home_to_do_list_link_their_one_tap_action(pages):
    w = pages
    declined_brake_pads(w)
    scan.run_scan(["declined_repair"], today=w.today, now=w.now)
    r = Reminder.objects.for_group(w.group_a).get(kind=Kind.DECLINED_REPAIR)
    insurance = remind(w, Kind.INSURANCE, date="2027-01-31", insurer="PICC")
    home = text(owner_client(w.owner).get("/app/"))
    assert "Time to look at" in home
    assert f'href="{r.action_url.replace("&", "&amp;")}"' in home
    assert f'href="/app/care/reminders/{insurance.pk}/"' in home
    assert 'href="/app/care/"' in home  # the "My reminders" tile


def test_isolation_other_owner_gets_404_and_a_third_owner_sees_nothing(pages):
    w = pages
    r = remind(w, Kind.INSURANCE, date="2027-01-31", insurer="PICC")
    violation, _ = violations.record_violation(
        w.my_car,
        violations.ViolationInput(occurred_at=w.now - days(1), description="Red light"),
        source="staff",
    )
    other = owner_client(w.owner_b)
    for url in (
        f"/app/care/reminders/{r.pk}/",
        f"/app/care/reminders/{r.pk}/done-elsewhere/",
    ):
        assert other.get(url).status_code == 404, url
    for url, data in (
        (f"/app/care/reminders/{r.pk}/snooze/", {"days": "7"}),
        (f"/app/care/reminders/{r.pk}/quote/", {}),
        (f"/app/care/reminders/{r.pk}/done-elsewhere/", {"done_on": w.today.isoformat()}),
        (f"/app/care/violations/{violation.pk}/clear/", {}),
    ):
        assert other.post(url, data).status_code == 404, url
    r.refresh_from_db()
    assert r.status == Status.SENT
    assert text(other.get("/app/care/")).count('data-testid="reminder"') == 0
    third = owner_client(w.third)
    page = third.get("/app/care/")
    assert page.status_code == 200 and 'data-testid="no-reminders"' in text(page)
    assert 'data-testid="violation"' not in text(third.get("/app/care/violations/"))
    assert third.get(f"/app/care/reminders/{r.pk}/").status_code == 404
    # signed out: to the sign-in page
    anonymous = Client().get("/app/care/")
    assert anonymous.status_code == 302 and anonymous["Location"].startswith("/app/login/")


# --- console: the care week --------------------------------------------------------------------
def test_the_advisors_care_week_call_book_and_mark_handled(pages):
    w = pages
    declined_brake_pads(w)
    scan.run_scan(["declined_repair"], today=w.today, now=w.now)
    r = Reminder.objects.for_group(w.group_a).get(kind=Kind.DECLINED_REPAIR)
    advisor = staff_client(w.advisor_a)
    page = text(advisor.get("/console/care/"))
    assert f'id="care-{r.pk}"' in page and w.customer.name in page
    assert 'href="tel:+8613800001111"' in page
    # who got what: the contact policy's decisions for it (the inbox and a text message)
    row = page[page.index(f'id="care-{r.pk}"') :]
    delivery = row[
        row.index('data-testid="delivery"') : row.index(
            "</td>", row.index('data-testid="delivery"')
        )
    ]
    assert "In-app inbox" in delivery and "Text message" in delivery
    book = f"/console/service/book/?customer={w.customer.pk}&amp;vehicle={w.my_car.pk}"
    assert book in page and "service=problem" in page
    booking = text(advisor.get(book.replace("&amp;", "&") + "&service=problem"))
    assert w.customer.name in booking
    # the other group's advisor neither sees it nor can mark it
    other = staff_client(w.advisor_b)
    assert f'id="care-{r.pk}"' not in text(other.get("/console/care/"))
    assert other.post(f"/console/care/{r.pk}/handled/").status_code == 404
    r.refresh_from_db()
    assert r.handled_at is None
    done = advisor.post(f"/console/care/{r.pk}/handled/", {"kind": "declined_repair"})
    assert done.status_code == 302 and done["Location"] == "/console/care/?kind=declined_repair"
    r.refresh_from_db()
    assert r.handled_by_id == w.advisor_a.pk
    assert f'id="care-{r.pk}"' not in text(advisor.get("/console/care/"))


def test_care_pages_need_their_capabilities(pages):
    w = pages
    sales, tech = staff_client(w.sales_a), staff_client(w.tech_a)
    for url in ("/console/care/", "/console/care/violations/", "/console/care/weather/"):
        assert sales.get(url).status_code == 403, url
        assert tech.get(url).status_code == 403, url
    assert staff_client(w.advisor_a).get("/console/care/figures/").status_code == 403
    assert staff_client(w.advisor_a).get("/console/care/weather/").status_code == 403
    assert staff_client(w.cs_a).get("/console/care/").status_code == 200
    anonymous = Client().get("/console/care/")
    assert anonymous.status_code == 302 and "/login/" in anonymous["Location"]
    # the console menu shows only what the role may open
    assert 'href="/console/care/"' in text(staff_client(w.advisor_a).get("/console/"))
    assert 'href="/console/care/"' not in text(sales.get("/console/"))


def test_declined_items_shown_at_booking_and_check_in(pages):
    from m4s.service import booking as booking_services

    w = pages
    declined_brake_pads(w, rating="red", mm="2.0")
    advisor = staff_client(w.advisor_a)
    book = text(advisor.get(f"/console/service/book/?customer={w.customer.pk}"))
    assert 'data-testid="declined-items"' in book and "2 mm" in book
    assert 'data-testid="book-declined"' in book
    walk_in = text(advisor.get(f"/console/service/check-in/?customer={w.customer.pk}"))
    assert 'data-testid="declined-items"' in walk_in
    starts = timezone.make_aware(dt.datetime.combine(w.day, dt.time(10)), w.store_a.tz)
    appointment, _ = booking_services.book_for_customer(
        w.advisor_a,
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=starts,
        mode="waiting",
        package_id=w.s10k.pk,
        problem="",
        channel="phone",
        idempotency_key="care-panel-1",
    )
    page = text(advisor.get(f"/console/service/appointments/{appointment.pk}/"))
    assert 'data-testid="declined-items"' in page and "Front brake pads" in page
    # the other group's advisor does not get the page at all
    assert (
        staff_client(w.advisor_b)
        .get(f"/console/service/appointments/{appointment.pk}/")
        .status_code
        == 404
    )


# --- console: violations, weather, figures -----------------------------------------------------
def test_staff_record_a_violation_by_plate_and_the_owner_is_reminded(pages):
    w = pages
    advisor = staff_client(w.advisor_a)
    when = (timezone.localtime() - days(1)).strftime("%Y-%m-%dT%H:%M")
    data = {
        "plate": w.my_car.plate,
        "occurred_at": when,
        "description": "Parking on the pavement",
        "fine_cny": "150",
        "points": "0",
    }
    response = post(advisor, "/console/care/violations/", data)
    assert response.status_code == 302, text(response)
    v = Violation.objects.for_group(w.group_a).get()
    assert v.fine_cny == Decimal("150") and v.source == "staff" and v.recorded_by == w.advisor_a
    assert Reminder.objects.for_group(w.group_a).filter(kind=Kind.VIOLATION).exists()
    assert "Parking on the pavement" in text(advisor.get("/console/care/violations/"))
    # another group's car, a fine that is not a number, the far future: 4xx, nothing stored
    for bad in (
        {**data, "plate": w.other_car.plate},
        {**data, "fine_cny": "lots"},
        {**data, "occurred_at": "2099-01-01T10:00"},
    ):
        r = post(advisor, "/console/care/violations/", bad)
        assert 400 <= r.status_code < 500 and 'data-testid="error"' in text(r)
    assert Violation.objects.unscoped().count() == 1
    # marked cleared by the store: the owner's reminder closes
    assert (
        post(advisor, f"/console/care/violations/{v.pk}/status/", {"status": "cleared"}).status_code
        == 302
    )
    v.refresh_from_db()
    assert v.status == ViolationStatus.CLEARED
    assert (
        staff_client(w.advisor_b)
        .post(f"/console/care/violations/{v.pk}/status/", {"status": "open"})
        .status_code
        == 404
    )
    v.refresh_from_db()
    assert v.status == ViolationStatus.CLEARED


def test_violation_file_import_by_the_group_admin(pages):
    w = pages
    when = (timezone.localtime() - days(3)).strftime("%Y-%m-%d %H:%M")
    good = (
        "车牌,违章时间,违章行为,罚款,扣分,决定书编号\n"
        f"{w.my_car.plate},{when},闯红灯,200,6,REF-1\n"
        f"{w.my_car.plate},{when},违停,100,0,REF-2\n"
    ).encode()
    admin = staff_client(w.admin_a)
    upload = SimpleUploadedFile("violations.csv", good, content_type="text/csv")
    response = post(admin, "/console/care/violations/import/", {"file": upload})
    assert response.status_code == 302, text(response)
    assert Violation.objects.for_group(w.group_a).count() == 2
    # again: duplicates by reference, nothing new
    again = SimpleUploadedFile("violations.csv", good, content_type="text/csv")
    assert post(admin, "/console/care/violations/import/", {"file": again}).status_code == 302
    assert Violation.objects.for_group(w.group_a).count() == 2
    # one bad row (another group's car): nothing stored, the row named
    bad = SimpleUploadedFile(
        "bad.csv",
        (
            "plate,occurred_at,description\n"
            f"{w.my_car.plate},{when},Speeding\n{w.other_car.plate},{when},Speeding\n"
        ).encode(),
        content_type="text/csv",
    )
    r = post(admin, "/console/care/violations/import/", {"file": bad})
    assert r.status_code == 422 and "Row 3" in text(r)
    assert Violation.objects.for_group(w.group_a).count() == 2
    # the advisor may record one but not import a file
    assert 'data-testid="import-form"' not in text(
        staff_client(w.advisor_a).get("/console/care/violations/")
    )
    upload = SimpleUploadedFile("violations.csv", good, content_type="text/csv")
    assert (
        post(
            staff_client(w.advisor_a), "/console/care/violations/import/", {"file": upload}
        ).status_code
        == 403
    )


def test_weather_warning_published_by_the_group_admin_reaches_owners(pages):
    w = pages
    admin = staff_client(w.admin_a)
    assert admin.get("/console/care/weather/").status_code == 200
    now = timezone.localtime()
    data = {
        "city": "Beijing",
        "kind": "rainstorm",
        "severity": "orange",
        "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (now + dt.timedelta(hours=20)).strftime("%Y-%m-%dT%H:%M"),
        "radius_km": "60",
        "latitude": str(w.store_a.latitude or ""),
        "longitude": str(w.store_a.longitude or ""),
        "advice_en": "Avoid underpasses.",
        "advice_zh-hans": "避开下穿隧道。",
    }
    bad = post(admin, "/console/care/weather/", {**data, "ends_at": "2020-01-01T00:00"})
    assert bad.status_code == 422 and not WeatherWarning.objects.exists()
    response = post(admin, "/console/care/weather/", data)
    assert response.status_code == 302, text(response)
    warning = WeatherWarning.objects.get()
    assert (
        warning.dealer_group_id == w.group_a.pk
        and warning.advice_i18n["en"] == "Avoid underpasses."
    )
    assert "Beijing" in text(admin.get("/console/care/weather/"))


def test_care_figures_for_the_manager(pages):
    w = pages
    declined_brake_pads(w)
    scan.run_scan(["declined_repair"], today=w.today, now=w.now)
    manager = staff_client(w.manager_a)
    page = manager.get("/console/care/figures/")
    assert page.status_code == 200
    body = text(page)
    for testid in ("kind-chart", "trend-chart", "kpis"):
        assert f'data-testid="{testid}"' in body
    assert 'data-kind="declined_repair"' in body
    assert manager.get("/console/care/figures/?month=garbage").status_code == 200
    assert manager.get("/console/care/figures/?store=999999").status_code == 200
    # the other group's manager counts none of group A's reminders
    manager_b = make_staff("manager-b", Role.STORE_MANAGER, w.group_b, [w.store_b])
    assert 'data-kind="declined_repair"' not in text(
        staff_client(manager_b).get("/console/care/figures/")
    )


# --- back office: a rule's preview in every language ------------------------------------------
def test_rule_preview_in_each_language_in_the_back_office(pages):
    from m4s.care.models import ReminderRule

    w = pages
    rule = ReminderRule.objects.for_group(w.group_a).get(kind=Kind.INSURANCE)
    rule.title_i18n = {"en": "Insurance for %(plate)s ends %(date)s"}
    rule.save(update_fields=["title_i18n"])
    admin = staff_client(w.admin_a)
    page = admin.get(f"/admin/care/reminderrule/{rule.pk}/change/")
    assert page.status_code == 200
    body = text(page)
    assert 'data-testid="rule-preview"' in body
    for code in ("zh-hans", "en", "ko"):
        assert f'data-testid="preview-{code}"' in body, code
    english = body[body.index('data-testid="preview-en"') :]
    assert "Insurance for 京A12345 ends 2026-12-31" in english[:400]
    assert "%(plate)s" in body  # the placeholders the group's own template may use
    # another group's rule is not there for this admin; the advisor has no back office
    other = ReminderRule.objects.for_group(w.group_b).get(kind=Kind.INSURANCE)
    assert admin.get(f"/admin/care/reminderrule/{other.pk}/change/").status_code in (302, 404)
    assert staff_client(w.advisor_a).get(
        f"/admin/care/reminderrule/{rule.pk}/change/"
    ).status_code in (302, 403)
