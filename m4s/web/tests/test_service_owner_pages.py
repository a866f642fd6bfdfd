"""The owner app's service pages: my visits, booking (idempotent), moving and cancelling a visit,
the repair order with item-by-item approval, revisit surveys, the car page's maintenance block
and the home to-dos. Another group's owner sees none of it (404)."""

import datetime as dt
import io
import random
import re
from decimal import Decimal

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from m4s.owners.middleware import SESSION_KEY
from m4s.service import billing as billing_services
from m4s.service import booking as booking_services
from m4s.service import surveys as survey_services
from m4s.service import workshop as workshop_services
from m4s.service.choices import AppointmentStatus, Approval, SurveyStatus
from m4s.service.models import (
    Appointment,
    AppointmentPhoto,
    PartStock,
    RepairLine,
    ServiceSettings,
    Survey,
)
from m4s.service.tests.helpers import at
from m4s.web.todo import owner_todos

pytestmark = pytest.mark.django_db
HX = {"HTTP_HX_REQUEST": "true"}


def sign_in(client, owner):
    """Signed in, reading English (the assertions quote the English messages)."""
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"


def body(response) -> str:
    return response.content.decode()


def book(w, day=None, hour=9, minute=0, package=None, vehicle=None) -> Appointment:
    appointment, _created = booking_services.book_appointment(
        customer=w.customer,
        vehicle=vehicle or w.my_car,
        store=w.store_a,
        starts_at=at(day or w.day, hour, minute, w.store_a),
        package_id=(package or w.s10k).pk,
        channel="app",
        owner=w.owner,
    )
    return appointment


def second_car(w):
    """Another car of the test owner: the first is in the workshop, this one can be booked."""
    from m4s.customers import services as customer_services
    from m4s.demo import synthetic
    from m4s.vehicles.models import Vehicle

    car = Vehicle.objects.create(
        dealer_group=w.group_a,
        vin=synthetic.make_vin(random.Random(99)),
        plate="京B67890",
        brand="Toyota",
        model="Corolla",
        odometer_km=9000,
        purchase_date=timezone.localdate() - dt.timedelta(days=400),
    )
    customer_services.bind_customer_vehicle(w.customer, car, via="app", invitation=None, staff=None)
    return car


def inspected(w):
    """A checked-in car whose inspection found worn brake pads (red) and wipers (amber)."""
    ro = workshop_services.check_in(
        w.advisor_a, store=w.store_a, appointment=book(w), odometer=18620, fuel_pct=40
    )
    points = {p.name: p.pk for p in w.template.points.all()}
    results = []
    for name, pk in points.items():
        r = {"point_id": pk, "rating": "green"}
        if name == "Front brake pads":
            r.update(rating="red", note="2 mm left", measurement="2.0")
        if name == "Wipers":
            r.update(rating="amber", note="streaking")
        results.append(r)
    workshop_services.record_inspection(w.tech_a, ro, results)
    workshop_services.complete_inspection(w.tech_a, ro)
    lines = {ln.operation.code: ln for ln in ro.lines.select_related("operation")}
    return ro, lines


def delivered(w):
    """The whole visit: everything approved, done, settled and delivered; the survey opened."""
    ro, lines = inspected(w)
    for code in ("PADF", "WIPE"):
        workshop_services.decide_line(ro, lines[code].pk, True, owner=w.owner)
    for line in RepairLine.objects.for_group(w.group_a).filter(repair_order=ro):
        workshop_services.clock_on(w.tech_a, ro, line.pk)
        workshop_services.clock_off(w.tech_a, ro, line.pk, done=True)
    workshop_services.advance(w.tech_a, ro, "quality_check")
    workshop_services.advance(w.advisor_a, ro, "ready")
    billing_services.settle(w.advisor_a, ro)
    workshop_services.deliver(w.advisor_a, ro, odometer=18622)
    survey_services.open_due_surveys(now=timezone.now() + dt.timedelta(days=1, hours=1))
    return ro, Survey.objects.for_group(w.group_a).get(repair_order=ro)


