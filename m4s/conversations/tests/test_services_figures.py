"""The customer-360 side panel and the quality figures (business minutes per staff member and
store, conversations per consultant, ratings, unsolicited calls); both scoped to the group."""

import datetime as dt

import pytest

from m4s.conversations import selectors, services
from m4s.core.errors import DomainError

from .conftest import T0


def test_customer_panel(talk):
    w = talk
    from m4s.service.tests.helpers import ready_order

    ro, _lines = ready_order(w)
    panel = selectors.customer_panel(w.advisor_a, w.customer)
    assert [c.pk for c in panel["cars"]] == [w.my_car.pk]
    assert panel["open_repair_order"].pk == ro.pk
    assert panel["consultants"]["service"] == w.advisor_a
    with pytest.raises(DomainError) as exc:
        selectors.customer_panel(w.advisor_b, w.customer)
    assert exc.value.status == 404


def test_figures(talk):
    w = talk
    month = T0.date().replace(day=1)
    a = services.start_conversation(
        w.owner, customer=w.customer, topic="service", body="one", now=T0
    )
    services.post_staff_message(w.advisor_a, a, body="ok", now=T0 + dt.timedelta(minutes=10))
    services.close(w.advisor_a, a, now=T0 + dt.timedelta(minutes=40))
    services.rate(w.owner, a, score=4)
    b = services.start_conversation(
        w.owner_c, customer=w.customer_c, topic="service", body="two", now=T0
    )
    services.post_staff_message(w.advisor_a2, b, body="ok", now=T0 + dt.timedelta(minutes=20))
    services.log_call(
        w.advisor_a,
        customer=w.customer_c,
        direction="outbound",
        reached=False,
        duration_seconds=0,
        outcome="no_answer",
        reason="Recall",
        now=T0,
    )
    # b is an open case now, so a second call is not unsolicited
    f = selectors.figures(w.manager_a, month=month)
    by_staff = {r["staff_id"]: r for r in f["first_response_by_staff"]}
    assert by_staff[w.advisor_a.pk]["mean_minutes"] == 10.0
    assert by_staff[w.advisor_a2.pk]["mean_minutes"] == 20.0
    assert by_staff[w.advisor_a.pk]["resolved"] == 1
    assert f["by_store"][0]["mean_first_response_minutes"] == 15.0
    assert f["by_store"][0]["mean_resolution_minutes"] == 40.0
    assert {r["staff_id"]: r["conversations"] for r in f["per_consultant"]} == {
        w.advisor_a.pk: 1,
        w.advisor_a2.pk: 1,
    }
    assert f["ratings"]["count"] == 1 and f["ratings"]["distribution"][4] == 1
    assert f["calls"]["total"] == 1 and f["calls"]["unsolicited"] == 0  # b was open: a case
    assert f["calls"]["without_owner_request"] == 1
    with pytest.raises(DomainError) as exc:
        selectors.figures(w.advisor_a, month=month)
    assert exc.value.status == 403
    other = selectors.figures(w.admin_b, month=month)
    assert other["first_response_by_staff"] == [] and other["calls"]["total"] == 0
