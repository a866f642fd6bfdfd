import re

import pytest
from django.test import TestCase

from m4s.notify import services as notify
from m4s.notify.choices import Channel
from m4s.owners.middleware import SESSION_KEY


def sign_in(client, owner):
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()


def deliver(owner, body):
    msg = notify.send_message(channel=Channel.INAPP, owner=owner, kind="test", body=body)
    notify.deliver_message(msg.pk)
    return msg


@pytest.mark.django_db
def test_sign_in_flow_with_phone_and_code(client, world, sms_outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.post("/app/login/", {"phone": world.owner.phone})
    assert r.status_code == 200 and 'name="code"' in r.content.decode()
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1]["body"]).group(1)
    r = client.post("/app/login/", {"phone": world.owner.phone, "code": code})
    assert r.status_code == 302 and r["Location"] == "/app/"
    assert client.session[SESSION_KEY] == world.owner.pk
    home = client.get("/app/")
    assert home.status_code == 200 and world.store_a.app_title in home.content.decode()


@pytest.mark.django_db
def test_wrong_code_shows_error_and_does_not_sign_in(client, world, sms_outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/app/login/", {"phone": world.owner.phone})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1]["body"]).group(1)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    r = client.post("/app/login/", {"phone": world.owner.phone, "code": wrong})
    assert r.status_code == 200 and 'data-testid="error"' in r.content.decode()
    assert SESSION_KEY not in client.session


@pytest.mark.django_db
def test_pages_need_sign_in_but_sos_does_not(client, world):
    for url in ("/app/", "/app/inbox/", "/app/profile/", "/app/g/service/"):
        r = client.get(url)
        assert r.status_code == 302 and r["Location"].startswith("/app/login/")
    r = client.get("/app/sos/")
    assert r.status_code == 200 and "tel:110" in r.content.decode()


@pytest.mark.django_db
def test_sos_lists_the_owners_store_numbers_only(client, world):
    from m4s.org import services as org
    from m4s.org.choices import EmergencyKind

    org.add_emergency_number(world.store_b, EmergencyKind.HOTLINE, "010-9999-9999")
    sign_in(client, world.owner)
    body = client.get("/app/sos/").content.decode()
    assert 'href="tel:400-800-0000"'.replace("-", "") in body.replace("-", "")
    assert "9999" not in body  # another group's store


@pytest.mark.django_db
def test_home_shows_branding_todos_and_five_groups(client, world):
    deliver(world.owner, "welcome")
    sign_in(client, world.owner)
    body = client.get("/app/").content.decode()
    assert world.store_a.app_title in body
    assert 'data-testid="todos"' in body and "/app/inbox/" in body
    for key in ("info", "service", "community"):
        assert f"/app/g/{key}/" in body
    assert "/app/sos/" in body and "/app/consultants/" in body


@pytest.mark.django_db
def test_unknown_group_is_404(client, world):
    sign_in(client, world.owner)
    assert client.get("/app/g/nope/").status_code == 404


@pytest.mark.django_db
def test_inbox_page_and_mark_read(client, world):
    mine = deliver(world.owner, "your car is ready")
    theirs = deliver(world.owner_b, "someone else's secret")
    sign_in(client, world.owner)
    body = client.get("/app/inbox/").content.decode()
    assert "your car is ready" in body and "secret" not in body
    r = client.post(f"/app/inbox/{mine.pk}/read/", HTTP_HX_REQUEST="true")
    assert r.status_code == 200 and "read" in r.content.decode()
    mine.refresh_from_db()
    assert mine.read_at is not None
    assert client.post(f"/app/inbox/{theirs.pk}/read/").status_code == 404


@pytest.mark.django_db
def test_profile_form_saves_preferences(client, world):
    sign_in(client, world.owner)
    r = client.post(
        "/app/profile/",
        {
            "name": "Li Lei",
            "email": "",
            "language": "en",
            "channels": ["inapp", "sms"],
            "quiet_hours_start": "22:00",
            "quiet_hours_end": "07:00",
            "telematics_consent": "on",
        },
    )
    assert r.status_code == 200 and r.cookies["django_language"].value == "en"
    world.owner.refresh_from_db()
    assert (
        world.owner.name == "Li Lei"
        and world.owner.telematics_consent
        and world.owner.telematics_consent_at
    )
    r = client.post("/app/profile/", {"name": "x", "language": "en", "quiet_hours_start": "22:00"})
    assert 'role="alert"' in r.content.decode()
    world.owner.refresh_from_db()
    assert world.owner.name == "Li Lei"


@pytest.mark.django_db
def test_language_switch_updates_preference(client, world):
    sign_in(client, world.owner)
    r = client.post("/app/language/", {"language": "ko", "next": "/app/inbox/"})
    assert r.status_code == 302 and r["Location"] == "/app/inbox/"
    world.owner.refresh_from_db()
    assert world.owner.language == "ko"
    assert client.get("/app/inbox/").content.decode().count('lang="ko"') >= 1
    assert client.post("/app/language/", {"language": "xx"}).status_code == 400
    r = client.post("/app/language/", {"language": "en", "next": "https://evil.example/"})
    assert r["Location"] == "/app/"


@pytest.mark.django_db
def test_pwa_manifest_and_service_worker(client, world):
    sign_in(client, world.owner)
    manifest = client.get("/app/manifest.webmanifest")
    assert manifest["Content-Type"] == "application/manifest+json"
    data = manifest.json()
    assert data["start_url"] == "/app/" and data["display"] == "standalone"
    assert {i["sizes"] for i in data["icons"]} >= {"192x192", "512x512"}
    assert data["name"] == world.store_a.app_title
    sw = client.get("/app/sw.js")
    assert sw["Service-Worker-Allowed"] == "/app/" and "javascript" in sw["Content-Type"]
    assert "/app/sos/" in b"".join(sw.streaming_content).decode()


@pytest.mark.django_db
def test_console_home_is_role_aware_and_scoped(client, world):
    from m4s.core.tests.factories import PASSWORD

    client.login(username="admin-a", password=PASSWORD)
    body = client.get("/console/").content.decode()
    assert (
        'data-testid="setup-gaps"' in body
        and world.store_a.name in body
        and world.store_b.name not in body
    )
    client.logout()
    client.login(username="advisor-b", password=PASSWORD)
    body = client.get("/console/").content.decode()
    assert (
        'data-testid="setup-gaps"' not in body
        and world.store_b.name in body
        and world.store_a.name not in body
    )
    client.logout()
    client.login(username="hq", password=PASSWORD)
    body = client.get("/console/").content.decode()
    assert (
        'data-testid="platform-groups"' in body and "Alpha Auto" in body and "Beta Motors" in body
    )


@pytest.mark.django_db
def test_console_inbox_scoped_and_mark_read(client, world):
    from m4s.core.tests.factories import PASSWORD

    note = notify.send_message(
        channel=Channel.INAPP, staff=world.advisor_a, kind="t", body="for advisor a only"
    )
    notify.deliver_message(note.pk)
    client.login(username="advisor-b", password=PASSWORD)
    assert "for advisor a only" not in client.get("/console/inbox/").content.decode()
    assert client.post(f"/console/inbox/{note.pk}/read/").status_code == 404
    client.logout()
    client.login(username="advisor-a", password=PASSWORD)
    assert "for advisor a only" in client.get("/console/inbox/").content.decode()
    assert client.post("/console/inbox/read-all/").status_code == 302
    note.refresh_from_db()
    assert note.read_at is not None


@pytest.mark.django_db
def test_reload_after_sending_a_code_keeps_the_code_step(client, world, sms_outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/app/login/", {"phone": world.owner.phone})
    page = client.get("/app/login/").content.decode()  # the owner reloads the page
    assert 'name="code"' in page and f'value="{world.owner.phone}"' in page
    assert 'data-testid="use-another-number"' in page
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1]["body"]).group(1)
    r = client.post("/app/login/", {"phone": world.owner.phone, "code": code})
    assert r.status_code == 302 and client.session[SESSION_KEY] == world.owner.pk
    assert "m4s_login_pending" not in client.session


@pytest.mark.django_db
def test_use_another_number_goes_back_to_the_phone_step(client, world, sms_outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/app/login/", {"phone": world.owner.phone})
    r = client.post("/app/login/", {"restart": "1"})
    assert r.status_code == 200 and 'name="code"' not in r.content.decode()
    assert 'name="phone"' in r.content.decode()
    assert 'name="code"' not in client.get("/app/login/").content.decode()


@pytest.mark.django_db
def test_an_expired_code_is_not_kept_on_reload(client, world, sms_outbox):
    with TestCase.captureOnCommitCallbacks(execute=True):
        client.post("/app/login/", {"phone": world.owner.phone})
    session = client.session
    session["m4s_login_pending"]["expires"] = 0
    session.save()
    page = client.get("/app/login/").content.decode()
    assert 'name="code"' not in page and 'name="phone"' in page