def png(name="photo.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


def key_of(page: str) -> str:
    return re.search(r'name="idempotency_key" value="([0-9a-f]+)"', page).group(1)


# --- sign-in ---------------------------------------------------------------------------------------
def test_every_page_needs_sign_in(client, workshop):
    w = workshop
    appointment = book(w)
    urls = [
        "/app/service/",
        "/app/service/book/",
        f"/app/service/book/slots/?vehicle={w.my_car.pk}&date={w.day}",
        f"/app/service/appointments/{appointment.pk}/reschedule/",
        f"/app/service/appointments/{appointment.pk}/cancel/",
        "/app/service/orders/1/",
        "/app/service/surveys/",
        "/app/service/surveys/1/",
    ]
    for url in urls:
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/app/login/?next=/app/service/")
    r = client.post(f"/app/service/appointments/{appointment.pk}/cancel/")
    assert r.status_code == 302 and r["Location"].startswith("/app/login/")
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED


def test_navigation_links_booking_and_surveys(client, workshop):
    sign_in(client, workshop.owner)
    assert 'href="/app/service/book/"' in body(client.get("/app/g/service/"))
    assert 'href="/app/service/surveys/"' in body(client.get("/app/g/community/"))


# --- my visits -------------------------------------------------------------------------------------
def test_my_visits_lists_upcoming_open_and_past_in_the_store_time_zone(
    client, workshop, django_assert_max_num_queries
):
    w = workshop
    w.store_a.timezone = "Asia/Tokyo"  # an hour ahead of the server's Asia/Shanghai
    w.store_a.save()
    ro, _lines = inspected(w)  # books 09:00 Tokyo time and checks the car in
    nxt = book(w, day=w.day + dt.timedelta(days=1), hour=10, minute=30, vehicle=second_car(w))
    sign_in(client, w.owner)
    with django_assert_max_num_queries(14):  # a fixed number, whatever the history
        r = client.get("/app/service/")
    page = body(r)
    assert r.status_code == 200
    assert 'href="/app/service/book/"' in page
    upcoming = page.split('data-testid="appointment"')[1]
    assert "10,000 km service" in upcoming and w.store_a.display_title in upcoming
    assert "10:30" in upcoming and "09:30" not in upcoming  # store time, not server time
    assert w.advisor_a.display_name in upcoming and "I will wait" in upcoming
    assert f"/app/service/appointments/{nxt.pk}/reschedule/" in upcoming
    assert f"/app/service/appointments/{nxt.pk}/cancel/" in upcoming
    assert f'href="/app/service/orders/{ro.pk}/"' in page
    assert 'data-testid="needs-approval"' in page and "2 items wait for your approval" in page
    assert 'aria-current="step"' in page  # the stepper marks where the car is


def test_no_car_no_visits(client, workshop):
    sign_in(client, workshop.owner_b)
    page = body(client.get("/app/service/"))
    assert 'data-testid="no-appointments"' in page
    page = body(client.get("/app/service/book/"))
    assert 'data-testid="no-car"' in page and "/app/cars/" in page


# --- booking ---------------------------------------------------------------------------------------
def test_book_page_preselects_car_and_package_with_prices_and_free_times(client, workshop):
    w = workshop
    sign_in(client, w.owner)
    r = client.get(f"/app/service/book/?vehicle={w.my_car.pk}&package={w.s10k.pk}")
    page = body(r)
    assert r.status_code == 200
    assert re.search(rf'name="vehicle" value="{w.my_car.pk}" required\s+checked', page)
    assert re.search(rf'name="service" value="{w.s10k.pk}" required\s+checked', page)
    # Oil 120 + inspection 0 + filter 58 + oil 368 from the published price list, with 13 % VAT.
    assert "¥616.98" in page and "¥546.00" not in page
    assert page.count('class="chip day"') == 14
    assert 'name="slot"' in page and key_of(page)
    assert 'data-testid="times"' in page


def test_free_times_partial_follows_the_choices(client, workshop):
    w = workshop
    sign_in(client, w.owner)
    url = f"/app/service/book/slots/?vehicle={w.my_car.pk}&service={w.s10k.pk}&store={w.store_a.pk}&mode=waiting"
    r = client.get(f"{url}&date={w.day}", **HX)
    assert r.status_code == 200
    assert f'value="{at(w.day, 8, 30, w.store_a).isoformat()}"' in body(r)
    assert "Morning" in body(r) and "Afternoon" in body(r)
    # Bad input: a clear message and a 4xx, never a 500.
    r = client.get(f"{url}&date=not-a-date", **HX)
    assert r.status_code == 400 and "Choose a valid date." in body(r)
    r = client.get(f"{url}&date={timezone.localdate() - dt.timedelta(days=1)}", **HX)
    assert r.status_code == 400 and "That day has passed" in body(r)
    r = client.get(f"{url}&date={w.day}&mode=flying", **HX)
    assert r.status_code == 400 and "wait or drop the car off" in body(r)
    bad = url.replace(f"service={w.s10k.pk}", "service=999999")
    r = client.get(f"{bad}&date={w.day}", **HX)
    assert r.status_code == 404 and "No such service package." in body(r)
    other = url.replace(f"store={w.store_a.pk}", f"store={w.store_b.pk}")
    assert client.get(f"{other}&date={w.day}", **HX).status_code == 404


def test_booking_posted_twice_books_once(client, workshop):
    w = workshop
    sign_in(client, w.owner)
    key = key_of(body(client.get(f"/app/service/book/?vehicle={w.my_car.pk}")))
    slot = at(w.day, 9, 0, w.store_a)
    form = {
        "idempotency_key": key,
        "vehicle": w.my_car.pk,
        "service": w.s10k.pk,
        "store": w.store_a.pk,
        "date": w.day.isoformat(),
        "mode": "dropoff",
        "slot": slot.isoformat(),
    }
    first = client.post("/app/service/book/", form)
    second = client.post("/app/service/book/", form)  # a double tap / resubmitted form
    assert first.status_code == second.status_code == 302
    assert first["Location"] == "/app/service/"
    booked = Appointment.objects.for_group(w.group_a).filter(vehicle=w.my_car)
    assert booked.count() == 1
    a = booked.get()
    assert (a.starts_at, a.mode, a.package_id, a.channel, a.owner_id, a.idempotency_key) == (
        slot,
        "dropoff",
        w.s10k.pk,
        "app",
        w.owner.pk,
        key,
    )
    page = body(client.get("/app/service/"))
    assert 'data-testid="flash"' in page and "Your visit is booked" in page
    # A new form (new key) for the same car is refused with the service's message.
    form["idempotency_key"] = key_of(body(client.get("/app/service/book/")))
    r = client.post("/app/service/book/", form)
    assert r.status_code == 409 and "already has a visit booked" in body(r)
    assert booked.count() == 1


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"service": "999999"}, 404, "No such service package."),
        ({"service": "oil please"}, 404, "No such service package."),
        ({"service": ""}, 400, "Choose a service package or describe the problem."),
        ({"slot": "yesterday at noon"}, 400, "Choose one of the free times."),
        ({"slot": ""}, 400, "Choose one of the free times."),
        ({"slot": "0001-01-01T00:00:00+14:00"}, 400, "Choose one of the free times."),
        ({"slot": "PAST"}, 400, "already passed"),
        ({"slot": "FAR"}, 400, "cannot be booked yet"),
        ({"slot": "ODD"}, 409, "no longer free"),
        ({"date": "2024-13-45"}, 400, "Choose a valid date."),
        ({"mode": "flying"}, 400, "wait or drop the car off"),
        ({"vehicle": "0"}, 404, "No such car."),
        ({"store": "STORE_B"}, 404, "No such store."),
        ({"service": "problem", "problem": "  "}, 400, "describe the problem"),
    ],
)
def test_bad_booking_input_is_a_4xx_with_a_message(client, workshop, change, status, message):
    w = workshop
    sign_in(client, w.owner)
    form = {
        "idempotency_key": "abcdef0123456789",
        "vehicle": w.my_car.pk,
        "service": w.s10k.pk,
        "store": w.store_a.pk,
        "date": w.day.isoformat(),
        "mode": "waiting",
        "slot": at(w.day, 9, 0, w.store_a).isoformat(),
    }
    special = {
        "PAST": (timezone.now() - dt.timedelta(hours=1)).isoformat(),
        "FAR": at(w.day + dt.timedelta(days=400), 9, 0, w.store_a).isoformat(),
        "ODD": at(w.day, 9, 7, w.store_a).isoformat(),
        "STORE_B": w.store_b.pk,
    }
    form.update({k: special.get(v, v) for k, v in change.items()})
    r = client.post("/app/service/book/", form)
    assert r.status_code == status
    assert message in body(r) and 'data-testid="error"' in body(r)
    assert not Appointment.objects.for_group(w.group_a).filter(vehicle=w.my_car).exists()


