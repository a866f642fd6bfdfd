"""The complaints demo: alive at once (every status, breaches and escalations, root causes with
corrective actions, some checked) and the first demo owner has an open complaint."""

import time
from collections import Counter

import pytest

from m4s.complaints import selectors
from m4s.complaints.choices import OPEN_STATUSES, Status
from m4s.complaints.models import Complaint, CorrectiveAction, Escalation, SlaPolicy
from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.org.models import Store
from m4s.owners.models import Owner
from m4s.staff.models import StaffUser


@pytest.mark.django_db
def test_complaints_demo_is_alive():
    started = time.monotonic()
    assert build_demo(insights=False) is True
    print(f"demo built in {time.monotonic() - started:.1f} s")  # noqa: T201 (with -s)
    everything = Complaint.objects.unscoped()
    statuses = Counter(everything.values_list("status", flat=True))
    print(dict(statuses), everything.count())  # noqa: T201
    assert set(statuses) == set(Status.values), statuses
    assert everything.filter(channel="app").exists() and everything.filter(channel="phone").exists()
    assert everything.filter(channel="survey").exists()
    assert Escalation.objects.unscoped().filter(reason="breach").exists()
    assert Escalation.objects.unscoped().filter(reason="request").exists()
    actions = CorrectiveAction.objects.unscoped()
    assert actions.filter(checked_at__isnull=False).exists()
    assert actions.filter(checked_at__isnull=True).exists()
    assert everything.filter(rating__isnull=False).exists()
    assert {s.code for s in Store.objects.unscoped().filter(complaints__isnull=False)} >= {
        "chaoyang",
        "haidian",
        "fengtai",
    }
    g1 = Store.objects.unscoped().get(code="chaoyang").dealer_group_id
    assert SlaPolicy.objects.for_group(g1).exists()
    # the first demo owner has an open complaint with a reply
    owner = Owner.objects.get(phone=OWNER_PHONES[0])
    mine = list(selectors.complaints_for_owner(owner))
    assert any(c.status in OPEN_STATUSES for c in mine)
    # the desk and the figures are alive for the store's people
    cs = StaffUser.objects.get(username="cs")
    assert selectors.queue(cs, "store")
    manager = StaffUser.objects.get(username="manager")
    figures = selectors.figures(manager, everything.order_by("-created_at")[0].created_at.date())
    assert figures["total"] > 0 and figures["top_root_causes"]
