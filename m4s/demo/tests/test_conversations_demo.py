"""The conversations demo: canned replies in three languages in both groups, conversations
between the demo owners and their consultants (closed and rated ones, owners waiting now, one
whose first-response target ran out and was offered on, an answer the owner has not read), calls
(one of them unsolicited, with its reason), one open call-back request, and every message and
call on the customers' timelines; the advisor's inbox and the owner's list show them."""

import pytest
from django.utils import timezone

from m4s.conversations import selectors
from m4s.conversations.models import Call, CallbackRequest, CannedReply, Conversation, Message
from m4s.customers.models import TimelineEvent
from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.owners.models import Owner
from m4s.staff.models import StaffUser


@pytest.mark.django_db
def test_conversations_demo_is_alive():
    assert build_demo(insights=False) is True
    replies = CannedReply.objects.unscoped()
    assert replies.values("dealer_group").distinct().count() == 2
    assert all(set(r.body_i18n) >= {"zh-hans", "en", "ko"} for r in replies)
    conversations = Conversation.objects.unscoped()
    closed = conversations.filter(status="closed")
    assert closed.count() >= 10 and closed.filter(rating__isnull=False).count() >= 5
    waiting = conversations.filter(status="open", waiting_since__isnull=False)
    assert waiting.count() >= 3
    assert waiting.exclude(stage="consultant").exists()  # the breached one, offered on
    assert conversations.filter(status="open", owner_unread__gt=0).exists()
    assert Message.objects.unscoped().filter(kind="note").exists()
    assert Message.objects.unscoped().filter(photos__isnull=False).exists()
    calls = Call.objects.unscoped()
    assert calls.count() >= 3 and calls.filter(basis="none").exclude(reason="").exists()
    assert CallbackRequest.objects.unscoped().filter(status="open").count() == 1
    kinds = set(TimelineEvent.objects.unscoped().values_list("kind", flat=True))
    assert {"message", "note", "call"} <= kinds

    advisor = StaffUser.objects.get(username="advisor")
    assert selectors.staff_inbox(advisor, "mine")
    assert selectors.staff_unread_count(advisor) >= 1
    manager = StaffUser.objects.get(username="manager")
    answered = (
        Message.objects.unscoped().filter(response_minutes__isnull=False).latest("created_at")
    )
    figures = selectors.figures(manager, month=timezone.localdate(answered.created_at))
    assert figures["first_response_by_staff"] and figures["by_store"]
    owner = Owner.objects.get(phone=OWNER_PHONES[0])
    assert selectors.owner_conversations(owner).count() >= 2
    # the second group's staff see none of it
    other = StaffUser.objects.get(username="other-advisor")
    assert not selectors.staff_inbox(other, "team")
