"""A NUL character anywhere a client can put text is a clear 400, never a database error."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from m4s.core.tests.factories import owner_token, staff_token


@pytest.mark.parametrize(
    "method,path,body,extra",
    [
        ("get", "/api/v1/staff/customers?q=a%00b", None, {}),
        ("get", "/api/v1/staff/customers/%00", None, {}),
        ("post", "/api/v1/me/loyalty/referral", '{"code": "A\\u0000"}', {}),
        ("post", "/api/v1/me/loyalty/referral", '{"code": "A\\U0000"}', {}),
        ("get", "/api/v1/me/inbox", None, {"HTTP_IDEMPOTENCY_KEY": "k\x00"}),
    ],
)
def test_api_refuses_nul_with_a_code(club, client, method, path, body, extra):
    w = club
    token = staff_token(w.admin_a) if "/staff/" in path else owner_token(w.owner)
    kwargs = {"HTTP_AUTHORIZATION": f"Bearer {token}", **extra}
    if body is not None:
        r = client.post(path, body, content_type="application/json", **kwargs)
    else:
        r = getattr(client, method)(path, **kwargs)
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def test_pages_refuse_nul_in_forms_but_not_in_uploaded_files(workshop, client):
    w = workshop
    client.force_login(w.advisor_a)
    r = client.get("/console/customers/?q=a%00b")
    assert r.status_code == 400 and b"NUL" in r.content
    r = client.post("/console/customers/", {"q": "a\x00b"})
    assert r.status_code == 400
    # A binary upload (a photo is full of zero bytes) goes through to the view.
    photo = SimpleUploadedFile("p.jpg", b"\xff\xd8\x00\x00\x00", content_type="image/jpeg")
    r = client.post("/console/customers/", {"q": "ok", "file": photo})
    assert r.status_code != 400 or b"NUL" not in r.content


# --- the content type cannot smuggle a body past the guards ------------------------------------
@pytest.mark.parametrize("ctype", ["application/x-json", "text/plain", "application/octet-stream"])
def test_api_bodies_must_be_json(club, client, ctype):
    w = club
    before = w.owner.name
    r = client.generic(
        "PATCH",
        "/api/v1/me",
        '{"name": "A\\u0000B"}',
        content_type=ctype,
        HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert r.status_code == 415 and r["Content-Type"].startswith("application/json")
    assert r.json()["code"] == "unsupported_media_type"
    w.owner.refresh_from_db()
    assert w.owner.name == before


def test_a_json_flavoured_type_is_still_checked_for_nul(club, client):
    w = club
    r = client.generic(
        "PATCH",
        "/api/v1/me",
        '{"name": "A\\u0000B"}',
        content_type="application/merge-patch+json",
        HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}",
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_input"


def test_nul_in_a_body_of_any_type_is_refused_on_pages_too(workshop, client):
    client.force_login(workshop.advisor_a)
    r = client.generic("POST", "/console/customers/", "q=a\x00b", content_type="text/plain")
    assert r.status_code == 400


def test_terminals_may_send_json_without_the_right_header(fleet, client):
    r = client.generic(
        "POST",
        "/api/v1/telematics/ingest",
        "[]",
        content_type="text/plain",
        HTTP_AUTHORIZATION=f"Bearer {fleet.token_a}",
    )
    assert r.status_code != 415 and r.status_code < 500


# --- oversized bodies answer JSON on the API -----------------------------------------------------
def test_oversized_api_body_is_a_json_413(club, client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100_000
    big = '{"name": "' + "x" * 200_000 + '"}'
    r = client.generic(
        "PATCH",
        "/api/v1/me",
        big,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {owner_token(club.owner)}",
    )
    assert r.status_code == 413 and r.json()["code"] == "request_too_large"
    settings.MAX_REQUEST_BYTES = 150_000
    r = client.generic(
        "POST",
        "/api/v1/me/loyalty/referral",
        big,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {owner_token(club.owner)}",
    )
    assert r.status_code == 413 and r.json()["code"] == "request_too_large"


def test_oversized_upload_on_a_page_is_refused_before_the_view(workshop, client, settings):
    settings.MAX_REQUEST_BYTES = 1_000_000
    client.force_login(workshop.admin_a)
    big = SimpleUploadedFile("c.csv", b"phone\n" + b"1" * 1_100_000, content_type="text/csv")
    r = client.post("/console/customers/import/", {"file": big}, HTTP_ACCEPT_LANGUAGE="en")
    assert r.status_code == 413 and b"too large" in r.content


# --- a malformed X-Forwarded-For from a proxy is no 500 -----------------------------------------
@pytest.mark.django_db
@pytest.mark.parametrize("forwarded", ["10.9.9.21345", "not-an-ip", "1.2.3.4.5", "::zz", "[::1"])
def test_malformed_forwarded_for_falls_back_to_the_proxy(client, settings, forwarded):
    from m4s.identity.models import OtpChallenge

    settings.TRUSTED_PROXY_COUNT = 1
    settings.OTP_MAX_PER_IP_PER_HOUR = 1
    r = client.post(
        "/api/v1/auth/otp/request",
        {"phone": "+8613912345700"},
        content_type="application/json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert r.status_code == 202 and OtpChallenge.objects.count() == 1
    # the per-network limit still holds: it counted the proxy's own address
    r = client.post(
        "/api/v1/auth/otp/request",
        {"phone": "+8613912345701"},
        content_type="application/json",
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR=forwarded,
    )
    assert r.status_code == 429


def test_client_ip_normalises_what_proxies_write(rf, settings):
    from m4s.identity.network import client_ip

    settings.TRUSTED_PROXY_COUNT = 1
    cases = {
        "203.0.113.7": "203.0.113.7",
        "203.0.113.7:51234": "203.0.113.7",
        "[2001:db8::1]:443": "2001:db8::1",
        "2001:DB8::1": "2001:db8::1",
        "bogus": "10.0.0.1",
    }
    for forwarded, expected in cases.items():
        request = rf.get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=forwarded)
        assert client_ip(request) == expected, forwarded


# --- failures before any route still answer JSON on the API --------------------------------------
@pytest.mark.django_db
def test_unknown_api_path_and_bad_host_answer_json(client, settings):
    settings.DEBUG = False
    r = client.get("/api/v1/no-such-thing")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = client.get("/api/v1/me", HTTP_HOST="evil.example")  # DisallowedHost: a 400
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    r = client.get("/console/no-such-page/")
    assert r.status_code == 404 and not r["Content-Type"].startswith("application/json")
