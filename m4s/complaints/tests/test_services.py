"""Complaint services: routing, clocks (pause/resume), escalation by hand and by the scan,
survey → complaint, bad input, owner steps. Isolation: another group's staff and another owner
cannot reach a complaint."""

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from m4s.complaints import escalation, selectors, services
from m4s.complaints.choices import EscalationReason, EventKind, Level, Status
from m4s.complaints.clocks import targets_for
from m4s.complaints.models import Complaint, ComplaintEvent, CorrectiveAction, Escalation
from m4s.core.errors import DomainError, NotFound, PermissionDenied
from m4s.customers.models import TimelineEvent
from m4s.notify.models import Message
from m4s.org.business_time import add_business_minutes, business_minutes_between

from .conftest import T0, shift


def file(w, now=T0, **kw):
    kw.setdefault("description", "The car came back dirty and the noise is still there.")
    return services.file_complaint(w.owner, now=now, **kw)


# --- routing ------------------------------------------------------------------------------------
def test_routing_goes_to_the_customers_own_agent_when_on_duty(desk):
    shift(desk.cs_a, desk.store_a, T0.date())
    shift(desk.cs2_a, desk.store_a, T0.date())
    c = file(desk)
    assert c.assignee == desk.cs_a and c.level == Level.STORE_CS
    assert Message.objects.filter(staff=desk.cs_a, kind="complaint").exists()


def test_routing_when_the_cs_agent_is_off_duty_goes_to_the_on_duty_agent(desk):
    shift(desk.cs2_a, desk.store_a, T0.date())  # cs-a has no shift today
    shift(desk.cs_a, desk.store_a, T0.date() + dt.timedelta(days=1))
    c = file(desk)
    assert c.assignee == desk.cs2_a


def test_routing_without_cs_on_duty_goes_to_the_store_manager(desk):
    c = file(desk)
    assert c.assignee == desk.manager_a and c.level == Level.STORE_CS


def test_critical_starts_at_the_manager_and_group_care_is_told(desk):
    shift(desk.cs_a, desk.store_a, T0.date())
    c = file(desk, severity="critical")
    assert c.level == Level.STORE_MANAGER and c.assignee == desk.manager_a
    esc = Escalation.objects.for_group(desk.group_a).get(complaint=c)
    assert esc.reason == EscalationReason.CRITICAL
    assert Message.objects.filter(staff=desk.admin_a, kind="complaint").exists()
    # group customer care sees it in their store queue at once
    assert c in selectors.queue(desk.admin_a, "store")


# --- clocks -------------------------------------------------------------------------------------
def test_clocks_run_in_business_minutes(desk):
    c = file(desk)
    t = targets_for(desk.group_a.pk, "normal", c.category)
    assert c.first_response_due_at == add_business_minutes(desk.store_a, T0, t.first_response)
    assert c.resolution_due_at == add_business_minutes(desk.store_a, T0, t.resolution)
    assert c.level_due_at == add_business_minutes(desk.store_a, T0, t.level_minutes(1))


def test_pause_and_resume_keep_the_hold_time(desk):
    c = file(desk)
    services.log_call(desk.manager_a, c, summary="Called back", now=T0 + dt.timedelta(minutes=5))
    paused = T0 + dt.timedelta(minutes=30)  # 10:30
    c.refresh_from_db()
    left = {
        f: business_minutes_between(desk.store_a, paused, getattr(c, f))
        for f in ("resolution_due_at", "level_due_at")
    }
    c = services.set_waiting_for_customer(desk.manager_a, c, "Which day suits you?", now=paused)
    assert c.status == Status.WAITING_CUSTOMER and c.paused_at == paused
    # paused complaints are not scanned, however late
    assert escalation.scan(now=T0 + dt.timedelta(days=20))["escalated"] == 0
    back = T0.replace(hour=15)  # 10:30-12:00 and 13:30-15:00 held: 180 business minutes
    services.owner_reply(desk.owner, c, "Thursday morning", now=back)
    c.refresh_from_db()
    assert c.status == Status.IN_PROGRESS and c.paused_at is None
    assert c.held_minutes == 180
    for field, minutes in left.items():
        assert business_minutes_between(desk.store_a, back, getattr(c, field)) == minutes
    # a second hold adds to the first
    c = services.set_waiting_for_customer(desk.manager_a, c, now=back)
    services.resume(desk.manager_a, c, now=back.replace(hour=16))
    c.refresh_from_db()
    assert c.held_minutes == 240
    # handling time excludes the holds
    resolved_at = back.replace(hour=17)
    c = _resolve(desk, c, now=resolved_at)
    assert c.handling_minutes == business_minutes_between(desk.store_a, T0, resolved_at) - 240