def test_book_a_described_problem_with_a_photo(client, workshop):
    w = workshop
    sign_in(client, w.owner)
    form = {
        "idempotency_key": "problem-key-1",
        "vehicle": w.my_car.pk,
        "service": "problem",
        "problem": "Squeak from the front wheels when braking",
        "store": w.store_a.pk,
        "mode": "waiting",
        "slot": at(w.day, 14, 0, w.store_a).isoformat(),
    }
    r = client.post("/app/service/book/", {**form, "photos": [io.BytesIO(b"not an image")]})
    assert r.status_code == 400 and "Only pictures in JPEG, PNG or WebP" in body(r)
    assert not Appointment.objects.for_group(w.group_a).exists()
    r = client.post("/app/service/book/", {**form, "photos": [png()]})
    assert r.status_code == 302
    a = Appointment.objects.for_group(w.group_a).get()
    assert a.package_id is None and a.problem == form["problem"]
    assert AppointmentPhoto.objects.for_group(w.group_a).filter(appointment=a).count() == 1
    assert "Diagnosis of the problem you described" in body(client.get("/app/service/"))


def test_short_parts_offer_the_delivery_day(client, workshop):
    w = workshop
    arrives = w.day + dt.timedelta(days=3)
    PartStock.objects.for_group(w.group_a).filter(
        store=w.store_a, part=w.catalogue.parts["90915-YZZE1"]
    ).update(on_hand=0, incoming=10, next_delivery_date=arrives)
    sign_in(client, w.owner)
    url = f"/app/service/book/slots/?vehicle={w.my_car.pk}&service={w.s10k.pk}&store={w.store_a.pk}&mode=waiting"
    page = body(client.get(f"{url}&date={w.day}", **HX))
    assert 'data-testid="parts-short"' in page and 'name="slot"' not in page
    assert f"date={arrives.isoformat()}" in page
    # The offered day has times, and its chip is on the page even beyond the first 14 days.
    page = body(
        client.get(f"/app/service/book/?vehicle={w.my_car.pk}&service={w.s10k.pk}&date={arrives}")
    )
    assert f'value="{arrives.isoformat()}" checked' in page and 'name="slot"' in page


