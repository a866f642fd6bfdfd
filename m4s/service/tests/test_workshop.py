"""Repair orders: only approved work is done and billed, approvals are recorded, settlement keeps
to the price list, surveys are deduped and expire, figures count repeat repairs."""

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from m4s.core.dates import add_months
from m4s.core.errors import DomainError
from m4s.service import billing as billing_services
from m4s.service import booking as booking_services
from m4s.service import selectors
from m4s.service import surveys as survey_services
from m4s.service import workshop as workshop_services
from m4s.service.choices import Approval, RepairOrderStatus, SurveyStatus
from m4s.service.models import MaintenanceRecord, RepairLine, Survey

from .helpers import at

S = RepairOrderStatus
SCORES = {"initiation": 9, "advisor": 9, "facility": 9, "pickup": 9, "quality": 9}


def _walk_in(w, odometer=18600):
    return workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=odometer,
        fuel_pct=50,
        symptoms="Rattle from the front left",
    )


def _finish(w, ro, *, odometer=None):
    """Approve nothing new; do every approved line, pass QC, settle at list, deliver."""
    for line in RepairLine.objects.for_group(w.group_a).filter(
        repair_order=ro, approval=Approval.APPROVED
    ):
        workshop_services.clock_on(w.tech_a, ro, line.pk)
        workshop_services.clock_off(w.tech_a, ro, line.pk, done=True)
    workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    workshop_services.advance(w.advisor_a, ro, S.READY)
    billing_services.settle(w.advisor_a, ro)
    ro.refresh_from_db()
    return workshop_services.deliver(w.advisor_a, ro, odometer=odometer or ro.odometer_in + 2)


def test_walk_in_needs_the_owners_words_and_a_plausible_odometer(workshop):
    w = workshop
    with pytest.raises(DomainError) as e:
        workshop_services.check_in(
            w.advisor_a,
            store=w.store_a,
            customer=w.customer,
            vehicle=w.my_car,
            odometer=18600,
            fuel_pct=50,
            symptoms="  ",
        )
    assert e.value.code == "symptoms_required"
    with pytest.raises(DomainError) as e:
        workshop_services.check_in(
            w.advisor_a,
            store=w.store_a,
            customer=w.customer,
            vehicle=w.my_car,
            odometer=100,
            fuel_pct=50,
            symptoms="noise",
        )
    assert e.value.code == "odometer_backwards"
    ro = _walk_in(w)
    assert ro.status == S.CHECKED_IN and ro.symptoms == "Rattle from the front left"
    with pytest.raises(DomainError) as e:
        _walk_in(w)
    assert e.value.code == "already_in_workshop"
    with pytest.raises(DomainError) as e:
        workshop_services.check_in(
            w.sales_a,
            store=w.store_a,
            customer=w.customer,
            vehicle=w.my_car,
            odometer=18600,
            fuel_pct=50,
            symptoms="x",
        )
    assert e.value.code == "forbidden"


