import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from m4s.core.errors import DomainError
from m4s.core.tests.factories import owner_token
from m4s.owners.models import ConsentRecord, Owner
from m4s.owners.phones import mask_phone, normalize_mobile


@pytest.mark.django_db
def test_patch_changes_only_what_is_sent(api_client, world):
    token = owner_token(world.owner)
    r = api_client.patch(
        "/api/v1/me", {"name": "王伟", "language": "ko", "birthday": "1985-04-12"}, token=token
    )
    assert r.status_code == 200, r.content
    body = r.json_body
    assert (body["name"], body["language"], body["birthday"]) == ("王伟", "ko", "1985-04-12")
    assert body["channels"] == ["inapp", "sms"]  # untouched
    assert body["home_store"]["id"] == world.store_a.pk


@pytest.mark.django_db
def test_consent_changes_are_timestamped_and_recorded(api_client, world):
    token = owner_token(world.owner)
    r = api_client.patch(
        "/api/v1/me", {"marketing_consent": True, "telematics_consent": True}, token=token
    )
    assert r.json_body["marketing_consent"] and r.json_body["marketing_consent_at"]
    r = api_client.patch("/api/v1/me", {"marketing_consent": False}, token=token)
    assert r.json_body["marketing_consent"] is False
    records = list(
        ConsentRecord.objects.filter(owner=world.owner)
        .order_by("id")
        .values_list("kind", "granted")
    )
    assert records == [("marketing", True), ("telematics", True), ("marketing", False)]
    api_client.patch(
        "/api/v1/me", {"marketing_consent": False}, token=token
    )  # no change, no record
    assert ConsentRecord.objects.filter(owner=world.owner).count() == 3


@pytest.mark.django_db
def test_in_app_channel_is_always_kept(api_client, world):
    r = api_client.patch("/api/v1/me", {"channels": ["sms"]}, token=owner_token(world.owner))
    assert r.json_body["channels"] == ["inapp", "sms"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload,status,code",
    [
        ({"language": "fr"}, 422, "validation_error"),
        ({"channels": ["fax"]}, 422, "validation_error"),
        ({"birthday": "not-a-date"}, 422, "validation_error"),
        ({"is_active": False}, 422, "validation_error"),  # unknown fields are refused, not ignored
        ({"phone": "+8613800000009"}, 422, "validation_error"),
        ({"quiet_hours_start": "22:00"}, 400, "invalid_quiet_hours"),
        ({"quiet_hours_start": "22:00", "quiet_hours_end": "22:00"}, 400, "invalid_quiet_hours"),
        ({"birthday": "2999-01-01"}, 400, "invalid_birthday"),
        ({"email": "nope"}, 400, "invalid_email"),
        ({"channels": ["inapp", "email"]}, 400, "invalid_channel"),  # no e-mail address on file
    ],
)
def test_bad_profile_input_changes_nothing(api_client, world, payload, status, code):
    before = Owner.objects.filter(pk=world.owner.pk).values().get()
    r = api_client.patch("/api/v1/me", payload, token=owner_token(world.owner))
    assert r.status_code == status and r.json_body["code"] == code, r.content
    assert Owner.objects.filter(pk=world.owner.pk).values().get() == before


@pytest.mark.django_db
def test_quiet_hours_across_midnight(api_client, world):
    r = api_client.patch(
        "/api/v1/me",
        {"quiet_hours_start": "22:00", "quiet_hours_end": "07:00"},
        token=owner_token(world.owner),
    )
    assert r.status_code == 200
    world.owner.refresh_from_db()
    assert (world.owner.quiet_hours_start, world.owner.quiet_hours_end) == (dt.time(22), dt.time(7))


@pytest.mark.django_db
def test_me_requires_a_token(api_client):
    assert api_client.get("/api/v1/me").status_code == 401
    assert api_client.patch("/api/v1/me", {"name": "x"}).status_code == 401


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("13800000001", "+8613800000001"),
        ("138 0000 0001", "+8613800000001"),
        ("+86 138-0000-0001", "+8613800000001"),
        ("008613800000001", "+8613800000001"),
        ("+82 10-1234-5678", "+821012345678"),
    ],
)
def test_phone_numbers_are_normalised_to_e164(raw, expected):
    assert normalize_mobile(raw) == expected


@given(st.integers(min_value=130_0000_0000, max_value=199_9999_9999))
def test_normalisation_is_idempotent(n):
    try:
        e164 = normalize_mobile(str(n))
    except DomainError:
        return  # not every 11-digit number is an allocated mobile range
    assert e164 == f"+86{n}"
    assert normalize_mobile(e164) == e164


def test_mask_phone():
    assert mask_phone("+8613812345678") == "+86138****5678"
