"""Conversations under the owners' data rights: the export holds the owner's conversations and
messages (never a note), photos, callback requests and calls; erasure clears what people wrote
and the photos and keeps the rows for the figures; another owner's conversations are untouched."""

import datetime as dt

from m4s.conversations import services
from m4s.conversations.models import Call, CallbackRequest, Conversation, Message, MessagePhoto
from m4s.privacy import services as privacy
from m4s.privacy.tests.helpers import png

from .conftest import T0

MINE = "Xiaoming's brakes squeal"
NOTE = "Xiaoming sounded upset"
THEIRS = "Owner C asks about the wash"


def test_export_and_erasure_of_the_owners_conversations(talk):
    w = talk
    conv = services.start_conversation(
        w.owner, customer=w.customer, topic="service", body=MINE, photos=[png()], now=T0
    )
    services.post_staff_message(w.advisor_a, conv, body="Come at nine, Xiaoming", now=T0)
    services.add_note(w.advisor_a, conv, body=NOTE, now=T0)
    services.close(w.advisor_a, conv, now=T0 + dt.timedelta(hours=1))
    services.rate(w.owner, conv, score=5, comment="Xiaoming is happy")
    services.request_callback(
        w.owner,
        customer=w.customer,
        topic="sales",
        window_start=T0 + dt.timedelta(hours=2),
        window_end=T0 + dt.timedelta(hours=3),
        note="Xiaoming after work",
        now=T0,
    )
    services.log_call(
        w.advisor_a,
        customer=w.customer,
        direction="outbound",
        reached=True,
        duration_seconds=60,
        outcome="informed",
        note="Xiaoming wants a quote",
        now=T0 + dt.timedelta(hours=2),
    )
    theirs = services.start_conversation(
        w.owner_c, customer=w.customer_c, topic="service", body=THEIRS, now=T0
    )

    kinds, files = privacy.collect(w.owner)
    texts = [m["display_text"] for m in kinds["conversation_messages"]]
    assert MINE in texts and NOTE not in str(kinds)
    assert kinds["conversations"][0]["rating"] == 5
    assert kinds["callback_requests"][0]["note"] == "Xiaoming after work"
    assert len(kinds["calls"]) == 1
    assert len(files) == 1
    assert THEIRS not in str(kinds)

    erasure, _ = privacy.request_erasure(w.owner, now=T0 - dt.timedelta(days=20))
    record = privacy.erase(erasure.pk, now=T0)
    assert record.summary["conversations"]["photos deleted"] == 1
    assert Conversation.objects.for_group(w.group_a).count() == 2  # the figures keep counting
    conv.refresh_from_db()
    assert conv.rating == 5 and conv.rating_comment == "" and conv.last_message_preview == ""
    assert not Message.objects.for_group(w.group_a).filter(body__contains="Xiaoming").exists()
    assert not MessagePhoto.objects.for_group(w.group_a).exists()
    assert (
        not CallbackRequest.objects.for_group(w.group_a).filter(note__contains="Xiaoming").exists()
    )
    assert not Call.objects.for_group(w.group_a).filter(note__contains="Xiaoming").exists()
    assert Message.objects.for_group(w.group_a).get(conversation=theirs).body == THEIRS


def test_photo_retention(talk):
    from m4s.conversations import privacy as area

    w = talk
    services.start_conversation(
        w.owner, customer=w.customer, topic="service", body="x", photos=[png()], now=T0
    )
    assert area.enforce_retention({"photos": 30}, T0 + dt.timedelta(days=10)) == {
        "conversation photos deleted": 0
    }
    assert area.enforce_retention({"photos": 30}, T0 + dt.timedelta(days=31)) == {
        "conversation photos deleted": 1
    }
