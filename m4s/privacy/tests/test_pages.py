"""The owner app's privacy page: what is kept and for how long, export then download, erasure
then cancel; another owner's link is 404."""

import pytest
from django.urls import reverse

from m4s.owners.middleware import SESSION_KEY
from m4s.privacy.models import ErasureRequest


def _sign_in(client, owner):
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()


@pytest.fixture
def signed_in(cars, client):
    _sign_in(client, cars.owner)
    return cars


def test_the_profile_page_leads_to_the_privacy_page_with_the_retention_periods(
    signed_in, client, settings
):
    settings.RETENTION_DAYS = {**settings.RETENTION_DAYS, "messages": 123}
    profile = client.get(reverse("app-profile"))
    assert reverse("app-privacy").encode() in profile.content
    page = client.get(reverse("app-privacy"))
    assert page.status_code == 200
    assert b"123" in page.content and b'data-kind="messages"' in page.content
    assert b'data-testid="export-request"' in page.content
    assert b'data-testid="erasure-request"' in page.content


def test_nobody_signed_in_is_sent_to_sign_in(db, client):
    assert client.get(reverse("app-privacy")).status_code == 302
    assert client.post(reverse("app-privacy-export")).status_code == 302
    assert client.post(reverse("app-privacy-erasure"), {"confirm": "yes"}).status_code == 302


def test_export_then_download_then_another_owner_cannot(
    signed_in, client, django_capture_on_commit_callbacks
):
    w = signed_in
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("app-privacy-export"))
    page = client.get(reverse("app-privacy"))
    link = page.context["download_token"]
    assert link and b'data-testid="export-download"' in page.content
    url = reverse("app-privacy-download", args=[link])
    download = client.get(url)
    assert download.status_code == 200 and download["Content-Type"] == "application/zip"
    _sign_in(client, w.owner_b)
    assert client.get(url).status_code == 404


def test_erasure_needs_the_tick_then_can_be_cancelled(signed_in, client):
    w = signed_in
    page = client.post(reverse("app-privacy-erasure"), follow=True)
    assert not ErasureRequest.objects.exists()
    assert b'data-testid="flash"' in page.content
    page = client.post(reverse("app-privacy-erasure"), {"confirm": "yes"}, follow=True)
    assert b'data-testid="erasure-pending"' in page.content
    assert ErasureRequest.objects.get(owner=w.owner).status == "pending"
    page = client.post(reverse("app-privacy-erasure-cancel"), follow=True)
    assert b'data-testid="erasure-request"' in page.content
    assert ErasureRequest.objects.get(owner=w.owner).status == "cancelled"
    # cancelling again: a message, no error page
    page = client.post(reverse("app-privacy-erasure-cancel"), follow=True)
    assert page.status_code == 200
