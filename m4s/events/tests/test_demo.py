"""The events demo: an upcoming event, full with a waiting list, and a past one with check-ins
(points earned) and an owner's photos that became a story; the first demo owner sees them."""

import pytest
from django.conf import settings
from django.test import Client, TestCase
from django.urls import reverse

from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.events.choices import EventStatus, SignupStatus
from m4s.events.models import Event, EventPhoto, Signup
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner


@pytest.mark.django_db
def test_events_demo():
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert build_demo(insights=False) is True
    events = Event.objects.unscoped()
    upcoming = events.get(status=EventStatus.OPEN)
    past = events.get(status=EventStatus.DONE)
    signups = Signup.objects.unscoped()
    assert signups.filter(event=upcoming, status=SignupStatus.CONFIRMED).count() == 3
    assert signups.filter(event=upcoming, status=SignupStatus.WAITLISTED).count() == 2
    assert signups.filter(event=past, status=SignupStatus.CHECKED_IN).count() == 3
    photos = EventPhoto.objects.unscoped().filter(event=past)
    assert photos.count() == 2 and photos.first().story_id
    assert upcoming.cover and past.cover

    client = Client()
    session = client.session
    session[SESSION_KEY] = Owner.objects.get(phone=OWNER_PHONES[0]).pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get(reverse("app-events")).content.decode()
    assert "Spring drive to Shidu" in page and "Car-wash meet-up" in page
    assert client.get(reverse("app-event-ticket", args=[upcoming.pk])).status_code == 200
    assert client.get(upcoming.cover.url).status_code == 200