def _resolve(w, c, now=None, **kw):
    cause = services.root_causes_for(w.group_a.pk)[0]
    return services.resolve(
        w.manager_a,
        c,
        root_cause_id=cause.pk,
        resolution=kw.get("resolution", "Cleaned the car again and replaced the bushing."),
        action=kw.get("action", "Final wash check added to the delivery list."),
        responsible_id=w.manager_a.pk,
        due_date=(now or timezone.now()).date() + dt.timedelta(days=7),
        now=now,
    )


# --- escalation ---------------------------------------------------------------------------------
def test_breach_escalates_once_per_level(desk):
    shift(desk.cs_a, desk.store_a, T0.date())
    c = file(desk)
    t = targets_for(desk.group_a.pk, "normal", c.category)
    late = add_business_minutes(desk.store_a, T0, t.level_minutes(1) + 1)
    assert escalation.scan(now=late)["escalated"] == 1
    assert escalation.scan(now=late)["escalated"] == 0  # idempotent: run twice, one escalation
    c.refresh_from_db()
    assert c.level == Level.STORE_MANAGER and c.assignee == desk.manager_a
    assert c.level_due_at == add_business_minutes(desk.store_a, late, t.level_minutes(2))
    later = add_business_minutes(desk.store_a, late, t.level_minutes(2) + 1)
    assert escalation.scan(now=later)["escalated"] == 1
    c.refresh_from_db()
    assert c.level == Level.GROUP_CARE and c.assignee == desk.admin_a
    assert escalation.scan(now=later + dt.timedelta(days=30))["escalated"] == 0  # top level
    assert list(
        Escalation.objects.for_group(desk.group_a)
        .filter(complaint=c)
        .order_by("to_level")
        .values_list("to_level", "reason")
    ) == [(2, "breach"), (3, "breach")]
    kinds = list(c.events.values_list("kind", flat=True))
    assert kinds.count(EventKind.ESCALATED) == 2
    lines = TimelineEvent.objects.for_group(desk.group_a).filter(
        customer=desk.customer, kind="complaint"
    )
    assert lines.count() == len(kinds)
    # the scan's lines (written by SQL) read like the services' ones
    assert {line.display_title for line in lines} >= {
        f"Complaint {c.reference}: Escalated",
        f"Complaint {c.reference}: First response overdue",
    }
    scanned = c.events.filter(kind=EventKind.ESCALATED).first()
    assert scanned.display_text == "Passed to the Store manager." and scanned.owner_visible
    # the new handlers were told, in the console
    assert Message.objects.filter(staff=desk.manager_a, kind="complaint").exists()
    assert Message.objects.filter(staff=desk.admin_a, kind="complaint").exists()


def test_scan_marks_first_response_breach_once_and_leaves_answered_ones(desk):
    a = file(desk)
    b = file(desk)
    services.reply_to_owner(desk.manager_a, b, "We are on it.", now=T0 + dt.timedelta(minutes=1))
    t = targets_for(desk.group_a.pk, "normal", a.category)
    late = add_business_minutes(desk.store_a, T0, t.first_response + 1)
    assert escalation.scan(now=late)["first_response_breached"] == 1
    assert escalation.scan(now=late)["first_response_breached"] == 0
    a.refresh_from_db()
    b.refresh_from_db()
    assert a.first_response_breached_at == late and b.first_response_breached_at is None


def test_escalate_by_request_needs_a_reason_and_stops_at_the_top(desk):
    c = file(desk)
    with pytest.raises(DomainError) as e:
        services.escalate(desk.cs_a, c, note="  ")
    assert e.value.code == "reason_required"
    services.escalate(desk.cs_a, c, note="Owner threatens to go to the press")
    services.escalate(desk.manager_a, c, note="Needs a goodwill decision")
    with pytest.raises(DomainError) as e:
        services.escalate(desk.admin_a, c, note="again")
    assert e.value.code == "top_level"
    c.refresh_from_db()
    assert c.level == 3
    assert set(
        Escalation.objects.for_group(desk.group_a)
        .filter(complaint=c)
        .values_list("reason", flat=True)
    ) == {"request"}


def test_making_a_complaint_critical_moves_it_to_the_manager(desk):
    c = file(desk)
    c = services.change_complaint(desk.cs_a, c, severity="critical")
    assert c.level == Level.STORE_MANAGER
    from m4s.core.models import AuditEntry

    assert (
        AuditEntry.objects.for_group(desk.group_a)
        .filter(object_type="complaints.complaint", object_id=str(c.pk))
        .exists()
    )