def test_technician_cannot_add_approved_work(workshop):
    w = workshop
    ro = _walk_in(w)
    line = workshop_services.add_line(
        w.tech_a,
        ro,
        operation_id=w.catalogue.operations["PADF"].pk,
        parts=[{"part_id": w.catalogue.parts["04465-33471"].pk, "quantity": 1}],
        reason="Pads at 2 mm",
    )
    assert line.approval == Approval.PENDING and line.added_by == w.tech_a
    ro.refresh_from_db()
    assert ro.status == S.WAITING_APPROVAL
    for action in (
        lambda: workshop_services.clock_on(w.tech_a, ro, line.pk),
        lambda: workshop_services.clock_off(w.tech_a, ro, line.pk, done=True),
    ):
        with pytest.raises(DomainError) as e:
            action()
        assert e.value.code == "line_not_approved"
    with pytest.raises(DomainError) as e:
        workshop_services.add_line(
            w.tech_a, ro, operation_id=w.catalogue.operations["PADF"].pk, reason=" "
        )
    assert e.value.code == "reason_required"
    # Staff may record a verbal approval only with a reason; the technician's own line stays pending.
    with pytest.raises(DomainError) as e:
        workshop_services.decide_line(ro, line.pk, True, actor=w.advisor_a, reason="")
    assert e.value.code == "reason_required"
    line.refresh_from_db()
    assert line.approval == Approval.PENDING
    # Nothing unapproved is billed: settlement and quality check wait for the decision.
    with pytest.raises(DomainError) as e:
        workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    assert e.value.code == "wrong_status"
    workshop_services.decide_line(
        ro, line.pk, True, actor=w.advisor_a, reason="Owner approved by phone 10:20"
    )
    line.refresh_from_db()
    assert (line.approval, line.approval_channel, line.approval_staff) == (
        "approved",
        "verbal",
        w.advisor_a,
    )
    ro.refresh_from_db()
    assert ro.status == S.IN_REPAIR
    with pytest.raises(DomainError) as e:
        workshop_services.decide_line(ro, line.pk, False, actor=w.advisor_a, reason="changed mind")
    assert e.value.code == "already_decided"


def test_clockable_lines_answers_what_the_service_accepts(workshop):
    """The workbench asks selectors.clockable_lines what to offer; it must agree with clock_on
    and clock_off: approved, unfinished lines of a workable order, one open clock each."""
    w = workshop
    ro = _walk_in(w)
    a, b, c = (
        workshop_services.add_line(
            w.advisor_a, ro, operation_id=w.catalogue.operations[code].pk, reason="found"
        )
        for code in ("DIAG", "BULB", "WIPE")
    )
    assert selectors.clockable_lines(ro, w.tech_a) == (set(), set())  # nothing approved yet
    workshop_services.decide_line(ro, a.pk, True, owner=w.owner)
    workshop_services.decide_line(ro, b.pk, True, owner=w.owner)
    workshop_services.decide_line(ro, c.pk, False, owner=w.owner)
    ro.refresh_from_db()
    assert selectors.clockable_lines(ro, w.tech_a) == ({a.pk, b.pk}, set())
    workshop_services.clock_on(w.tech_a, ro, a.pk)
    assert selectors.clockable_lines(ro, w.tech_a) == (set(), {a.pk})  # one open clock
    assert selectors.clockable_lines(ro, w.tech_a2) == ({a.pk, b.pk}, set())
    with pytest.raises(DomainError):
        workshop_services.clock_on(w.tech_a, ro, b.pk)
    workshop_services.clock_off(w.tech_a, ro, a.pk, done=True)
    assert selectors.clockable_lines(ro, w.tech_a) == ({b.pk}, set())  # done: not again
    with pytest.raises(DomainError):
        workshop_services.clock_on(w.tech_a, ro, c.pk)  # declined
    workshop_services.clock_on(w.tech_a, ro, b.pk)
    workshop_services.clock_off(w.tech_a, ro, b.pk, done=True)
    workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    ro.refresh_from_db()
    assert selectors.clockable_lines(ro, w.tech_a) == (set(), set())  # not a workable status


