"""Staff scorecards on a hand-built June 2025 at store A: every measure, the composite, the
league table's order, the page, the API, the .xlsx, isolation (another group's store 404, a
store manager only their own stores, no VIEW_INSIGHTS 403 but their own card) and query counts."""

import datetime as dt
import io
from decimal import Decimal

import openpyxl
import pytest
from django.test import Client

from m4s.complaints.models import Complaint, ComplaintCategory
from m4s.conversations.models import Conversation, ConversationSettings, Message
from m4s.core.tests.factories import StoreFactory, make_staff, staff_token
from m4s.customers.models import Binding, Customer
from m4s.insights import scorecards
from m4s.sales.models import Lead
from m4s.service.choices import SurveyStatus
from m4s.service.models import RepairOrder, Survey
from m4s.staff.choices import Role
from m4s.training import services as training
from m4s.training.models import Assignment
from m4s.training.tests.conftest import answer_key, make_course
from m4s.vehicles.models import Vehicle

pytestmark = pytest.mark.django_db

SH = dt.timezone(dt.timedelta(hours=8))
JUNE = dt.date(2025, 6, 1)


def at(d, h=10):
    return dt.datetime(2025, 6, d, h, 0, tzinfo=SH)


def _june(w):
    """advisor A: 3 customers (c1 bound since 2024, c3 bound on 06-20 through them, c2 not),
    2 surveys (all factors 10 and 8 → CSI 90), first responses of 10 and 30 business minutes
    (target 10), 1 complaint, the advisors' quiz passed with 75 %; sales 1: one lead won;
    sales 2: one lead still open; a July survey and another store's complaint do not count."""
    g = w.group_a
    w.sales1 = make_staff("sales-1", Role.SALES_CONSULTANT, g, [w.store_a], display_name="Li")
    w.sales2 = make_staff("sales-2", Role.SALES_CONSULTANT, g, [w.store_a], display_name="Wu")
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, g, [w.store_a])
    w.store_a2 = StoreFactory(dealer_group=g, name="Alpha South")
    w.manager_a2 = make_staff("manager-a2", Role.STORE_MANAGER, g, [w.store_a2])
    ConversationSettings.objects.create(dealer_group=g, first_response_minutes=10)
    cs, cars = [], []
    for i in range(3):
        c = Customer.objects.unscoped().create(
            dealer_group=g,
            store=w.store_a,
            name=f"C{i}",
            phone=f"+8613900001{i:02d}",
            service_advisor=w.advisor_a,
        )
        car = Vehicle.objects.create(
            dealer_group=g,
            vin=f"LSVAA4187E21000{i}",
            plate=f"京B1000{i}",
            brand="VW",
            model="Golf",
            current_owner=c,
        )
        cs.append(c)
        cars.append(car)
    for c, car, when, staff in (
        (cs[0], cars[0], dt.datetime(2024, 1, 1, tzinfo=SH), None),
        (cs[2], cars[2], at(20), w.advisor_a),
    ):
        Binding.objects.create(
            dealer_group=g,
            customer=c,
            vehicle=car,
            via="app",
            store=w.store_a,
            staff=staff,
            created_at=when,
        )
    for i, (factor, when) in enumerate(
        ((10, at(13)), (8, at(14)), (2, dt.datetime(2025, 7, 2, tzinfo=SH)))
    ):
        ro = RepairOrder.objects.create(
            dealer_group=g,
            number=f"SC{i}",
            store=w.store_a,
            customer=cs[i],
            vehicle=cars[i],
            advisor=w.advisor_a,
            odometer_in=1000,
            fuel_pct=50,
            checked_in_at=when - dt.timedelta(days=2),
        )
        Survey.objects.create(
            dealer_group=g,
            repair_order=ro,
            store=w.store_a,
            customer=cs[i],
            owner=w.owner,
            advisor=w.advisor_a,
            status=SurveyStatus.ANSWERED,
            available_at=when,
            expires_at=when + dt.timedelta(days=14),
            answered_at=when,
            initiation=factor,
            advisor_score=factor,
            facility=factor,
            pickup=factor,
            quality=factor,
            nps=9,
        )
    conv = Conversation.objects.create(
        dealer_group=g,
        store=w.store_a,
        customer=cs[0],
        topic="service",
        assignee=w.advisor_a,
        last_message_at=at(5),
        created_at=at(5),
        opened_at=at(5),
    )
    for minutes in (10, 30):
        Message.objects.create(
            dealer_group=g,
            conversation=conv,
            author_kind="staff",
            author_staff=w.advisor_a,
            body="hi",
            created_at=at(5),
            response_minutes=minutes,
        )
    cat = ComplaintCategory.objects.create(dealer_group=g, code="svc", name="Service")
    for n, store in ((1, w.store_a), (2, w.store_a2)):
        Complaint.objects.create(
            dealer_group=g,
            reference=f"SCP{n}",
            store=store,
            customer=cs[1],
            channel="phone",
            category=cat,
            description="slow",
            concerned_staff=w.advisor_a,
            created_at=at(2),
            first_response_due_at=at(2, 14),
            resolution_due_at=at(4),
        )
    Lead.objects.create(
        dealer_group=g,
        store=w.store_a,
        source="walk_in",
        stage="won",
        won_at=at(7),
        assigned_to=w.sales1,
        value=Decimal("150000.00"),
    )
    Lead.objects.create(dealer_group=g, store=w.store_a, source="walk_in", assigned_to=w.sales2)
    course = make_course(w.admin_a)
    quiz = training.save_quiz(
        w.admin_a,
        course_id=course.pk,
        title="Basics",
        questions_drawn=4,
        pass_mark=75,
        is_published=True,
    )
    training.assign(w.admin_a, quiz.pk, role=Role.SERVICE_ADVISOR)
    Assignment.objects.for_group(g).update(created_at=at(1))
    attempt = training.start_attempt(w.advisor_a, quiz.pk, now=at(8))
    training.submit_attempt(w.advisor_a, attempt.pk, answer_key(attempt, wrong=1), now=at(8, 11))
    return w


