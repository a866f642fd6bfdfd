"""The events pages per role: the owner's list, event page (sign up, cancel, places left),
ticket with its QR; the console's list, create, event with sign-ups and waiting list, check-in
page. Another group's event is a 404 for owners and staff; staff without MANAGE_EVENTS get a
403; groupless staff (platform admin) see every group's events but cannot create one."""

import datetime as dt

import pytest
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from m4s.events.choices import SignupStatus
from m4s.events.models import Event, Signup
from m4s.owners.middleware import SESSION_KEY

pytestmark = pytest.mark.django_db


def owner_client(owner) -> Client:
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def staff_client(user) -> Client:
    client = Client()
    client.force_login(user)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    return client


def test_owner_pages(ev):
    w = ev
    c = owner_client(w.owner)
    r = c.get(reverse("app-events"))
    assert r.status_code == 200
    body = r.content.decode()
    assert "Spring drive" in body and f"event-{w.event_b.pk}" not in body
    r = c.get(reverse("app-event", args=[w.event.pk]))
    assert r.status_code == 200 and "Places left: 2" in r.content.decode()
    r = c.post(reverse("app-event-signup", args=[w.event.pk]), follow=True)
    assert r.status_code == 200 and "You are signed up" in r.content.decode()
    r = c.get(reverse("app-event-ticket", args=[w.event.pk]))
    signup = Signup.objects.for_owner(w.owner).get(event=w.event)
    assert (
        r.status_code == 200 and signup.token in r.content.decode() and "<svg" in r.content.decode()
    )
    r = c.post(reverse("app-event-cancel", args=[w.event.pk]), follow=True)
    assert r.status_code == 200
    signup.refresh_from_db()
    assert signup.status == SignupStatus.CANCELLED
    assert c.get(reverse("app-event-ticket", args=[w.event.pk])).status_code == 404


def test_owner_page_in_korean_shows_the_translation(ev):
    c = owner_client(ev.owner)
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "ko"
    assert "봄 드라이브" in c.get(reverse("app-event", args=[ev.event.pk])).content.decode()


def test_owner_isolation(ev):
    w = ev
    c = owner_client(w.owner)
    for name in ("app-event", "app-event-ticket"):
        assert c.get(reverse(name, args=[w.event_b.pk])).status_code == 404
        assert c.get(reverse(name, args=[w.draft.pk])).status_code == 404
    assert c.post(reverse("app-event-signup", args=[w.event_b.pk])).status_code == 404
    assert not Signup.objects.unscoped().filter(event=w.event_b).exists()
    assert Client().get(reverse("app-events")).status_code == 302


def test_console_pages(ev):
    w = ev
    c = staff_client(w.manager_a)
    assert c.get(reverse("console-events")).status_code == 200
    start = timezone.localtime() + dt.timedelta(days=7)
    r = c.post(
        reverse("console-event-new"),
        {
            "title": "Tea and tyres",
            "place_name": "Alpha North",
            "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
            "signup_deadline": "",
            "capacity": "1",
            "status": "open",
            "title_ko": "차와 타이어",
        },
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    event = Event.objects.for_group(w.group_a).get(title="Tea and tyres")
    assert event.title_i18n == {"ko": "차와 타이어"} and event.signup_deadline == event.starts_at
    bad = c.post(reverse("console-event-new"), {"title": "x", "place_name": "y", "capacity": "0"})
    assert bad.status_code == 422
    from m4s.events import services

    one = services.sign_up(w.owner, event.pk).signup
    services.sign_up(w.others[0], event.pk)
    r = c.get(reverse("console-event", args=[event.pk]))
    assert r.status_code == 200 and 'data-testid="waiting"' in r.content.decode()
    r = c.post(reverse("console-event-checkin", args=[event.pk]), {"token": one.token})
    assert r.status_code == 200 and 'data-testid="checked-in"' in r.content.decode()
    r = c.post(reverse("console-event-checkin", args=[event.pk]), {"token": one.token})
    assert r.status_code == 409 and "Already checked in" in r.content.decode()
    r = c.post(reverse("console-event-checkin", args=[event.pk]), {"token": "nope"})
    assert r.status_code == 404
    r = c.post(reverse("console-event-edit", args=[event.pk]), {"title": "", "capacity": "1"})
    assert r.status_code == 422
    r = c.post(reverse("console-event-cancel", args=[event.pk]))
    assert r.status_code == 302
    event.refresh_from_db()
    assert event.status == "cancelled"


def test_console_roles(ev):
    w = ev
    b = staff_client(w.admin_b)
    for name in ("console-event", "console-event-edit", "console-event-checkin"):
        assert b.get(reverse(name, args=[w.event.pk])).status_code == 404
    assert b.post(reverse("console-event-cancel", args=[w.event.pk])).status_code == 404
    assert staff_client(w.advisor_a).get(reverse("console-events")).status_code == 403
    hq = staff_client(w.hq)
    r = hq.get(reverse("console-events"))
    assert r.status_code in (200, 403)
    if r.status_code == 200:
        assert hq.get(reverse("console-event", args=[w.event_b.pk])).status_code == 200
        assert hq.get(reverse("console-event-new")).status_code == 200


@pytest.mark.parametrize("raw", ["nan", "-NaN", "sNaN", "inf", "1e999999"])
def test_console_odd_coordinates_are_a_form_error_not_a_500(ev, raw):
    start = timezone.localtime() + dt.timedelta(days=5)
    c = staff_client(ev.admin_a)
    data = {
        "title": "Night drive",
        "place_name": "Harbour",
        "capacity": "5",
        "starts_at": start.strftime("%Y-%m-%dT%H:%M"),
        "ends_at": (start + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M"),
        "latitude": raw,
    }
    assert c.post(reverse("console-event-new"), data).status_code == 422
    assert c.post(reverse("console-event-edit", args=[ev.event.pk]), data).status_code == 422
    assert not Event.objects.unscoped().filter(title="Night drive").exists()


def test_a_draft_events_cover_is_not_served_to_owners(ev):
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from m4s.core.uploads import media_url
    from m4s.events import services
    from m4s.events.choices import EventStatus

    out = io.BytesIO()
    Image.new("RGB", (64, 48), (10, 120, 200)).save(out, "PNG")
    cover = SimpleUploadedFile("c.png", out.getvalue(), content_type="image/png")
    services.update_event(ev.admin_a, ev.draft, cover=cover)
    url = media_url(Event.objects.unscoped().get(pk=ev.draft.pk), "cover")
    assert staff_client(ev.admin_a).get(url).status_code == 200
    assert owner_client(ev.owner).get(url).status_code == 404
    services.update_event(ev.admin_a, ev.draft, status=EventStatus.OPEN)
    assert owner_client(ev.owner).get(url).status_code == 200
    assert owner_client(ev.owner_b).get(url).status_code == 404
