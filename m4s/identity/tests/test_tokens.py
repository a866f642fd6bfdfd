from datetime import timedelta

import pytest
from django.utils import timezone

from m4s.core.tests.factories import PASSWORD, owner_token
from m4s.identity.models import ApiToken


@pytest.mark.django_db
def test_staff_login_returns_token_and_profile(api_client, world):
    r = api_client.post("/api/v1/auth/staff/login", {"username": "advisor-a", "password": PASSWORD})
    assert r.status_code == 200
    assert r.json_body["staff"]["role"] == "service_advisor"
    assert r.json_body["staff"]["dealer_group"]["id"] == world.group_a.pk
    me = api_client.get("/api/v1/staff/me", token=r.json_body["token"])
    assert me.status_code == 200 and me.json_body["username"] == "advisor-a"
    assert "view_customers" in me.json_body["permissions"]
    assert (
        ApiToken.objects.get(staff=world.advisor_a).key_hash != r.json_body["token"]
    )  # only the hash is kept


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username,password", [("advisor-a", "wrong"), ("nobody", PASSWORD), ("", "x")]
)
def test_staff_login_refuses_bad_credentials(api_client, world, username, password):
    r = api_client.post("/api/v1/auth/staff/login", {"username": username, "password": password})
    assert r.status_code in (401, 422)
    assert r.json_body["code"] in ("invalid_credentials", "validation_error")
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_inactive_staff_cannot_log_in_or_use_old_tokens(api_client, world):
    token = api_client.post(
        "/api/v1/auth/staff/login", {"username": "advisor-a", "password": PASSWORD}
    ).json_body["token"]
    world.advisor_a.is_active = False
    world.advisor_a.save()
    assert api_client.get("/api/v1/staff/me", token=token).status_code == 401
    r = api_client.post("/api/v1/auth/staff/login", {"username": "advisor-a", "password": PASSWORD})
    assert r.status_code == 401


@pytest.mark.django_db
def test_logout_revokes_the_token(api_client, world):
    token = owner_token(world.owner)
    assert api_client.get("/api/v1/me", token=token).status_code == 200
    assert api_client.post("/api/v1/auth/logout", token=token).status_code == 204
    r = api_client.get("/api/v1/me", token=token)
    assert r.status_code == 401 and r.json_body["code"] == "unauthenticated"
    assert api_client.post("/api/v1/auth/logout", token=token).status_code == 401


@pytest.mark.django_db
def test_expired_and_garbage_tokens_are_refused(api_client, world):
    token = owner_token(world.owner)
    ApiToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    assert api_client.get("/api/v1/me", token=token).status_code == 401
    for garbage in ("m4s_" + "x" * 43, "nonsense", "m4s_" + "y" * 500):
        assert api_client.get("/api/v1/me", token=garbage).status_code == 401


@pytest.mark.django_db
def test_owner_token_cannot_call_staff_api_and_vice_versa(api_client, world):
    from m4s.core.tests.factories import staff_token

    assert api_client.get("/api/v1/staff/me", token=owner_token(world.owner)).status_code == 401
    assert api_client.get("/api/v1/me", token=staff_token(world.advisor_a)).status_code == 401