def test_one_open_clock_per_technician_and_quality_check_needs_finished_work(workshop):
    w = workshop
    ro = _walk_in(w)
    a = workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["DIAG"].pk, reason="rattle"
    )
    b = workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["BULB"].pk, reason="bulb out"
    )
    for line in (a, b):
        workshop_services.decide_line(ro, line.pk, True, owner=w.owner)
    workshop_services.clock_on(w.tech_a, ro, a.pk)
    assert (
        workshop_services.clock_on(w.tech_a, ro, a.pk).line_id == a.pk
    )  # repeated tap: same entry
    with pytest.raises(DomainError) as e:
        workshop_services.clock_on(w.tech_a, ro, b.pk)
    assert e.value.code == "already_clocked_on"
    workshop_services.clock_off(w.tech_a, ro, a.pk, done=True)
    with pytest.raises(DomainError) as e:
        workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    assert e.value.code == "work_not_finished"
    workshop_services.clock_on(w.tech_a2, ro, b.pk)
    workshop_services.clock_off(w.tech_a2, ro, b.pk, done=True)
    workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    workshop_services.advance(w.advisor_a, ro, S.IN_REPAIR)  # failed the check: back to work
    workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    with pytest.raises(DomainError) as e:
        billing_services.settle(w.advisor_a, ro)
    assert e.value.code == "wrong_status"
    workshop_services.advance(w.advisor_a, ro, S.READY)
    with pytest.raises(DomainError) as e:
        workshop_services.deliver(w.advisor_a, ro, odometer=18700)
    assert e.value.code == "not_settled"
    with pytest.raises(DomainError) as e:
        billing_services.settle(w.tech_a, ro)
    assert e.value.code == "forbidden"  # technicians do not bill


def test_settlement_prices_payers_and_the_loyalty_hook(
    workshop, settings, django_capture_on_commit_callbacks
):
    w = workshop
    seen = []
    settings.HOOKS = {"service.settled": ["m4s.service.tests.test_workshop.record_settlement"]}
    record_settlement.seen = seen
    ro = _walk_in(w)
    line = workshop_services.add_line(
        w.advisor_a,
        ro,
        operation_id=w.catalogue.operations["BATT"].pk,
        parts=[{"part_id": w.catalogue.parts["28800-YZZJ4"].pk, "quantity": 1}],
        reason="weak",
    )
    workshop_services.decide_line(ro, line.pk, True, owner=w.owner)
    workshop_services.clock_on(w.tech_a, ro, line.pk)
    workshop_services.clock_off(w.tech_a, ro, line.pk, done=True)
    workshop_services.advance(w.tech_a, ro, S.QUALITY_CHECK)
    workshop_services.advance(w.advisor_a, ro, S.READY)
    part_line = line.parts.get()
    for prices, code in [
        ({line.pk: {"parts": {part_line.pk: "780.01"}}}, "price_above_list"),
        ({line.pk: {"labour": "-1"}}, "invalid_price"),
        ({line.pk: {"labour": "abc"}}, "invalid_price"),
        ({999999: {"labour": "1"}}, "invalid_line"),
    ]:
        with pytest.raises(DomainError) as e:
            billing_services.settle(w.advisor_a, ro, prices=prices)
        assert e.value.code == code
    with pytest.raises(DomainError) as e:
        billing_services.settle(w.advisor_a, ro, payers={line.pk: "lottery"})
    assert e.value.code == "invalid_payer"
    with pytest.raises(DomainError):
        billing_services.settle(w.advisor_a, ro, prices={line.pk: {"parts": {part_line.pk: "700"}}})
    line.refresh_from_db()
    assert line.parts.get().unit_price == Decimal("780.00")  # refused settlements changed nothing
    with django_capture_on_commit_callbacks(execute=True):
        invoice = billing_services.settle(
            w.advisor_a, ro, prices={line.pk: {"parts": {part_line.pk: "700"}, "reason": "promo"}}
        )
    assert invoice.customer_pay_net == Decimal("780.00")  # 80 labour + 700 battery
    assert invoice.discount_total == Decimal("80.00")
    assert [(s.repair_order_id, s.customer_pay_net) for s in seen] == [(ro.pk, Decimal("780.00"))]


def record_settlement(settlement):
    record_settlement.seen.append(settlement)


