"""The earn is one transaction; its follow-up (the "+N points" message, the tier upgrade, mission
progress) runs in batches after commit and applies exactly once, whatever the retries."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db.models import F
from django.utils import timezone

from m4s.loyalty import earning, services
from m4s.loyalty.choices import Event
from m4s.loyalty.models import (
    EarningRule,
    LedgerEntry,
    Member,
    MemberBadge,
    MemberEvent,
    MissionCompletion,
    Programme,
)
from m4s.notify.models import Message

NOW = dt.datetime(2026, 6, 1, 10, tzinfo=dt.UTC)


def _state(w):
    member = Member.objects.for_group(w.group_a).select_related("tier").get(pk=w.member.pk)
    return {
        "earned_messages": Message.objects.filter(kind="loyalty.earned").count(),
        "mission_messages": Message.objects.filter(kind="loyalty.mission").count(),
        "completions": MissionCompletion.objects.for_group(w.group_a).count(),
        "badges": MemberBadge.objects.for_group(w.group_a).count(),
        "mission_points": LedgerEntry.objects.for_group(w.group_a)
        .filter(member=member, source_type="mission")
        .count(),
        "balance": (member.balance, member.pending),
        "tier": member.tier.name if member.tier_id else None,
        "marked": MemberEvent.objects.for_group(w.group_a).filter(follow_up=True).count(),
    }


def _five_partners(w):
    EarningRule.objects.create(  # partner purchases earn 1 point per yuan (qualifying)
        dealer_group=w.group_a,
        event=Event.PARTNER_PURCHASE,
        name="Partner purchase",
        points_per_yuan=Decimal(1),
    )
    for i in range(5):  # the "explorer" mission: 5 different partners within 60 days
        services.record_event(
            w.customer,
            Event.PARTNER_PURCHASE,
            source=f"p:{i}",
            key=f"partner:{i}",
            amount=Decimal(300),
            now=NOW + dt.timedelta(days=i),
        )


def test_the_ledger_is_written_at_once_the_rest_follows_in_a_batch(club):
    w = club
    _five_partners(w)
    before = _state(w)
    # The points are there at once; the message, tier and mission are not yet.
    assert before["balance"] == (0, 1500)  # partner purchases are pending for the return window
    assert before["marked"] == 5
    assert (before["earned_messages"], before["completions"], before["mission_points"]) == (0, 0, 0)
    assert earning.follow_up_pending() == 5
    after = _state(w)
    assert after["marked"] == 0
    assert after["earned_messages"] == 5
    assert (after["completions"], after["badges"], after["mission_points"]) == (1, 1, 1)
    assert after["mission_messages"] == 1


def test_the_follow_up_applies_once_when_run_again(club):
    w = club
    _five_partners(w)
    earning.follow_up_pending()
    once = _state(w)
    # A retried task, a replayed batch (markers set again, as after a crash before they were
    # cleared), and a direct re-run of each event's step: nothing doubles.
    assert earning.follow_up_pending() == 0
    MemberEvent.objects.for_group(w.group_a).update(follow_up=True)
    assert earning.follow_up_pending() == 5
    member = (
        Member.objects.for_group(w.group_a).select_related("tier", "customer").get(pk=w.member.pk)
    )
    for ev in MemberEvent.objects.for_group(w.group_a).order_by("id"):
        services.follow_up_event(member, ev)
    assert _state(w) == once


def test_a_batch_that_fails_half_way_is_applied_once_by_the_retry(club, monkeypatch):
    w = club
    _five_partners(w)
    real = services.follow_up_event
    calls = {"n": 0}

    class WorkerLost(BaseException):  # the process dies: not an error the batch can catch
        pass

    def flaky(member, ev):
        calls["n"] += 1
        result = real(member, ev)
        if calls["n"] == 5:  # after four events' effects and the fifth's: the worker dies
            raise WorkerLost()
        return result

    monkeypatch.setattr(services, "follow_up_event", flaky)
    with pytest.raises(WorkerLost):
        earning.follow_up_pending()
    # Everything of the failed batch rolled back with it, markers included.
    failed = _state(w)
    assert (failed["marked"], failed["earned_messages"], failed["completions"]) == (5, 0, 0)
    monkeypatch.setattr(services, "follow_up_event", real)
    assert earning.follow_up_pending() == 5
    after = _state(w)
    assert (after["marked"], after["earned_messages"], after["completions"]) == (0, 5, 1)
    assert after["mission_points"] == 1


def test_an_event_whose_follow_up_always_fails_holds_back_no_other(club, monkeypatch):
    w = club
    _five_partners(w)
    real = services.follow_up_event
    first = MemberEvent.objects.unscoped().filter(follow_up=True).order_by("id").first()

    def broken_for_one(member, ev):
        if ev.pk == first.pk:
            raise ValueError("bad data in this one event")
        return real(member, ev)

    monkeypatch.setattr(services, "follow_up_event", broken_for_one)
    assert earning.follow_up_pending() == 5
    after = _state(w)
    # the other four got their message; the broken one is given up (its points stay), no loop
    assert (after["marked"], after["earned_messages"]) == (0, 4)
    assert earning.follow_up_pending() == 0


def test_the_tier_follows_the_qualifying_points(club):
    w = club
    assert _state(w)["tier"] == "Silver"
    services.record_event(
        w.customer, Event.SERVICE_PAID, source="ro:1", amount=Decimal(5000), now=timezone.now()
    )
    assert _state(w)["tier"] == "Silver"  # not yet
    earning.follow_up_pending()
    assert _state(w)["tier"] != "Silver"
    tier = _state(w)["tier"]
    earning.follow_up_pending()
    MemberEvent.objects.for_group(w.group_a).update(follow_up=True)
    earning.follow_up_pending()
    assert _state(w)["tier"] == tier


def test_after_commit_a_task_runs_the_follow_up(club, django_capture_on_commit_callbacks):
    w = club
    with django_capture_on_commit_callbacks(execute=True):
        services.record_event(w.customer, Event.APPOINTMENT_KEPT, source="appt:1")
    assert _state(w)["marked"] == 0
    assert _state(w)["earned_messages"] == 1


def test_a_changed_rule_is_seen_by_the_next_earn(club):
    w = club
    rule = EarningRule.objects.for_group(w.group_a).get(event=Event.APPOINTMENT_KEPT)
    first = services.record_event(w.customer, Event.APPOINTMENT_KEPT, source="appt:1")
    rule.points += 7
    rule.save()
    second = services.record_event(w.customer, Event.APPOINTMENT_KEPT, source="appt:2")
    assert second.entries[0].points == first.entries[0].points + 7
    # Another process's change: this process's cache is not told, the version read with the
    # member's lock is what counts.
    EarningRule.objects.for_group(w.group_a).filter(pk=rule.pk).update(is_active=False)
    Programme.objects.for_group(w.group_a).update(rules_version=F("rules_version") + 1)
    third = services.record_event(w.customer, Event.APPOINTMENT_KEPT, source="appt:3")
    assert third.entries == []