def test_numbers_of_a_hand_built_month(world):
    w = _june(world)
    cards = {c["staff_id"]: c for c in scorecards.for_store(w.admin_a, w.store_a.pk, JUNE)}
    assert set(cards) == {w.advisor_a.pk, w.sales1.pk, w.sales2.pk, w.tech_a.pk}
    a = cards[w.advisor_a.pk]
    assert (a["customers_served"], a["customers_bound"], a["binding_rate"]) == (3, 2, 66.7)
    assert a["bindings_in_month"] == 1
    assert (a["surveys"], a["csi"]) == (2, 90.0)
    assert (a["responses"], a["first_response_minutes"], a["first_response_target"]) == (
        2,
        20.0,
        10,
    )
    assert a["complaints"] == 1  # the other store's complaint is not this store's card
    assert (a["quizzes_assigned"], a["quizzes_passed"], a["quiz_mean_best"]) == (1, 1, 75)
    assert a["leads_won"] == 0 and a["components"]["leads"] is None
    assert a["components"] == {
        "csi": 90.0,
        "binding": 66.7,
        "response": 66.7,
        "complaints": 75.0,
        "quiz": 75.0,
        "leads": None,
    }
    # (25·90 + 20·66.7 + 15·66.7 + 15·75 + 15·75) / 90
    assert a["composite"] == 75.9
    s1, s2 = cards[w.sales1.pk], cards[w.sales2.pk]
    assert (s1["leads_won"], s1["leads_won_value"], s1["components"]["leads"]) == (
        1,
        Decimal("150000.00"),
        100.0,
    )
    assert s1["composite"] == 100.0  # complaints 100 (15) and leads 100 (10)
    assert s2["components"]["leads"] == 0.0 and s2["composite"] == 60.0
    tech = cards[w.tech_a.pk]
    assert tech["composite"] is None  # no measure: a clean record alone does not rank


