"""Sign-ups: places then the waiting list in order, one sign-up per owner, the deadline,
cancelling moves the first one waiting up (and tells them through the outbox), staff cancelling
the event tells everyone, the day-before reminder once, check-in by ticket (points once),
photos after the event, erasure."""

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from m4s.core.errors import DomainError
from m4s.customers.choices import TimelineKind
from m4s.customers.models import TimelineEvent
from m4s.events import services
from m4s.events.choices import KIND_CANCELLED, KIND_PROMOTED, KIND_REMINDER, SignupStatus
from m4s.events.models import Signup
from m4s.loyalty.models import MemberEvent
from m4s.notify.models import Message

from .conftest import make_event

pytestmark = pytest.mark.django_db


def sign(owner, event):
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.sign_up(owner, event.pk).signup


def messages_of(owner, kind):
    return Message.objects.filter(owner=owner, kind=kind)


def test_places_then_waiting_list_in_order(ev):
    w = ev
    a, b, c, d = w.owner, *w.others
    assert sign(a, w.event).status == SignupStatus.CONFIRMED
    assert sign(b, w.event).status == SignupStatus.CONFIRMED
    third, fourth = sign(c, w.event), sign(d, w.event)
    assert (third.status, third.position) == (SignupStatus.WAITLISTED, 1)
    assert (fourth.status, fourth.position) == (SignupStatus.WAITLISTED, 2)


def test_one_signup_per_owner(ev):
    w = ev
    first = sign(w.owner, w.event)
    again = services.sign_up(w.owner, w.event.pk)
    assert not again.created and again.signup.pk == first.pk
    assert Signup.objects.for_group(w.group_a).filter(event=w.event).count() == 1


def test_deadline_passed_is_refused(ev):
    w = ev
    late = make_event(w.admin_a, days=2, deadline_days=-1)
    with pytest.raises(DomainError) as exc:
        services.sign_up(w.owner, late.pk)
    assert exc.value.code == "signup_closed" and exc.value.status == 409


def test_draft_and_other_group_are_not_found(ev):
    w = ev
    for event in (w.draft, w.event_b):
        with pytest.raises(DomainError) as exc:
            services.sign_up(w.owner, event.pk)
        assert exc.value.status == 404


def test_cancel_promotes_the_first_waiting_and_tells_them(ev):
    w = ev
    a, b, c, d = w.owner, *w.others
    for o in (a, b, c, d):
        sign(o, w.event)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.cancel_signup(a, w.event.pk)
    status = dict(Signup.objects.for_group(w.group_a).values_list("customer__owner", "status"))
    assert status[a.pk] == SignupStatus.CANCELLED
    assert status[c.pk] == SignupStatus.CONFIRMED  # first waiting moved up
    assert status[d.pk] == SignupStatus.WAITLISTED
    assert messages_of(c, KIND_PROMOTED).exists()
    assert not messages_of(d, KIND_PROMOTED).exists()
    # cancelling a place on the waiting list moves nobody up
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.cancel_signup(d, w.event.pk)
    assert Signup.objects.for_group(w.group_a).filter(status=SignupStatus.CONFIRMED).count() == 2


def test_more_places_move_the_waiting_list_up(ev):
    w = ev
    for o in (w.owner, *w.others):
        sign(o, w.event)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.update_event(w.admin_a, w.event, capacity=3)
    assert Signup.objects.for_group(w.group_a).filter(status=SignupStatus.CONFIRMED).count() == 3
    with pytest.raises(DomainError) as exc:
        services.update_event(w.admin_a, w.event, capacity=1)
    assert exc.value.code == "capacity_below_signups"


def test_staff_cancel_event_tells_everyone(ev):
    w = ev
    for o in (w.owner, *w.others):
        sign(o, w.event)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.cancel_event(w.admin_a, w.event)
    assert not Signup.objects.for_group(w.group_a).exclude(status=SignupStatus.CANCELLED).exists()
    for o in (w.owner, *w.others):
        assert messages_of(o, KIND_CANCELLED).exists()


def test_reminder_the_day_before_exactly_once(ev):
    w = ev
    soon = make_event(w.admin_a, days=0.5)
    sign(w.owner, soon)
    sign(w.others[0], w.event)  # in 3 days: not yet
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert services.send_reminders() == 1
        assert services.send_reminders() == 0
    assert messages_of(w.owner, KIND_REMINDER).count() == 1
    assert not messages_of(w.others[0], KIND_REMINDER).exists()
    later = timezone.now() + dt.timedelta(days=2, hours=12)
    assert services.send_reminders(later) == 1  # the 3-day event, now a day away
    assert messages_of(w.others[0], KIND_REMINDER).count() == 1


def test_check_in_earns_points_once(ev):
    w = ev
    s = sign(w.owner, w.event)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.check_in(w.manager_a, w.event, s.token)
    s.refresh_from_db()
    assert s.status == SignupStatus.CHECKED_IN and s.checked_in_by == w.manager_a
    with pytest.raises(DomainError) as exc:
        services.check_in(w.manager_a, w.event, s.token)
    assert exc.value.code == "already_checked_in" and exc.value.status == 409
    assert services.earn_checkin_points(s.pk) is False  # a task run twice: no second earning
    events = MemberEvent.objects.for_group(w.group_a).filter(event="event_checkin")
    assert events.count() == 1
    assert TimelineEvent.objects.for_group(w.group_a).filter(kind=TimelineKind.COMMUNITY).exists()


