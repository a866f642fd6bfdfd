"""The API keeps its OpenAPI contract (schemathesis against /api/v1/openapi.json).

Every operation the document lists is called with generated input, with the token its security
scheme asks for (an owner's, a staff member's of several roles, a terminal's, a partner's), and
each answer must be: no server error, a status the operation declares, the declared content type,
a body matching the declared schema; and input valid by the schema must not be refused as invalid
(`positive_data_acceptance`: 2xx, or 401/403/404/409/410/429 which depend on the data, not on its
shape). New endpoints are picked up from the document without touching this test.

Requests go to the Django WSGI application in this thread (schemathesis' WSGI mode): the same
stack a live server runs, minus the socket and threads. Each generated request runs in a savepoint
rolled back afterwards, so every example meets the same world; on-commit work (notifications)
runs as it would after a real commit.

Run it alone: `pytest -m contract`. Examples per operation: `M4S_CONTRACT_EXAMPLES` (default 8).
"""

import datetime as dt
import os

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from django.test import TestCase
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = [pytest.mark.contract]

EXAMPLES = int(os.environ.get("M4S_CONTRACT_EXAMPLES", "8"))
# Only the operations whose path holds this text (to re-check one endpoint quickly), e.g.
# `M4S_CONTRACT_ONLY=/staff/stream pytest -m contract`.
ONLY = os.environ.get("M4S_CONTRACT_ONLY", "")

# Statuses that answer schema-valid input for reasons of data, not shape.
ACCEPTED = ["2xx", "401", "403", "404", "409", "410", "429"]

# 400 refusals of schema-valid input that depend on facts no JSON Schema can state. Everything
# else a schema-valid request gets refused for is a schema to tighten (or a status to fix).
DATA_REFUSALS = {
    "invalid_phone": "whether a number exists and is a mobile (libphonenumber's numbering plans)",
    "invalid_vin": "a VIN's check digit (GB 16735)",
    "invalid_plate": "a plate's province and series rules",
    "invalid_referral": "whether a referral code exists",
    "invalid_invitation": "whether an invitation code exists",
    "invalid_operation": "whether a labour operation id exists in the group's catalogue",
    "invalid_assignee": "whether a staff id belongs to the customer's dealer group",
    "too_soon": "the booking window is counted from now",
    "too_far_ahead": "the booking window is counted from now",
    "invalid_birthday": "a birthday is not in the future (today)",
    "invalid_channel": "the e-mail channel needs an e-mail address on file",
    "invalid_quiet_hours": "quiet hours pair with the start or end on file; never equal",
    "invalid_image": "whether uploaded bytes are a JPEG, PNG or WebP picture",
    "invalid_due_date": "a corrective action's due date is counted from today",
    "invalid_window": "a callback window is counted from now and must end after it starts",
    "reason_required": "whether the owner asked for the call, has an open case or a booked visit",
    "invalid_endpoint": "whether a push endpoint's host is a push service (WEBPUSH_ALLOWED_HOSTS)",
    "invalid_keys": "whether a browser's p256dh key is a point on the P-256 curve",
    "date_out_of_range": "a violation's date is counted from now (at most 3 years ago, not ahead)",
    "invalid_date": "a service done elsewhere: today or up to a year ago, counted from today",
    "not_a_service": "whether the reminder is about a service (its kind)",
    "invalid_range": "a date range's `from` is not after its `to` (two parameters)",
    "range_too_long": "a date range spans at most 92 days (two parameters)",
    "invalid_time": "an event's end is after its start (the order of two fields)",
    "invalid_fields": "the fields a request needs depend on its kind (the kind's spec)",
}


def positive_data_accepted(ctx, response, case):
    """`positive_data_acceptance`, except for the refusals in DATA_REFUSALS (400, or 422 where
    an area answers a cross-field rule with it)."""
    if response.status_code in (400, 422):
        try:
            code = response.json().get("code")
        except (ValueError, AttributeError):
            code = None
        if code in DATA_REFUSALS:
            return None
    return positive_data_acceptance(ctx, response, case)


