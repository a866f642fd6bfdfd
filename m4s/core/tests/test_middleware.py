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