def test_delivery_resets_only_the_items_served_and_surveys_are_deduped(workshop, api_client):
    w = workshop
    ro = _walk_in(w)
    oil = workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["OIL"].pk, reason="due"
    )
    workshop_services.decide_line(ro, oil.pk, True, owner=w.owner)
    ro = _finish(w, ro)
    records = MaintenanceRecord.objects.for_group(w.group_a).filter(vehicle=w.my_car)
    assert [r.item.name for r in records] == ["Engine oil and filter"]
    w.my_car.refresh_from_db()
    assert w.my_car.odometer_km == 18602  # delivery records the odometer on the car
    due = {d.item.name: d for d in selectors.maintenance_due(w.my_car)}
    assert due["Engine oil and filter"].due_km == 18602 + 10000
    assert (
        due["Engine oil and filter"].status == "ok"
        and due["Engine oil and filter"].last_km == 18602
    )
    assert (
        due["Air filter"].last_on is None and due["Air filter"].km_left == 20000 - 18602
    )  # not served
    first = Survey.objects.for_group(w.group_a).get(repair_order=ro)
    assert first.status == SurveyStatus.SCHEDULED
    # A second visit within 30 days gets no second survey.
    ro2 = _walk_in(w, odometer=18700)
    diag = workshop_services.add_line(
        w.advisor_a, ro2, operation_id=w.catalogue.operations["DIAG"].pk, reason="noise"
    )
    workshop_services.decide_line(ro2, diag.pk, True, owner=w.owner)
    _finish(w, ro2)
    assert Survey.objects.for_group(w.group_a).filter(owner=w.owner).count() == 1


def test_surveys_open_in_quiet_hours_later_and_expire(workshop, api_client):
    from m4s.core.tests.factories import owner_token

    w = workshop
    ro = _walk_in(w)
    line = workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["BULB"].pk, reason="bulb"
    )
    workshop_services.decide_line(ro, line.pk, True, owner=w.owner)
    _finish(w, ro)
    survey = Survey.objects.for_group(w.group_a).get(repair_order=ro)
    local = timezone.localtime(survey.available_at + dt.timedelta(minutes=1))
    w.owner.quiet_hours_start = (local - dt.timedelta(hours=1)).time()  # may wrap past midnight
    w.owner.quiet_hours_end = (local + dt.timedelta(hours=1)).time()
    w.owner.save()
    assert survey_services.open_due_surveys(now=survey.available_at + dt.timedelta(minutes=1)) == 0
    w.owner.quiet_hours_start = w.owner.quiet_hours_end = None
    w.owner.save()
    assert survey_services.open_due_surveys(now=survey.available_at + dt.timedelta(minutes=1)) == 1
    assert (
        survey_services.open_due_surveys(now=survey.available_at + dt.timedelta(minutes=2)) == 0
    )  # once
    survey_services.open_due_surveys(now=survey.expires_at + dt.timedelta(seconds=1))
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.EXPIRED
    r = api_client.post(
        f"/api/v1/me/surveys/{survey.pk}", {**SCORES, "nps": 9}, token=owner_token(w.owner)
    )
    assert r.status_code == 410 and r.json()["code"] == "survey_expired"


def test_survey_answers_are_validated_kept_and_happy_ones_not_flagged(workshop, api_client):
    from m4s.core.tests.factories import owner_token

    w = workshop
    ro = _walk_in(w)
    line = workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["BULB"].pk, reason="bulb"
    )
    workshop_services.decide_line(ro, line.pk, True, owner=w.owner)
    _finish(w, ro)
    survey = Survey.objects.for_group(w.group_a).get(repair_order=ro)
    survey_services.open_due_surveys(now=survey.available_at)
    me = owner_token(w.owner)
    for bad in (
        {**SCORES, "quality": 11, "nps": 9},
        {**SCORES, "nps": -1},
        {**SCORES, "advisor": 0, "nps": 5},
    ):
        r = api_client.post(f"/api/v1/me/surveys/{survey.pk}", bad, token=me)
        assert 400 <= r.status_code < 500
    survey.refresh_from_db()
    assert survey.status == SurveyStatus.OPEN and survey.nps is None
    r = api_client.post(f"/api/v1/me/surveys/{survey.pk}", {**SCORES, "nps": 9}, token=me)
    assert r.json()["needs_follow_up"] is False
    r = api_client.post(f"/api/v1/me/surveys/{survey.pk}", {**SCORES, "nps": 1}, token=me)
    assert r.status_code == 409 and r.json()["code"] == "already_answered"
    survey.refresh_from_db()
    assert survey.nps == 9