def test_check_in_refusals(ev):
    w = ev
    s = sign(w.owner, w.event)
    sb = sign(w.owner_b, w.event_b)
    with pytest.raises(DomainError) as exc:  # another group's ticket: unknown
        services.check_in(w.manager_a, w.event, sb.token)
    assert exc.value.status == 404
    other = make_event(w.admin_a)
    with pytest.raises(DomainError) as exc:
        services.check_in(w.manager_a, other, s.token)
    assert exc.value.code == "wrong_event"
    with pytest.raises(DomainError) as exc:
        services.check_in(w.advisor_a, w.event, s.token)  # no MANAGE_EVENTS
    assert exc.value.status == 403


def test_photos_after_the_event(ev):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from m4s.demo.events import picture_bytes

    w = ev
    s = sign(w.owner, w.event)
    photo = SimpleUploadedFile("p.png", picture_bytes("#336699", "A"), content_type="image/png")
    with pytest.raises(DomainError) as exc:
        services.add_photos(w.owner, w.event.pk, [photo])
    assert exc.value.code == "event_not_over"
    later = w.event.ends_at + dt.timedelta(hours=1)
    photo.seek(0)
    added = services.add_photos(w.owner, w.event.pk, [photo], story_text="Great day", now=later)
    assert len(added) == 1 and added[0].customer_id == s.customer_id
    try:
        from m4s.community.models import Story
    except ImportError:
        return
    assert added[0].story_id and Story.objects.unscoped().filter(pk=added[0].story_id).exists()


def test_erasure_deletes_signups(ev):
    from m4s.events import privacy

    w = ev
    sign(w.owner, w.event)
    assert privacy.export_owner(w.owner)["rows"]["event_signups"]
    privacy.erase_owner(w.owner)
    assert not Signup.objects.unscoped().filter(customer__owner=w.owner).exists()


def test_photos_of_one_owner_at_one_event_are_capped(ev):
    """Posting the photo form again and again (double taps, retries) cannot pile up photos and
    stories without end: at most MAX_PHOTOS photos per owner and event."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from m4s.demo.events import picture_bytes
    from m4s.events.choices import MAX_PHOTOS
    from m4s.events.models import EventPhoto

    w = ev
    sign(w.owner, w.event)
    later = w.event.ends_at + dt.timedelta(hours=1)

    def pictures(n):
        return [
            SimpleUploadedFile(f"p{i}.png", picture_bytes("#336699", "A"), content_type="image/png")
            for i in range(n)
        ]

    services.add_photos(w.owner, w.event.pk, pictures(MAX_PHOTOS - 1), now=later)
    with pytest.raises(DomainError) as exc:
        services.add_photos(w.owner, w.event.pk, pictures(2), now=later)
    assert exc.value.code == "too_many_photos" and exc.value.status == 409
    services.add_photos(w.owner, w.event.pk, pictures(1), now=later)
    with pytest.raises(DomainError) as exc:
        services.add_photos(w.owner, w.event.pk, pictures(1), now=later)
    assert exc.value.code == "too_many_photos"
    assert EventPhoto.objects.unscoped().filter(event=w.event).count() == MAX_PHOTOS


def test_an_event_with_sign_ups_cannot_go_back_to_draft(ev):
    """A draft is invisible to owners: signed-up owners would lose their ticket and could not
    cancel. Staff cancel the event instead (everyone is told)."""
    from m4s.events.choices import EventStatus
    from m4s.events.models import Event

    w = ev
    sign(w.owner, w.event)
    with pytest.raises(DomainError) as exc:
        services.update_event(w.admin_a, w.event, status=EventStatus.DRAFT)
    assert exc.value.code == "has_signups" and exc.value.status == 409
    assert Event.objects.unscoped().get(pk=w.event.pk).status == EventStatus.OPEN
    services.update_event(w.admin_a, w.event_b, status=EventStatus.DRAFT)  # nobody signed up
    assert Event.objects.unscoped().get(pk=w.event_b.pk).status == EventStatus.DRAFT


def test_the_waiting_list_is_renumbered_when_someone_ahead_leaves(ev):
    w = ev
    a, b, c, d = w.owner, *w.others
    sign(a, w.event), sign(b, w.event)
    third, fourth = sign(c, w.event), sign(d, w.event)
    assert (third.position, fourth.position) == (1, 2)
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.cancel_signup(c, w.event.pk)
    fourth.refresh_from_db()
    assert (fourth.status, fourth.position) == (SignupStatus.WAITLISTED, 1)
    fifth = sign(c, w.event)  # back at the end of the list
    assert fifth.position == 2
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.cancel_signup(a, w.event.pk)
    fourth.refresh_from_db()
    fifth.refresh_from_db()
    assert (fourth.status, fourth.position) == (SignupStatus.CONFIRMED, None)
    assert (fifth.status, fifth.position) == (SignupStatus.WAITLISTED, 1)


def test_a_late_retry_of_the_sign_up_request_does_not_sign_up_again(ev):
    w = ev
    with TestCase.captureOnCommitCallbacks(execute=True):
        first = services.sign_up(w.owner, w.event.pk, key="tap-1")
    assert first.created and first.signup.status == SignupStatus.CONFIRMED
    with TestCase.captureOnCommitCallbacks(execute=True):
        services.cancel_signup(w.owner, w.event.pk)
    retry = services.sign_up(w.owner, w.event.pk, key="tap-1")  # the first tap's retry, late
    assert not retry.created and retry.signup.status == SignupStatus.CANCELLED
    with TestCase.captureOnCommitCallbacks(execute=True):
        again = services.sign_up(w.owner, w.event.pk, key="tap-2")  # a new tap signs up anew
    assert again.signup.pk == first.signup.pk and again.signup.status == SignupStatus.CONFIRMED
