"""Routing: the customer's consultant when on duty; off duty → the on-duty colleagues of the same
role (unassigned, offered) → the store's CS queue; the first-response scan moves an unanswered
conversation one stage when its business-time clock runs out, exactly once per stage."""

import datetime as dt

from m4s.conversations import selectors, services
from m4s.conversations.choices import HandoverReason, Stage
from m4s.conversations.models import Conversation, ConversationSettings, Handover, Message
from m4s.notify.models import Message as Outbox
from m4s.staff.models import Shift

from .conftest import T0


def off_duty(w, *people):
    Shift.objects.for_group(w.group_a).filter(staff__in=people, date=T0.date()).delete()


def start(w, topic="service", now=T0):
    return services.start_conversation(
        w.owner, customer=w.customer, topic=topic, body="Hello", now=now
    )


def told(person) -> int:
    return Outbox.objects.filter(staff=person, kind="conversation").count()


def test_consultant_off_duty_offers_it_to_the_on_duty_team(talk):
    w = talk
    off_duty(w, w.advisor_a)
    conv = start(w)
    assert conv.stage == Stage.TEAM and conv.assignee is None
    assert conv.first_response_due_at == T0 + dt.timedelta(minutes=30)
    h = Handover.objects.for_group(w.group_a).get(conversation=conv)
    assert h.reason == HandoverReason.OFF_DUTY and h.from_staff == w.advisor_a
    assert told(w.advisor_a2) == 1 and told(w.advisor_a) == 0
    assert [c.pk for c in selectors.staff_inbox(w.advisor_a2, "unassigned")] == [conv.pk]
    assert [c.pk for c in selectors.staff_inbox(w.sales_a, "unassigned")] == []
    assert selectors.staff_unread_count(w.advisor_a2) == 1
    # the colleague answers: it is theirs now, and the owner's wait is over
    services.post_staff_message(w.advisor_a2, conv, body="I can help", now=T0)
    conv.refresh_from_db()
    assert conv.assignee == w.advisor_a2 and conv.waiting_since is None
    assert [c.pk for c in selectors.staff_inbox(w.advisor_a2, "mine")] == [conv.pk]


def test_consultant_and_team_off_duty_goes_to_the_cs_queue(talk):
    w = talk
    off_duty(w, w.advisor_a, w.advisor_a2)
    conv = start(w)
    assert conv.stage == Stage.CS_QUEUE and conv.assignee is None
    assert conv.first_response_due_at is None
    assert told(w.cs_a) == 1 and told(w.cs2_a) == 1
    assert [c.pk for c in selectors.staff_inbox(w.cs2_a, "unassigned")] == [conv.pk]
    assert [c.pk for c in selectors.staff_inbox(w.cs2_a, "waiting")] == [conv.pk]


def test_nobody_on_duty_keeps_it_with_the_consultant_until_the_store_opens(talk):
    w = talk
    night = T0.replace(hour=22)
    conv = start(w, now=night)
    assert conv.stage == Stage.CONSULTANT and conv.assignee == w.advisor_a
    # 30 business minutes from the next opening (08:30)
    assert conv.first_response_due_at == (T0 + dt.timedelta(days=1)).replace(hour=9, minute=0)


def test_store_without_a_roster_that_day_counts_its_opening_hours(talk):
    w = talk
    other_day = T0 + dt.timedelta(days=1)  # no shifts on that date
    assert services.is_on_duty(w.advisor_a, w.store_a, other_day)
    assert not services.is_on_duty(w.advisor_a, w.store_a, other_day.replace(hour=22))


def test_the_store_topic_goes_to_the_cs_queue(talk):
    w = talk
    conv = start(w, topic="store")
    assert conv.stage == Stage.CS_QUEUE and conv.assignee is None