# --- reschedule and cancel -------------------------------------------------------------------------
def test_reschedule_moves_the_visit(client, workshop):
    w = workshop
    appointment = book(w)
    sign_in(client, w.owner)
    r = client.get(f"/app/service/appointments/{appointment.pk}/reschedule/")
    assert r.status_code == 200 and 'name="slot"' in body(r)
    later = w.day + dt.timedelta(days=1)
    r = client.get(
        f"/app/service/appointments/{appointment.pk}/reschedule/slots/?date={later}&mode=dropoff",
        **HX,
    )
    assert f'value="{at(later, 10, 0, w.store_a).isoformat()}"' in body(r)
    r = client.post(
        f"/app/service/appointments/{appointment.pk}/reschedule/",
        {"date": later.isoformat(), "mode": "dropoff", "slot": "garbage"},
    )
    assert r.status_code == 400 and "Choose one of the free times." in body(r)
    r = client.post(
        f"/app/service/appointments/{appointment.pk}/reschedule/",
        {
            "date": later.isoformat(),
            "mode": "dropoff",
            "slot": at(later, 10, 0, w.store_a).isoformat(),
        },
    )
    assert r.status_code == 302 and r["Location"] == "/app/service/"
    appointment.refresh_from_db()
    assert appointment.starts_at == at(later, 10, 0, w.store_a) and appointment.mode == "dropoff"
    assert appointment.status == AppointmentStatus.BOOKED


