"""One service visit, end to end in headless Chromium: the owner books in the app → the advisor
checks the car in → the technician inspects and finds a red item → the owner approves one line
and declines another in the app → the technician completes the work → settlement → delivery →
the owner answers the revisit survey with a low score → it is in the manager's follow-up list."""

import datetime as dt

import pytest
from django.utils import timezone

from .test_browser import (  # importing it skips this module when Chromium is missing
    DESKTOP,
    PHONE,
    console_sign_in,
    expect,
    owner_sign_in,
)

pytestmark = pytest.mark.browser


@pytest.fixture
def live_workshop(_allow_sync_playwright, transactional_db, workshop, live_server):
    return workshop


def test_one_visit_through_the_app_and_the_console(live_workshop, live_server, new_context):
    from m4s.service import surveys as survey_services
    from m4s.service.models import Appointment, RepairLine, RepairOrder, Survey

    w = live_workshop
    base = live_server.url
    phone = new_context(**{**PHONE, "locale": "en-GB"}).new_page()
    advisor = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    tech = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()
    manager = new_context(**{**DESKTOP, "locale": "en-GB"}).new_page()

    # 1. The owner books the 10,000 km service at a time the workshop can take.
    owner_sign_in(phone, base, w.owner.phone)
    phone.goto(f"{base}/app/service/book/?vehicle={w.my_car.pk}&package={w.s10k.pk}")
    first_time = phone.locator("[data-testid=times] label.chip").first
    expect(first_time).to_be_visible()
    first_time.click()
    phone.locator("[data-testid=confirm]").click()
    phone.wait_for_url(f"{base}/app/service/")
    appointment = Appointment.objects.for_group(w.group_a).get(vehicle=w.my_car)
    assert appointment.status == "booked" and appointment.package_id == w.s10k.pk

    # 2. The advisor checks the car in from the appointment.
    console_sign_in(advisor, base, w.advisor_a.username)
    advisor.goto(f"{base}/console/service/appointments/{appointment.pk}/")
    check_in = advisor.locator("[data-testid=check-in]")
    check_in.locator("input[name=odometer]").fill("18650")
    check_in.locator("input[name=fuel]").fill("40")
    check_in.locator("textarea[name=symptoms], input[name=symptoms]").fill("Squeak when braking")
    check_in.locator("button[type=submit]").click()
    advisor.wait_for_url(f"{base}/console/service/orders/*/")
    ro = RepairOrder.objects.for_group(w.group_a).get(appointment=appointment)

    # 3. The technician inspects: front brake pads red, wipers amber, everything else green.
    console_sign_in(tech, base, w.tech_a.username)
    tech.goto(f"{base}/console/service/orders/{ro.pk}/")
    ratings = {p.name: p.pk for p in w.template.points.all()}
    for name, pk in ratings.items():
        value = {"Front brake pads": "red", "Wipers": "amber"}.get(name, "green")
        tech.locator(f"input[name=rating_{pk}][value={value}]").check(force=True)
    tech.locator(f"input[name=note_{ratings['Front brake pads']}]").fill("2 mm left")
    tech.locator("button[name=action][value=complete]").click()
    expect(tech.locator("[data-testid=ro-status]")).to_contain_text("approval", ignore_case=True)
    pads = RepairLine.objects.for_group(w.group_a).get(repair_order=ro, operation__code="PADF")
    wipers = RepairLine.objects.for_group(w.group_a).get(repair_order=ro, operation__code="WIPE")
    assert pads.approval == wipers.approval == "pending"

    # 4. The owner approves the pads and declines the wipers in the app; the totals follow.
    phone.goto(f"{base}/app/service/orders/{ro.pk}/")
    expect(phone.locator("[data-testid=approval-needed]")).to_be_visible()
    phone.locator(f"#line-{pads.pk} [data-testid=approve]").click()
    expect(phone.locator(f"#line-{pads.pk}")).to_have_attribute("data-approval", "approved")
    phone.locator(f"#line-{wipers.pk} [data-testid=decline]").click()
    expect(phone.locator(f"#line-{wipers.pk}")).to_have_attribute("data-approval", "declined")
    expect(phone.locator("[data-testid=total-pending]")).to_have_text("¥0.00")
    pads.refresh_from_db()
    assert pads.approval_channel == "app"

    # 5. The technician does every approved job, then hands over to quality check.
    tech.goto(f"{base}/console/service/orders/{ro.pk}/")
    for line in RepairLine.objects.for_group(w.group_a).filter(
        repair_order=ro, approval="approved"
    ):
        row = tech.locator(f"[data-testid=line-{line.pk}]")
        row.locator("button[name=action][value=on]").click()
        tech.locator(f"[data-testid=line-{line.pk}] button[name=action][value=done]").click()
        expect(tech.locator(f"[data-testid=line-{line.pk}]")).to_contain_text("Done")
    assert (
        not RepairLine.objects.for_group(w.group_a)
        .filter(repair_order=ro, pk=wipers.pk)
        .exclude(work_status="todo")
        .exists()
    )  # declined work is never started
    tech.locator("button[name=to][value=quality_check]").click()
    expect(tech.locator("[data-testid=ro-status]")).to_contain_text("Quality check")

    # 6. The advisor passes the check, settles at list prices and delivers.
    advisor.goto(f"{base}/console/service/orders/{ro.pk}/")
    advisor.locator("button[name=to][value=ready]").click()
    advisor.locator("[data-testid=settle] button[type=submit]").click()
    expect(advisor.locator("[data-testid=invoice-summary]")).to_be_visible()
    deliver = advisor.locator("[data-testid=deliver]")
    deliver.locator("input[name=odometer]").fill("18652")
    deliver.locator("button[type=submit]").click()
    expect(advisor.locator("[data-testid=ro-status]")).to_contain_text("Delivered")
    ro.refresh_from_db()
    assert ro.status == "delivered" and ro.invoice.customer_pay_net > 0

    # 7. A day later the survey opens; the owner answers with a low quality score.
    survey = Survey.objects.for_group(w.group_a).get(repair_order=ro)
    survey_services.open_due_surveys(now=timezone.now() + dt.timedelta(days=1, hours=1))
    phone.goto(f"{base}/app/service/surveys/{survey.pk}/")
    scores = {"initiation": 8, "advisor": 8, "facility": 9, "pickup": 8, "quality": 4}
    for key, value in {**scores, "nps": 3}.items():
        phone.locator(f"label:has(> input[name={key}][value='{value}'])").click()
        expect(phone.locator(f"input[name={key}][value='{value}']")).to_be_checked()
    phone.locator("textarea[name=comment]").fill("The squeak is still there")
    phone.locator("[data-testid=send]").click()
    expect(phone.locator("[data-testid=survey-thanks]")).to_be_visible()
    survey.refresh_from_db()
    assert survey.needs_follow_up and survey.quality == 4 and survey.nps == 3

    # 8. The store manager sees it in the follow-up list.
    console_sign_in(manager, base, w.manager_a.username)
    manager.goto(f"{base}/console/service/figures/?store={w.store_a.pk}")
    expect(manager.locator(f"[data-testid=follow-up-{survey.pk}]")).to_contain_text(
        "The squeak is still there"
    )