def test_first_response_breach_moves_one_stage_once(talk, django_capture_on_commit_callbacks):
    w = talk
    ConversationSettings.objects.create(
        dealer_group=w.group_a, first_response_minutes=20, team_offer_minutes=40
    )
    conv = start(w)
    assert conv.first_response_due_at == T0 + dt.timedelta(minutes=20)
    assert services.offer_overdue(now=T0 + dt.timedelta(minutes=19)) == 0
    with django_capture_on_commit_callbacks(execute=True):
        assert services.offer_overdue(now=T0 + dt.timedelta(minutes=21)) == 1
    assert services.offer_overdue(now=T0 + dt.timedelta(minutes=21)) == 0  # once
    conv.refresh_from_db()
    assert conv.stage == Stage.TEAM and conv.assignee is None
    assert conv.first_response_due_at == T0 + dt.timedelta(minutes=61)
    assert told(w.advisor_a2) == 1
    assert [c.pk for c in selectors.staff_inbox(w.advisor_a2, "unassigned")] == [conv.pk]
    with django_capture_on_commit_callbacks(execute=True):
        assert services.offer_overdue(now=T0 + dt.timedelta(minutes=62)) == 1
    assert services.offer_overdue(now=T0 + dt.timedelta(hours=5)) == 0  # the last stage
    conv.refresh_from_db()
    assert conv.stage == Stage.CS_QUEUE and conv.first_response_due_at is None
    moves = Handover.objects.for_group(w.group_a).filter(conversation=conv, reason="overdue")
    assert list(moves.order_by("id").values_list("stage", "from_staff")) == [
        (Stage.TEAM, w.advisor_a.pk),
        (Stage.CS_QUEUE, None),
    ]
    lines = Message.objects.for_group(w.group_a).filter(conversation=conv, author_kind="system")
    assert lines.count() == 2 and set(lines.values_list("kind", flat=True)) == {"note"}
    assert told(w.cs_a) >= 1


def test_breach_with_nobody_of_the_role_on_duty_goes_straight_to_the_queue(talk):
    w = talk
    off_duty(w, w.advisor_a2)
    conv = start(w)
    assert services.offer_overdue(now=T0 + dt.timedelta(minutes=31)) == 1
    conv.refresh_from_db()
    assert conv.stage == Stage.CS_QUEUE


def test_an_answer_stops_the_clock(talk):
    w = talk
    conv = start(w)
    services.post_staff_message(w.advisor_a, conv, body="On it", now=T0 + dt.timedelta(minutes=5))
    assert services.offer_overdue(now=T0 + dt.timedelta(hours=3)) == 0
    # the next owner message starts a new round with the same handler
    services.post_owner_message(w.owner, conv, body="Thanks", now=T0 + dt.timedelta(hours=1))
    conv.refresh_from_db()
    assert conv.wait_round == 2 and conv.assignee == w.advisor_a
    assert services.offer_overdue(now=T0 + dt.timedelta(hours=2)) == 1


def test_inbox_boxes_and_search(talk):
    w = talk
    mine = start(w)
    other = services.start_conversation(
        w.owner_c, customer=w.customer_c, topic="service", body="Hi", now=T0
    )
    assert other.assignee == w.advisor_a2
    assert [c.pk for c in selectors.staff_inbox(w.advisor_a, "mine")] == [mine.pk]
    assert [c.pk for c in selectors.staff_inbox(w.advisor_a, "team")] == [other.pk]
    assert {c.pk for c in selectors.staff_inbox(w.manager_a, "waiting")} == {mine.pk, other.pk}
    assert [c.pk for c in selectors.staff_inbox(w.sales_a, "team")] == []
    assert [c.pk for c in selectors.staff_inbox(w.advisor_a, "waiting", q="京C99999")] == [other.pk]
    assert [
        c.pk for c in selectors.staff_inbox(w.advisor_a, "waiting", q=w.customer.phone[-4:])
    ] == [mine.pk]
    assert selectors.staff_inbox(w.advisor_b, "waiting") == []
    assert selectors.staff_inbox(w.tech_a, "waiting") == []
    services.close(w.advisor_a, mine, now=T0 + dt.timedelta(minutes=3))
    assert [c.pk for c in selectors.staff_inbox(w.advisor_a, "closed")] == [mine.pk]
    assert selectors.inbox_counts(w.advisor_a)["mine"] == 0
    assert Conversation.objects.for_group(w.group_a).count() == 2


def test_inbox_signature_changes_with_what_the_box_shows(talk):
    w = talk
    empty = selectors.inbox_signature(w.advisor_a, "mine")
    conv = start(w)
    one = selectors.inbox_signature(w.advisor_a, "mine")
    assert one != empty
    assert selectors.inbox_signature(w.advisor_a, "mine") == one  # stable
    services.post_owner_message(w.owner, conv, body="more", now=T0 + dt.timedelta(minutes=1))
    two = selectors.inbox_signature(w.advisor_a, "mine")
    assert two != one
    services.mark_read_by_staff(w.advisor_a, conv)
    assert selectors.inbox_signature(w.advisor_a, "mine") != two