def test_cancel_asks_first_then_cancels(client, workshop):
    w = workshop
    appointment = book(w)
    sign_in(client, w.owner)
    r = client.get(f"/app/service/appointments/{appointment.pk}/cancel/")
    assert r.status_code == 200 and 'data-testid="confirm-cancel"' in body(r)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED  # looking is not cancelling
    r = client.post(f"/app/service/appointments/{appointment.pk}/cancel/")
    assert r.status_code == 302
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.CANCELLED
    page = body(client.get("/app/service/"))
    assert "Your visit is cancelled." in page and 'data-testid="no-appointments"' in page


def test_cancel_after_the_cut_off_shows_the_rule(client, workshop):
    w = workshop
    appointment = book(w)
    ServiceSettings.objects.for_group(w.group_a).filter(store=w.store_a).update(
        change_cutoff_hours=200
    )
    sign_in(client, w.owner)
    r = client.post(f"/app/service/appointments/{appointment.pk}/cancel/")
    assert r.status_code == 409
    assert "Changes are possible until 200 hours before the visit" in body(r)
    appointment.refresh_from_db()
    assert appointment.status == AppointmentStatus.BOOKED
    later = w.day + dt.timedelta(days=1)
    r = client.post(
        f"/app/service/appointments/{appointment.pk}/reschedule/",
        {
            "date": later.isoformat(),
            "mode": "waiting",
            "slot": at(later, 10, 0, w.store_a).isoformat(),
        },
    )
    assert r.status_code == 409 and "200 hours" in body(r)


# --- repair order ----------------------------------------------------------------------------------
def test_order_page_shows_findings_lines_and_totals(client, workshop):
    w = workshop
    ro, lines = inspected(w)
    sign_in(client, w.owner)
    r = client.get(f"/app/service/orders/{ro.pk}/")
    page = body(r)
    assert r.status_code == 200
    red = page.split('data-testid="finding-red"')[1].split("</li>")[0]
    assert "Front brake pads" in red and "2 mm left" in red and "2 mm" in red
    assert "Wipers" in page.split('data-testid="finding-amber"')[1].split("</li>")[0]
    assert "Waiting for your approval" in page  # the stepper / status
    assert "Front brake pads: 2 mm left" in page  # why the line is recommended
    assert "¥926.60" in page  # pads: labour 260 + parts 560, with 13 % VAT
    assert 'data-testid="total-pending"' in page
    pending = page.split('data-testid="total-pending">')[1].split("<")[0]
    wipers_total = Decimal("22.60") + Decimal("192.10")  # labour 20 + 2 × 85, with VAT
    assert pending == f"¥{Decimal('926.60') + wipers_total:,.2f}"


def test_approve_and_decline_update_the_lines_and_totals(client, workshop):
    w = workshop
    ro, lines = inspected(w)
    pads, wipers = lines["PADF"], lines["WIPE"]
    sign_in(client, w.owner)
    r = client.post(f"/app/service/orders/{ro.pk}/lines/{pads.pk}/approve/", **HX)
    assert r.status_code == 200
    part = body(r)
    assert part.startswith('<section id="ro-lines"')  # the partial, not the whole page
    pads.refresh_from_db()
    assert pads.approval == Approval.APPROVED and pads.approval_channel == "app"
    approved = part.split('data-testid="total-approved">')[1].split("<")[0]
    assert approved == "¥1,543.58"  # booked 616.98 + pads 926.60, VAT included
    assert part.split('data-testid="total-pending">')[1].split("<")[0] == "¥214.70"
    # Without JavaScript: a normal POST and a redirect back to the order.
    r = client.post(f"/app/service/orders/{ro.pk}/lines/{wipers.pk}/decline/")
    assert r.status_code == 302 and r["Location"] == f"/app/service/orders/{ro.pk}/"
    wipers.refresh_from_db()
    assert wipers.approval == Approval.DECLINED
    page = body(client.get(r["Location"]))
    assert page.split('data-testid="total-declined">')[1].split("<")[0] == "¥214.70"
    assert page.split('data-testid="total-pending">')[1].split("<")[0] == "¥0.00"
    assert 'data-testid="approve"' not in page
    # Changing one's mind after deciding is refused with the message, in place.
    r = client.post(f"/app/service/orders/{ro.pk}/lines/{wipers.pk}/approve/", **HX)
    assert r.status_code == 409 and "already decided" in body(r)
    r = client.post(f"/app/service/orders/{ro.pk}/lines/999999/approve/", **HX)
    assert r.status_code == 404 and "No such line." in body(r)


