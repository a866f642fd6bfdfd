"""`add_timeline_lines_from`: one INSERT … SELECT writes the same lines `timeline_event` makes,
each to its own row's group and customer, and nothing to anyone else."""

import datetime as dt

from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.customers.choices import TimelineKind
from m4s.customers.models import TimelineEvent
from m4s.customers.services import add_timeline_lines_from, record_timeline

TITLE = gettext_noop("Complaint %(ref)s: %(what)s")


def test_lines_from_a_queryset_read_like_timeline_event(cars):
    at = timezone.now().replace(microsecond=0) - dt.timedelta(hours=1)
    source = [
        record_timeline(cars.known, TimelineKind.NOTE, "one"),
        record_timeline(cars.known, TimelineKind.NOTE, "two"),
    ]
    untouched = record_timeline(cars.other, TimelineKind.NOTE, "three")  # group B
    mark = TimelineEvent.objects.unscoped().aggregate(m=Max("id"))["m"]

    n = add_timeline_lines_from(
        TimelineEvent.objects.for_group(cars.group_a.pk).filter(pk__in=[e.pk for e in source]),
        kind=TimelineKind.COMPLAINT,
        title=TITLE,
        at=at,
        params_from={"ref": "title"},
        params={"what": "Escalated"},
        data_from={"source": "id"},
        data={"event": "escalated"},
    )

    assert n == 2
    made = TimelineEvent.objects.unscoped().filter(id__gt=mark).order_by("data__source")
    assert [(e.dealer_group_id, e.customer_id, e.kind, e.at, e.title) for e in made] == [
        (cars.group_a.pk, cars.known.pk, TimelineKind.COMPLAINT, at, TITLE)
    ] * 2
    assert [e.data for e in made] == [
        {
            "title_params": {"ref": s.title, "what": "Escalated"},
            "source": s.pk,
            "event": "escalated",
        }
        for s in source
    ]
    assert {e.display_title for e in made} == {
        "Complaint one: Escalated",
        "Complaint two: Escalated",
    }
    # isolation: the other group's customer got nothing
    assert not TimelineEvent.objects.for_group(cars.group_b.pk).filter(id__gt=mark).exists()
    assert TimelineEvent.objects.for_group(cars.group_a.pk).filter(pk=untouched.pk).count() == 0