def test_first_time_fix_rate_counts_a_repeat_repair_within_30_days(workshop):
    w = workshop
    ro = _walk_in(w)
    diag = workshop_services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["DIAG"].pk, reason="noise"
    )
    workshop_services.decide_line(ro, diag.pk, True, owner=w.owner)
    _finish(w, ro)
    month = timezone.localdate()
    assert selectors.store_figures(w.store_a, month).ftfr == 1.0
    ro2 = _walk_in(w, odometer=18700)
    again = workshop_services.add_line(
        w.advisor_a, ro2, operation_id=w.catalogue.operations["DIAG"].pk, reason="noise again"
    )
    workshop_services.decide_line(ro2, again.pk, True, owner=w.owner)
    _finish(w, ro2)
    figures = selectors.store_figures(w.store_a, month)
    assert figures.delivered == 2 and figures.fixed_first_time == 1 and figures.ftfr == 0.5


def test_maintenance_whichever_comes_first(workshop):
    w = workshop
    today = timezone.localdate()
    w.my_car.odometer_km, w.my_car.purchase_date = 2000, today - dt.timedelta(days=370)
    due = {d.item.name: d for d in selectors.maintenance_due(w.my_car, today=today)}
    oil = due["Engine oil and filter"]  # 10,000 km or 12 months
    assert oil.km_left == 8000 and oil.days_left < 0 and oil.status == "overdue"
    assert due["Tyre rotation"].due_on is None and due["Tyre rotation"].status == "ok"  # km only
    assert add_months(dt.date(2025, 1, 31), 1) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 11, 30), 3) == dt.date(2025, 2, 28)
    assert add_months(dt.date(2024, 12, 15), 1) == dt.date(2025, 1, 15)


def test_booked_package_becomes_approved_lines_at_check_in(workshop):
    w = workshop
    appt, _ = booking_services.book_appointment(
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=at(w.day, 10, store=w.store_a),
        package_id=w.s10k.pk,
        owner=w.owner,
    )
    ro = workshop_services.check_in(
        w.advisor_a, store=w.store_a, appointment=appt, odometer=18600, fuel_pct=30
    )
    assert (
        workshop_services.check_in(
            w.advisor_a, store=w.store_a, appointment=appt, odometer=18600, fuel_pct=30
        ).pk
        == ro.pk
    )
    lines = list(ro.lines.all())
    assert {ln.operation.code for ln in lines} == {"OIL", "INSP"}
    assert all(ln.approval_channel == "at_booking" for ln in lines)
    appt.refresh_from_db()
    assert appt.status == "checked_in"


def test_an_early_arrival_moves_its_minutes_to_today_and_parts_ride_on_the_main_job(workshop):
    from m4s.service.models import CapacityUse

    w = workshop
    appt, _ = booking_services.book_appointment(
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=at(w.day, 10, store=w.store_a),
        package_id=w.s10k.pk,
        owner=w.owner,
    )
    ro = workshop_services.check_in(
        w.advisor_a, store=w.store_a, appointment=appt, odometer=18600, fuel_pct=30
    )
    today = timezone.localtime(timezone.now(), w.store_a.tz).date()
    assert set(
        CapacityUse.objects.for_group(w.group_a)
        .filter(appointment=appt)
        .values_list("date", flat=True)
    ) == {today}
    lines = {ln.operation.code: ln for ln in ro.lines.prefetch_related("parts")}
    assert lines["OIL"].parts.count() == 2 and lines["INSP"].parts.count() == 0