# --- survey -------------------------------------------------------------------------------------
def _answered_survey(w, *, nps, quality=9):
    from django.utils import timezone

    from m4s.service import surveys
    from m4s.service.choices import SurveyStatus
    from m4s.service.models import Survey
    from m4s.service.tests.helpers import ready_order

    ro, _lines = ready_order(w)
    now = timezone.now()
    survey = Survey.objects.create(
        dealer_group=w.group_a,
        repair_order=ro,
        store=w.store_a,
        customer=w.customer,
        owner=w.owner,
        status=SurveyStatus.OPEN,
        available_at=now - dt.timedelta(days=1),
        expires_at=now + dt.timedelta(days=5),
    )
    scores = {"initiation": 9, "advisor": 9, "facility": 9, "pickup": 9, "quality": quality}
    with TestCase.captureOnCommitCallbacks(execute=True):
        surveys.answer_survey(w.owner, survey.pk, scores=scores, nps=nps, comment="Still noisy")
    return survey


def test_an_unhappy_survey_opens_one_complaint(desk):
    survey = _answered_survey(desk, nps=3)
    found = Complaint.objects.for_group(desk.group_a).filter(survey=survey)
    assert found.count() == 1
    c = found.get()
    assert c.channel == "survey" and c.repair_order_id == survey.repair_order_id
    assert c.description == "Still noisy"
    # the hand-off runs again (a retried delivery): still one
    survey.refresh_from_db()
    assert services.open_from_survey(survey).pk == c.pk
    services.on_survey_answered(
        type("E", (), {"source": f"survey:{survey.pk}", "dealer_group_id": desk.group_a.pk})()
    )
    assert found.count() == 1


def test_a_happy_survey_opens_nothing(desk):
    _answered_survey(desk, nps=9, quality=8)
    assert not Complaint.objects.for_group(desk.group_a).exists()


# --- bad input ----------------------------------------------------------------------------------
def test_bad_input_is_refused_and_changes_nothing(desk):
    before = Complaint.objects.unscoped().count()
    cases = [
        dict(description=""),
        dict(description="   "),
        dict(description="x" * 4001),
        dict(vehicle_id=desk.car_c.pk),  # another owner's car
        dict(vehicle_id=desk.car_b.pk),  # another group's car
        dict(severity="apocalyptic"),
        dict(category_id=999999),
        dict(store_id=desk.store_b.pk),  # a store of a group they are not a customer of
    ]
    for kw in cases:
        with pytest.raises(DomainError):
            file(desk, **kw)
    with pytest.raises(DomainError) as e:
        from django.core.files.uploadedfile import SimpleUploadedFile

        file(desk, photos=[SimpleUploadedFile("x.jpg", b"not a picture", "image/jpeg")])
    assert e.value.code == "invalid_image"
    # staff: another group's staff member concerned, another group's customer
    with pytest.raises(NotFound):
        services.record_complaint(
            desk.cs_a,
            customer_id=desk.customer.pk,
            channel="phone",
            description="Rude on the phone",
            concerned_staff_id=desk.cs_b.pk,
        )
    with pytest.raises(NotFound):
        services.record_complaint(
            desk.cs_a, customer_id=desk.customer_b.pk, channel="phone", description="x"
        )
    with pytest.raises(DomainError):
        services.record_complaint(
            desk.cs_a, customer_id=desk.customer.pk, channel="app", description="x"
        )
    with pytest.raises(PermissionDenied):
        services.record_complaint(
            desk.tech_a, customer_id=desk.customer.pk, channel="phone", description="x"
        )
    assert Complaint.objects.unscoped().count() == before
    c = file(desk)
    with pytest.raises(DomainError):
        services.assign(desk.cs_a, c, desk.cs_b.pk)  # another group's staff
    with pytest.raises(DomainError):
        services.resolve(
            desk.cs_a,
            c,
            root_cause_id=services.root_causes_for(desk.group_b.pk)[0].pk,  # another group's
            resolution="done",
            action="x",
            responsible_id=desk.cs_a.pk,
            due_date=dt.date.today(),
        )
    c.refresh_from_db()
    assert c.assignee != desk.cs_b and c.status == Status.NEW
    assert not CorrectiveAction.objects.unscoped().exists()


def test_staff_records_on_behalf_with_the_channel(desk):
    c = services.record_complaint(
        desk.cs_a,
        customer_id=desk.customer.pk,
        channel="phone",
        description="Waited three hours for an oil change",
        vehicle_id=desk.my_car.pk,
        concerned_staff_id=desk.advisor_a.pk,
    )
    assert c.channel == "phone" and c.recorded_by == desk.cs_a and c.owner is None
    assert c.concerned_staff == desk.advisor_a
    # the owner sees it as theirs
    assert selectors.get_for_owner(desk.owner, c.pk) == c


