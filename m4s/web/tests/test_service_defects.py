"""Regression tests for the service area's defects (issue 10): the staff wording of the board,
the quality-check step offered only when the work is done, the figures' month range."""

import pytest
from django.core.cache import cache
from django.test import Client

from m4s.core.tests.factories import PASSWORD, staff_token
from m4s.service import services

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()


@pytest.fixture
def client():
    return Client(HTTP_ACCEPT_LANGUAGE="en")


def login(client, username):
    client.logout()
    assert client.login(username=username, password=PASSWORD)


def two_approved_jobs(w):
    """A walk-in with two approved jobs, the order in repair."""
    ro = services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="Rattle from the back",
    )
    lines = []
    for code in ("BULB", "WIPE"):
        line = services.add_line(
            w.advisor_a, ro, operation_id=w.catalogue.operations[code].pk, reason="found"
        )
        services.decide_line(ro, line.pk, True, owner=w.owner)
        lines.append(line)
    return ro, lines


QC_BUTTON = 'value="quality_check"'


def test_quality_check_is_offered_only_when_every_approved_job_is_done(
    client, workshop, api_client
):
    w = workshop
    ro, (bulb, wipe) = two_approved_jobs(w)
    order = f"/console/service/orders/{ro.pk}/"
    services.clock_on(w.tech_a, ro, bulb.pk)
    services.clock_off(w.tech_a, ro, bulb.pk, done=True)
    login(client, "tech-a")
    body = client.get(order).content.decode()
    assert QC_BUTTON not in body  # the wipers are not done yet

    # The service refuses the step too, with a code, through the API and the page.
    r = api_client.post(
        f"/api/v1/staff/repair-orders/{ro.pk}/status",
        {"to": "quality_check"},
        token=staff_token(w.tech_a),
    )
    assert r.status_code == 409 and r.json()["code"] == "work_not_finished"
    body = client.post(f"{order}status/", {"to": "quality_check"}, follow=True).content.decode()
    assert "Finish every approved job first." in body
    ro.refresh_from_db()
    assert ro.status == "in_repair"

    services.clock_on(w.tech_a, ro, wipe.pk)
    services.clock_off(w.tech_a, ro, wipe.pk, done=True)
    assert QC_BUTTON in client.get(order).content.decode()


def test_staff_read_the_owner_approval_column_in_their_own_words(client, workshop):
    w = workshop
    ro = services.check_in(
        w.advisor_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.my_car,
        odometer=18600,
        fuel_pct=50,
        symptoms="noise",
    )
    services.add_line(
        w.advisor_a, ro, operation_id=w.catalogue.operations["BULB"].pk, reason="found"
    )
    login(client, "advisor-a")
    board = client.get(f"/console/service/?store={w.store_a.pk}").content.decode()
    assert "Waiting for the owner&#x27;s approval" in board
    assert "Waiting for your approval" not in board
    body = client.get(f"/console/service/orders/{ro.pk}/").content.decode()
    assert "Waiting for your approval" not in body