def _contract_world(w):
    """Objects for the path ids to point at: an appointment, repair orders (open with a pending
    line, settled, delivered), an open survey, a voucher, a geofence, a rescue case, a transfer."""
    from django.utils import timezone

    from m4s.customers import services as customer_services
    from m4s.identity.services import issue_token
    from m4s.loyalty import ledger
    from m4s.loyalty import rewards as loyalty_rewards
    from m4s.loyalty.choices import EntryKind
    from m4s.service import booking as booking_services
    from m4s.service import surveys as survey_services
    from m4s.service import workshop as workshop_services
    from m4s.service.tests.helpers import at, ready_order
    from m4s.telematics.services import set_geofence

    w.appointment, _ = booking_services.book_appointment(
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=at(w.day, 9, 0, w.store_a),
        mode="waiting",
        package_id=w.s10k.pk,
        problem="",
        channel="app",
        owner=w.owner,
        idempotency_key="contract-1",
    )
    delivered, _ = ready_order(w, settle=True)
    workshop_services.deliver(w.advisor_a, delivered, odometer=18700)
    survey_services.open_due_surveys(timezone.now() + dt.timedelta(days=3))
    w.open_ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18800,
        fuel_pct=40,
        symptoms="squeak",
    )
    w.pending_line = workshop_services.add_line(
        w.advisor_a,
        w.open_ro,
        operation_id=w.catalogue.operations["DIAG"].pk,
        parts=[],
        reason="squeak",
    )
    w.delivered_ro = delivered
    ledger.credit(
        w.member,
        5000,
        kind=EntryKind.ADJUST,
        reason="contract test",
        key="contract-credit",
        expires_at=timezone.now() + dt.timedelta(days=300),
    )
    reward = min(w.club.rewards.values(), key=lambda r: r.cost)
    w.voucher, _ = loyalty_rewards.redeem_reward(w.member, reward.pk, key="contract-voucher")
    w.fence = set_geofence(w.owner, w.my_car, name="Home", lat=39.9, lon=116.4, radius_m=500)
    # A complaint of the test owner, and one resolved with a corrective action.
    from m4s.complaints import services as complaint_services

    w.complaint = complaint_services.file_complaint(
        w.owner, description="Noise after service", vehicle_id=w.my_car.pk
    )
    resolved = complaint_services.file_complaint(w.owner, description="Dirty seats")
    complaint_services.resolve(
        w.manager_a,
        resolved,
        root_cause_id=complaint_services.root_causes_for(w.group_a.pk)[0].pk,
        resolution="Cleaned",
        action="Seat covers at check-in",
        responsible_id=w.manager_a.pk,
        due_date=timezone.localdate() + dt.timedelta(days=7),
    )
    w.resolved_complaint = resolved
    # A conversation of the test owner with their advisor, answered, with a note.
    from m4s.conversations import services as conversation_services

    w.conversation = conversation_services.start_conversation(
        w.owner, customer=w.customer, topic="service", body="Brake noise"
    )
    conversation_services.post_staff_message(w.advisor_a, w.conversation, body="Come in")
    conversation_services.add_note(w.advisor_a, w.conversation, body="Pads")
    # Another owner asks for group A's known car: a transfer for staff to decide.
    claimant = customer_services.get_or_create_customer_for_owner(w.owner_b, w.store_a)
    customer_services.bind_customer_vehicle(claimant, w.car, via="app", invitation=None, staff=None)

    from m4s.care.violations import create_integration_key

    _row, care_key = create_integration_key(w.group_a.pk, "contract test")
    w.tokens = {
        "OwnerAuth": [issue_token(owner=w.owner)],
        "StaffAuth": [
            issue_token(staff=s)
            for s in (w.admin_a, w.manager_a, w.advisor_a, w.tech_a, w.cs_a, w.sales_a)
        ],
        "DeviceAuth": [w.token_a],
        "PartnerAuth": [w.club.api_key],
        "IntegrationKeyBearer": [care_key],
    }
    w.tokens["AnyAuth"] = [w.tokens["OwnerAuth"][0], *w.tokens["StaffAuth"][:3]]
    return w