# --- the owner's side ---------------------------------------------------------------------------
def test_resolve_confirm_reopen_rate(desk):
    c = file(desk)
    c = _resolve(desk, c, now=T0 + dt.timedelta(hours=2))
    assert c.status == Status.RESOLVED and c.root_cause is not None
    assert c.corrective_actions.count() == 1
    with pytest.raises(DomainError):
        services.rate(desk.owner, c, 5)  # not closed yet
    c = services.confirm(desk.owner, c, now=T0 + dt.timedelta(hours=3))
    assert c.status == Status.CLOSED
    c = services.rate(desk.owner, c, 4, "Quick", now=T0 + dt.timedelta(hours=4))
    assert c.rating == 4
    with pytest.raises(DomainError) as e:
        services.rate(desk.owner, c, 5)
    assert e.value.code == "already_rated"
    c = services.reopen(desk.owner, c, "Noise is back", now=T0 + dt.timedelta(days=5))
    assert c.status == Status.REOPENED and c.reopen_count == 1
    c = _resolve(desk, c, now=T0 + dt.timedelta(days=6))
    with pytest.raises(DomainError) as e:
        services.reopen(desk.owner, c, "again", now=T0 + dt.timedelta(days=21))
    assert e.value.code == "reopen_window_passed"


def test_preventive_action_checked_by_a_manager_once(desk):
    c = _resolve(desk, file(desk))
    ca = c.corrective_actions.get()
    with pytest.raises(PermissionDenied):
        services.check_preventive_action(desk.cs_a, ca.pk)
    with pytest.raises(NotFound):
        services.check_preventive_action(desk.manager_b, ca.pk)  # another group's manager
    ca = services.check_preventive_action(desk.manager_a, ca.pk, "Checked the list in use")
    assert ca.checked_by == desk.manager_a and ca.done_at is not None
    with pytest.raises(DomainError):
        services.check_preventive_action(desk.manager_a, ca.pk)


def test_owner_sees_replies_not_internal_notes(desk):
    c = file(desk)
    services.add_note(desk.cs_a, c, "Customer is a known complainer")
    services.reply_to_owner(desk.cs_a, c, "Sorry, we will call you today.")
    visible = selectors.owner_events(c)
    assert [e.kind for e in visible] == ["filed", "reply"]
    assert ComplaintEvent.objects.for_group(desk.group_a).filter(complaint=c, kind="note").exists()
    c.refresh_from_db()
    assert c.first_responded_at is not None and c.status == Status.IN_PROGRESS


def test_isolation_another_owner_and_another_group(desk):
    c = file(desk)
    with pytest.raises(NotFound):
        selectors.get_for_owner(desk.owner_c, c.pk)
    with pytest.raises(NotFound):
        selectors.get_for_owner(desk.owner_b, c.pk)
    with pytest.raises(NotFound):
        selectors.get_for_staff(desk.admin_b, c.pk)
    with pytest.raises(NotFound):
        services.owner_reply(desk.owner_c, c, "hi")
    with pytest.raises(NotFound):
        services.confirm(desk.owner_b, c)
    assert c not in selectors.queue(desk.admin_b, "store")
    assert list(selectors.complaints_for_owner(desk.owner_c)) == []


def test_staff_close_for_a_customer_without_the_app_and_auto_close(desk):
    c = services.record_complaint(
        desk.cs_a, customer_id=desk.known.pk, channel="walk_in", description="Long wait", now=T0
    )
    with pytest.raises(DomainError):
        services.close_for_customer(desk.cs_a, c, note="confirmed")  # not resolved yet
    c = _resolve(desk, c, now=T0 + dt.timedelta(hours=1))
    c = services.close_for_customer(desk.cs_a, c, note="Confirmed by phone")
    assert c.status == Status.CLOSED
    other = _resolve(desk, file(desk), now=T0 + dt.timedelta(hours=1))
    assert escalation.scan(now=T0 + dt.timedelta(days=3))["closed"] == 0
    assert escalation.scan(now=T0 + dt.timedelta(days=9))["closed"] == 1
    other.refresh_from_db()
    assert other.status == Status.CLOSED
    assert escalation.scan(now=T0 + dt.timedelta(days=9))["closed"] == 0


def test_file_with_an_idempotency_key_returns_the_first_complaint(desk):
    a = file(desk, idempotency_key="form-1")
    b = file(desk, idempotency_key="form-1")
    assert a.pk == b.pk
    with pytest.raises(DomainError) as e:
        file(desk, idempotency_key="form-1", description="something else")
    assert e.value.code == "idempotency_key_reused"
    assert Complaint.objects.for_owner(desk.owner).count() == 1
