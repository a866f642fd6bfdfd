"""Complaints under the owners' data rights: the export holds the owner's complaints, their
conversation and photos; erasure clears the owner's text and photos and keeps the complaint
rows for the figures; another owner's complaints are untouched."""

import datetime as dt

from m4s.complaints import services
from m4s.complaints.models import Complaint, ComplaintEvent, ComplaintPhoto
from m4s.complaints.resolution import owner_reply
from m4s.privacy import services as privacy
from m4s.privacy.tests.helpers import png

from .conftest import T0, shift

MINE = "The paint on Xiaoming's door was scratched"
REPLY = "Xiaoming here, please call after six"
THEIRS = "Owner C is unhappy with the wash"


def test_export_and_erasure_of_the_owners_complaints(desk):
    w = desk
    shift(w.cs_a, w.store_a, T0.date())
    mine = services.file_complaint(w.owner, description=MINE, photos=[png()], now=T0)
    owner_reply(w.owner, mine, REPLY, now=T0 + dt.timedelta(minutes=5))
    theirs = services.file_complaint(w.owner_c, description=THEIRS, now=T0)

    kinds, files = privacy.collect(w.owner)
    assert [c["description"] for c in kinds["complaints"]] == [MINE]
    assert REPLY in [m["body"] for m in kinds["complaint_messages"]]
    assert len(files) == 1  # the photo filed with it
    assert THEIRS not in str(kinds)

    erasure, _ = privacy.request_erasure(w.owner, now=T0 - dt.timedelta(days=20))
    record = privacy.erase(erasure.pk, now=T0)
    assert record.summary["complaints"]["photos deleted"] == 1
    mine.refresh_from_db()
    assert mine.description == "" and mine.owner_id is None
    assert Complaint.objects.for_group(w.group_a).count() == 2  # the figures keep counting it
    assert (
        not ComplaintEvent.objects.for_group(w.group_a).filter(body__contains="Xiaoming").exists()
    )
    assert not ComplaintPhoto.objects.for_group(w.group_a).filter(complaint=mine).exists()
    theirs.refresh_from_db()
    assert theirs.description == THEIRS