def test_settled_order_shows_the_invoice(client, workshop):
    w = workshop
    ro, _survey = delivered(w)
    sign_in(client, w.owner)
    page = body(client.get(f"/app/service/orders/{ro.pk}/"))
    assert 'data-testid="invoice"' in page and ro.invoice.number in page
    assert f"¥{ro.invoice.customer_pay_total:,.2f}" in page
    assert "Tax (13%)" in page
    assert "Delivered" in body(client.get("/app/service/")).split('data-testid="past"')[1]


# --- surveys ---------------------------------------------------------------------------------------
def test_survey_through_the_page_stores_the_answers(client, workshop):
    w = workshop
    _ro, survey = delivered(w)
    sign_in(client, w.owner)
    page = body(client.get("/app/service/surveys/"))
    assert f'href="/app/service/surveys/{survey.pk}/"' in page and "Waiting for your answer" in page
    page = body(client.get(f"/app/service/surveys/{survey.pk}/"))
    assert "Service advisor" in page and "How likely are you to recommend us to a friend?" in page
    assert page.count('name="quality"') == 10 and page.count('name="nps"') == 11
    answers = {"initiation": "9", "advisor": "10", "facility": "8", "pickup": "9", "quality": "5"}
    r = client.post(f"/app/service/surveys/{survey.pk}/", {**answers, "comment": "Hi"})
    assert r.status_code == 400 and "whole number from 0 to 10" in body(r)
    assert 'value="10" required checked' in body(r)  # the answers given so far are kept
    r = client.post(
        f"/app/service/surveys/{survey.pk}/",
        {**answers, "nps": "6", "comment": "The squeak is still there"},
    )
    assert r.status_code == 302
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.ANSWERED
    assert (survey.initiation, survey.advisor_score, survey.quality, survey.nps) == (9, 10, 5, 6)
    assert survey.comment == "The squeak is still there" and survey.needs_follow_up
    page = body(client.get(r["Location"]))
    assert 'data-testid="survey-thanks"' in page and "The squeak is still there" in page
    r = client.post(f"/app/service/surveys/{survey.pk}/", {**answers, "nps": "10"})
    assert r.status_code == 409 and "already answered" in body(r)
    survey.refresh_from_db()
    assert survey.nps == 6


def test_expired_survey_says_so(client, workshop):
    w = workshop
    _ro, survey = delivered(w)
    Survey.objects.for_group(w.group_a).filter(pk=survey.pk).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    sign_in(client, w.owner)
    page = body(client.get(f"/app/service/surveys/{survey.pk}/"))
    assert 'data-testid="survey-closed"' in page and 'name="nps"' not in page
    assert "Closed" in body(client.get("/app/service/surveys/"))
    scores = {f: "9" for f in ("initiation", "advisor", "facility", "pickup", "quality", "nps")}
    r = client.post(f"/app/service/surveys/{survey.pk}/", scores)
    assert r.status_code == 410 and "This survey has closed." in body(r)