def _known_ids(w) -> dict[str, list]:
    """Real values for path parameters, by name: a generated request uses one half the time."""
    from m4s.customers.models import TransferRequest
    from m4s.notify.models import Message
    from m4s.service.models import Survey
    from m4s.telematics.models import RescueCase

    ros = [w.open_ro.pk, w.delivered_ro.pk]
    return {
        "store_id": [w.store_a.pk, w.store_b.pk],
        "vehicle_id": [w.my_car.pk, w.car.pk, w.other_car.pk],
        "customer_id": [w.customer.pk, w.known.pk, w.other.pk],
        "appointment_id": [w.appointment.pk],
        "ro_id": ros,
        "line_id": [ln.pk for ro in (w.open_ro, w.delivered_ro) for ln in ro.lines.all()],
        "survey_id": list(Survey.objects.unscoped().values_list("pk", flat=True)),
        "reward_id": [r.pk for r in w.club.rewards.values()],
        "member_id": [w.member.pk, w.member_b.pk],
        "message_id": list(Message.objects.values_list("pk", flat=True)[:20]),
        "transfer_id": list(TransferRequest.objects.unscoped().values_list("pk", flat=True)),
        "case_id": list(RescueCase.objects.unscoped().values_list("pk", flat=True)),
        "fence_id": [w.fence.pk],
        "complaint_id": [w.complaint.pk, w.resolved_complaint.pk],
        "action_id": [a.pk for a in w.resolved_complaint.corrective_actions.all()],
        "conversation_id": [w.conversation.pk],
        "group_id": [w.group_a.pk, w.group_b.pk],
        "code": [w.voucher.code, w.member.code],
    }


@pytest.fixture
def contract(workshop, club, fleet):
    w = _contract_world(workshop)
    w.path_ids = _known_ids(w)
    return w


@pytest.fixture
def wsgi_schema():
    from m4s.wsgi import application

    # The test database lives in this thread's transaction: requests must not close its
    # connection between calls (Django's test client does the same).
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
        schema.config.checks.positive_data_acceptance.expected_statuses = ACCEPTED
        # NUL is refused in every string, up front (RejectNulMiddleware, stated in the API
        # description): valid input has none.
        schema.config.generation.update(allow_x00=False)
        yield schema
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


CHECKS = {
    GenerationMode.POSITIVE: [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
        positive_data_accepted,
    ],
    GenerationMode.NEGATIVE: [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ],
}


def _scheme(operation) -> str | None:
    security = operation.definition.raw.get("security") or []
    return next(iter(security[0]), None) if security else None


def _check_operation(operation, mode, w) -> str | None:
    """Run `EXAMPLES` generated requests of one operation; the first failure, or None."""
    from m4s.identity.services import issue_token

    scheme = _scheme(operation)

    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
        report_multiple_bugs=False,
    )
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case, data):
        for name in list(case.path_parameters or {}):
            known = w.path_ids.get(name) or []
            if known and data.draw(st.booleans(), label=f"known {name}"):
                case.path_parameters[name] = data.draw(st.sampled_from(known), label=name)
        headers = {"Accept-Language": "en"}
        with transaction.atomic():
            if scheme is not None:
                if operation.path.endswith("/auth/logout"):
                    # It revokes the token it is called with: a fresh one, rolled back after.
                    token = issue_token(owner=w.owner)
                else:
                    token = data.draw(st.sampled_from(w.tokens[scheme]), label="token")
                headers["Authorization"] = f"Bearer {token}"
            with TestCase.captureOnCommitCallbacks(execute=True):
                case.call_and_validate(headers=headers, checks=CHECKS[mode])
            transaction.set_rollback(True)

    try:
        run()
    except hypothesis.errors.Unsatisfiable:
        return None  # nothing invalid to send (an operation without parameters)
    except (Exception, BaseExceptionGroup) as exc:  # every failure is reported, all operations run
        return f"{operation.label} [{mode.value}]\n{exc}"
    return None


@pytest.mark.django_db
def test_api_contract(contract, wsgi_schema):
    failures, seen = [], 0
    for result in wsgi_schema.get_all_operations():
        operation = result.ok()
        if ONLY and ONLY not in operation.path:
            continue
        seen += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _check_operation(operation, mode, contract)
            if failure:
                failures.append(failure)
    assert seen >= (1 if ONLY else 70), f"only {seen} operations in the OpenAPI document"
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(failures)
