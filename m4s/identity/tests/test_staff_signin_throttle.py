"""Staff sign-in is throttled per username and per network, on the API, the console and the back
office alike: guessing a password stops after a few tries, with a clear message, a Retry-After
and a row in the group's audit log."""

from datetime import timedelta

import pytest
from django.test import Client

from m4s.core.models import AuditEntry
from m4s.core.tests.factories import PASSWORD
from m4s.identity.models import ApiToken, StaffSignInFailure

LOGIN = "/api/v1/auth/staff/login"


def _pass_the_window(settings):
    """Move every counted failure out of the window (as if its minutes had gone by)."""
    StaffSignInFailure.objects.update(
        at=StaffSignInFailure.objects.order_by("at").first().at
        - timedelta(seconds=settings.STAFF_SIGNIN_WINDOW_SECONDS + 1)
    )


@pytest.mark.django_db
def test_api_locks_a_username_after_five_wrong_passwords(api_client, world, settings):
    for _ in range(4):
        r = api_client.post(LOGIN, {"username": "advisor-a", "password": "guess"})
        assert r.status_code == 401 and r.json_body["code"] == "invalid_credentials"
    r = api_client.post(LOGIN, {"username": "Advisor-A", "password": "guess"})
    assert r.status_code == 429 and r.json_body["code"] == "rate_limited"
    wait = int(r["Retry-After"])
    assert 0 < wait <= settings.STAFF_SIGNIN_WINDOW_SECONDS + 1
    assert "Too many wrong passwords" in r.json_body["message"]
    # the right password does not get in while locked, and nothing is issued
    r = api_client.post(LOGIN, {"username": "advisor-a", "password": PASSWORD})
    assert r.status_code == 429 and r["Retry-After"]
    assert not ApiToken.objects.exists()
    # the group's audit log says so, with the network it came from
    entry = AuditEntry.objects.for_group(world.group_a).get(
        object_type="staff.staffuser", object_id=str(world.advisor_a.pk)
    )
    assert "sign_in_locked_until" in entry.changes and "127.0.0.1" in entry.actor_name
    # another username is not affected
    assert api_client.post(LOGIN, {"username": "admin-a", "password": PASSWORD}).status_code == 200
    _pass_the_window(settings)
    assert (
        api_client.post(LOGIN, {"username": "advisor-a", "password": PASSWORD}).status_code == 200
    )
    assert not StaffSignInFailure.objects.filter(username="advisor-a").exists()


@pytest.mark.django_db
def test_api_locks_a_network_trying_many_usernames(api_client, world, settings):
    settings.STAFF_SIGNIN_MAX_FAILURES_PER_IP = 3
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for name in ("a1", "a2"):
        r = api_client.post(
            LOGIN,
            {"username": name, "password": "x"},
            HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.9",
            **proxy,
        )
        assert r.status_code == 401
    r = api_client.post(
        LOGIN, {"username": "a3", "password": "x"}, HTTP_X_FORWARDED_FOR="203.0.113.9", **proxy
    )
    assert r.status_code == 429 and r.json_body["code"] == "rate_limited"
    assert "network" in r.json_body["message"] and int(r["Retry-After"]) > 0
    locked = api_client.post(
        LOGIN,
        {"username": "advisor-a", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="203.0.113.9",
        **proxy,
    )
    assert locked.status_code == 429
    # the same proxy forwarding another client is not that network
    other = api_client.post(
        LOGIN,
        {"username": "advisor-a", "password": PASSWORD},
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        **proxy,
    )
    assert other.status_code == 200


@pytest.mark.django_db
@pytest.mark.parametrize(
    "login,after", [("/console/login/", "/console/"), ("/admin/login/", "/admin/")]
)
def test_console_and_back_office_sign_in_share_the_limit(world, login, after, settings):
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(4):
        r = client.post(login, {"username": "admin-a", "password": "guess", "next": after})
        assert r.status_code == 200 and "Too many" not in r.content.decode()
    r = client.post(login, {"username": "admin-a", "password": "guess", "next": after})
    assert r.status_code == 200
    assert "Too many wrong passwords for this username" in r.content.decode()
    r = client.post(login, {"username": "admin-a", "password": PASSWORD, "next": after})
    assert r.status_code == 200 and "_auth_user_id" not in client.session
    assert "Too many wrong passwords" in r.content.decode()
    # the API sees the same lock
    api = Client().post(
        LOGIN, {"username": "admin-a", "password": PASSWORD}, content_type="application/json"
    )
    assert api.status_code == 429
    _pass_the_window(settings)
    r = client.post(login, {"username": "admin-a", "password": PASSWORD, "next": after})
    assert r.status_code == 302 and client.session["_auth_user_id"] == str(world.admin_a.pk)