# --- tenant isolation ------------------------------------------------------------------------------
def test_another_groups_owner_gets_404_everywhere(client, workshop):
    w = workshop
    ro, lines = inspected(w)
    appointment = book(w, day=w.day + dt.timedelta(days=1), vehicle=second_car(w))
    survey = Survey.objects.create(
        dealer_group=w.group_a,
        repair_order=ro,
        store=w.store_a,
        customer=w.customer,
        owner=w.owner,
        advisor=w.advisor_a,
        status=SurveyStatus.OPEN,
        available_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    sign_in(client, w.owner_b)
    for url in (
        f"/app/service/orders/{ro.pk}/",
        f"/app/service/appointments/{appointment.pk}/reschedule/",
        f"/app/service/appointments/{appointment.pk}/cancel/",
        f"/app/service/surveys/{survey.pk}/",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert 'data-testid="error"' in body(r) and "Front brake pads" not in body(r)
    posts = [
        f"/app/service/orders/{ro.pk}/lines/{lines['PADF'].pk}/approve/",
        f"/app/service/orders/{ro.pk}/lines/{lines['WIPE'].pk}/decline/",
        f"/app/service/appointments/{appointment.pk}/cancel/",
        f"/app/service/appointments/{appointment.pk}/reschedule/",
        f"/app/service/surveys/{survey.pk}/",
    ]
    for url in posts:
        assert client.post(url, {"nps": "1"}).status_code == 404, url
    assert (
        client.get(
            f"/app/service/appointments/{appointment.pk}/reschedule/slots/?date={w.day}", **HX
        ).status_code
        == 404
    )
    lines["PADF"].refresh_from_db()
    appointment.refresh_from_db()
    survey.refresh_from_db()
    assert lines["PADF"].approval == Approval.PENDING
    assert appointment.status == AppointmentStatus.BOOKED and survey.nps is None
    page = body(client.get("/app/service/"))
    assert w.my_car.plate not in page and ro.number not in page
    surveys = body(client.get("/app/service/surveys/")).split("<main")[1]
    assert f"/app/service/surveys/{survey.pk}/" not in surveys  # (icons' SVG paths hold digits)


# --- car page and home -----------------------------------------------------------------------------
def test_car_page_shows_maintenance_with_one_tap_booking(client, workshop):
    w = workshop
    sign_in(client, w.owner)
    page = body(client.get("/app/cars/"))
    block = page.split('data-testid="maintenance"')[1]
    oil = block.split('data-testid="due-item"')[1].split("</li>")[0]
    assert "Engine oil and filter" in oil and "Overdue" in oil and "10000 km" in oil
    assert f'href="/app/service/book/?vehicle={w.my_car.pk}&amp;package={w.s10k.pk}"' in oil
    assert f'href="/app/service/book/?vehicle={w.my_car.pk}"' in page


def test_home_todos_come_from_the_service_state(client, workshop, django_assert_max_num_queries):
    w = workshop
    sign_in(client, w.owner)
    page = body(client.get("/app/"))
    assert "Engine oil and filter is overdue on 京A12345" in page
    assert f"/app/service/book/?vehicle={w.my_car.pk}&amp;package={w.s10k.pk}" in page

    ro, _lines = inspected(w)
    todos = {t.key: t for t in owner_todos(w.owner)}
    assert todos[f"approve:{ro.pk}"].title == "2 items on 京A12345 wait for your approval"
    assert todos[f"approve:{ro.pk}"].url == f"/app/service/orders/{ro.pk}/"
    assert f"maintenance:{w.my_car.pk}" not in todos  # the car is in the workshop
    Survey.objects.create(
        dealer_group=w.group_a,
        repair_order=ro,
        store=w.store_a,
        customer=w.customer,
        owner=w.owner,
        advisor=w.advisor_a,
        status=SurveyStatus.OPEN,
        available_at=timezone.now(),
        expires_at=timezone.now() + dt.timedelta(days=7),
    )
    tomorrow = timezone.localtime(timezone.now(), w.store_a.tz).date() + dt.timedelta(days=1)
    visit = book(w, day=tomorrow, hour=10, vehicle=second_car(w))
    with django_assert_max_num_queries(12):
        todos = {t.key: t for t in owner_todos(w.owner)}
    assert todos[f"visit:{visit.pk}"].title == (
        f"Your visit tomorrow at 10:00, {w.store_a.display_title}"
    )
    survey_todo = next(t for k, t in todos.items() if k.startswith("survey:"))
    assert survey_todo.url.startswith("/app/service/surveys/")
    page = body(client.get("/app/"))
    assert "wait for your approval" in page and "Your visit tomorrow at 10:00" in page