def test_league_table_order(world):
    w = _june(world)
    order = [c["staff_id"] for c in scorecards.for_store(w.admin_a, w.store_a.pk, JUNE)]
    # the technician has no measure: last
    assert order == [w.sales1.pk, w.advisor_a.pk, w.sales2.pk, w.tech_a.pk]
    ranks = [c["rank"] for c in scorecards.for_store(w.admin_a, w.store_a.pk, JUNE)]
    assert ranks == [1, 2, 3, 4]


def test_months_outside_the_data_are_empty_not_errors(world):
    w = _june(world)
    cards = scorecards.for_store(w.admin_a, w.store_a.pk, dt.date(2019, 1, 1))
    a = next(c for c in cards if c["staff_id"] == w.advisor_a.pk)
    assert a["csi"] is None and a["complaints"] == 0 and a["quiz_mean_best"] is None


def test_set_based(world, django_assert_max_num_queries):
    w = _june(world)
    for i in range(6):
        make_staff(f"more-{i}", Role.SERVICE_ADVISOR, w.group_a, [w.store_a])
    with django_assert_max_num_queries(16):
        cards = scorecards.for_store(w.admin_a, w.store_a.pk, JUNE)
    assert len(cards) == 10


def test_page_export_and_isolation(world, django_assert_max_num_queries):
    w = _june(world)
    c = Client()
    c.force_login(w.admin_a)
    url = f"/console/insights/scorecards/?store={w.store_a.pk}&month=2025-06"
    with django_assert_max_num_queries(40):
        r = c.get(url)
    assert r.status_code == 200
    body = r.content.decode()
    assert body.count('data-testid="league-row"') == 4 and 'data-testid="scorecard-chart"' in body
    r = c.get(f"/console/insights/scorecards/export.xlsx?store={w.store_a.pk}&month=2025-06")
    rows = list(openpyxl.load_workbook(io.BytesIO(r.content)).active.iter_rows(values_only=True))
    assert len(rows) == 5 and rows[1][0] == 1 and rows[1][1] == "Li"
    assert c.get(f"/console/insights/scorecards/?store={w.store_b.pk}").status_code == 404
    m = Client()
    m.force_login(w.manager_a)  # a store manager: own store only
    assert m.get(url).status_code == 200
    assert m.get(f"/console/insights/scorecards/?store={w.store_a2.pk}").status_code == 404
    adv = Client()
    adv.force_login(w.advisor_a)  # no VIEW_INSIGHTS: 403, but their own card
    assert adv.get(url).status_code == 403
    r = adv.get("/console/insights/scorecards/me/?month=2025-06")
    assert r.status_code == 200 and b'data-testid="my-composite">75.9<' in r.content
    other = Client()
    other.force_login(w.admin_b)
    assert other.get(url).status_code == 404


def test_api(world, api_client):
    w = _june(world)
    r = api_client.get(
        "/api/v1/staff/scorecards",
        token=staff_token(w.admin_a),
        params={"store": w.store_a.pk, "month": "2025-06"},
    )
    assert r.status_code == 200, r.json_body
    assert [c["staff_id"] for c in r.json_body["cards"]][0] == w.sales1.pk
    assert r.json_body["weights"]["csi"] == 25
    q = {"store": w.store_b.pk}
    assert (
        api_client.get(
            "/api/v1/staff/scorecards", token=staff_token(w.admin_a), params=q
        ).status_code
        == 404
    )
    q = {"store": w.store_a2.pk}
    assert (
        api_client.get(
            "/api/v1/staff/scorecards", token=staff_token(w.manager_a), params=q
        ).status_code
        == 404
    )
    q = {"store": w.store_a.pk}
    assert (
        api_client.get(
            "/api/v1/staff/scorecards", token=staff_token(w.advisor_a), params=q
        ).status_code
        == 403
    )
    r = api_client.get(
        "/api/v1/staff/scorecards/me", token=staff_token(w.advisor_a), params={"month": "2025-06"}
    )
    assert r.status_code == 200 and r.json_body["composite"] == 75.9
    assert (
        api_client.get("/api/v1/staff/scorecards/me", token=staff_token(w.admin_b)).status_code
        == 404
    )
