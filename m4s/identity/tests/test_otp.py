import re
from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone

from m4s.identity.models import OtpChallenge, PhoneAuthState
from m4s.owners.models import Owner

REQUEST = "/api/v1/auth/otp/request"
VERIFY = "/api/v1/auth/otp/verify"
PHONE = "+8613912345678"


def code_from_sms(outbox, phone=PHONE) -> str:
    texts = [m for m in outbox if m["to"] == phone]
    assert texts, "no sign-in text was sent"
    return re.search(r"\b(\d{6})\b", texts[-1]["body"]).group(1)


def age_challenges(seconds: int, phone=PHONE):
    """Move this phone's codes into the past (instead of sleeping)."""
    for c in OtpChallenge.objects.filter(phone=phone):
        c.created_at -= timedelta(seconds=seconds)
        c.expires_at -= timedelta(seconds=seconds)
        c.save()


@pytest.mark.django_db
def test_sign_in_with_code_creates_owner_and_returns_token(api_client, sms_outbox):
    r = api_client.post(REQUEST, {"phone": "139 1234 5678"})
    assert r.status_code == 202
    assert r.json_body["phone"] == PHONE  # normalised to E.164
    assert "debug_code" not in r.json_body  # DEBUG is off
    code = code_from_sms(sms_outbox)
    r = api_client.post(VERIFY, {"phone": PHONE, "code": code})
    assert r.status_code == 200, r.content
    assert r.json_body["owner"]["phone"] == PHONE
    token = r.json_body["token"]
    me = api_client.get("/api/v1/me", token=token)
    assert me.status_code == 200 and me.json_body["phone"] == PHONE
    assert Owner.objects.filter(phone=PHONE).count() == 1


@pytest.mark.django_db
def test_debug_code_only_with_debug(api_client, settings, sms_outbox):
    r = api_client.post(REQUEST, {"phone": PHONE})
    assert "debug_code" not in r.json_body and "debug_code" not in r.content.decode()
    age_challenges(120)
    settings.DEBUG = True
    r = api_client.post(REQUEST, {"phone": PHONE})
    assert r.status_code == 202
    assert r.json_body["debug_code"] == code_from_sms(sms_outbox)


@pytest.mark.django_db
def test_code_expires_after_five_minutes(api_client, sms_outbox):
    api_client.post(REQUEST, {"phone": PHONE})
    code = code_from_sms(sms_outbox)
    age_challenges(301)
    r = api_client.post(VERIFY, {"phone": PHONE, "code": code})
    assert r.status_code == 400 and r.json_body["code"] == "otp_expired"
    assert not Owner.objects.filter(phone=PHONE).exists()


@pytest.mark.django_db
def test_code_is_single_use(api_client, sms_outbox):
    api_client.post(REQUEST, {"phone": PHONE})
    code = code_from_sms(sms_outbox)
    assert api_client.post(VERIFY, {"phone": PHONE, "code": code}).status_code == 200
    r = api_client.post(VERIFY, {"phone": PHONE, "code": code})
    assert r.status_code == 400 and r.json_body["code"] == "otp_used"


@pytest.mark.django_db
def test_new_code_supersedes_the_old_one(api_client, sms_outbox):
    api_client.post(REQUEST, {"phone": PHONE})
    old = code_from_sms(sms_outbox)
    age_challenges(61)
    api_client.post(REQUEST, {"phone": PHONE})
    new = code_from_sms(sms_outbox)
    if old != new:
        assert (
            api_client.post(VERIFY, {"phone": PHONE, "code": old}).json_body["code"] == "otp_wrong"
        )
    assert api_client.post(VERIFY, {"phone": PHONE, "code": new}).status_code == 200


@pytest.mark.django_db
def test_five_wrong_tries_lock_the_phone_for_fifteen_minutes(api_client, sms_outbox):
    api_client.post(REQUEST, {"phone": PHONE})
    code = code_from_sms(sms_outbox)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        r = api_client.post(VERIFY, {"phone": PHONE, "code": wrong})
        assert r.status_code == 400
        assert r.json_body == {
            "code": "otp_wrong",
            "message": "Wrong code.",
            "details": {"attempts_left": left},
        }
    r = api_client.post(VERIFY, {"phone": PHONE, "code": wrong})
    assert r.status_code == 429 and r.json_body["code"] == "otp_locked"
    # the right code no longer works, and no new code can be requested while locked
    r = api_client.post(VERIFY, {"phone": PHONE, "code": code})
    assert r.status_code == 429 and r.json_body["code"] == "otp_locked"
    assert int(r["Retry-After"]) > 14 * 60
    r = api_client.post(REQUEST, {"phone": PHONE})
    assert r.status_code == 429 and r.json_body["code"] == "otp_locked"
    # after 15 minutes the phone may ask again
    state = PhoneAuthState.objects.get(phone=PHONE)
    state.locked_until = timezone.now() - timedelta(seconds=1)
    state.save()
    age_challenges(3600)
    assert api_client.post(REQUEST, {"phone": PHONE}).status_code == 202
    assert (
        api_client.post(VERIFY, {"phone": PHONE, "code": code_from_sms(sms_outbox)}).status_code
        == 200
    )


@pytest.mark.django_db
def test_malformed_code_does_not_count_as_a_try(api_client, sms_outbox):
    api_client.post(REQUEST, {"phone": PHONE})
    for bad in ("12ab56", "123", "1234567"):
        r = api_client.post(VERIFY, {"phone": PHONE, "code": bad})
        # Not six digits: refused by the schema (`pattern`), before any try is counted.
        assert r.status_code == 422 and r.json_body["code"] == "validation_error"
    assert OtpChallenge.objects.get(phone=PHONE).attempts == 0


@pytest.mark.django_db
def test_resend_is_rate_limited_per_phone(api_client, sms_outbox):
    assert api_client.post(REQUEST, {"phone": PHONE}).status_code == 202
    r = api_client.post(REQUEST, {"phone": PHONE})
    assert r.status_code == 429 and r.json_body["code"] == "rate_limited"
    assert 0 < int(r["Retry-After"]) <= 60
    assert (
        OtpChallenge.objects.filter(phone=PHONE).count() == 1
    )  # the refused request wrote nothing
    assert len(sms_outbox) == 1
    for _ in range(4):
        age_challenges(61)
        assert api_client.post(REQUEST, {"phone": PHONE}).status_code == 202
    age_challenges(61)
    r = api_client.post(REQUEST, {"phone": PHONE})  # 6th within the hour
    assert r.status_code == 429 and r.json_body["code"] == "rate_limited"


@pytest.mark.django_db
@override_settings(OTP_MAX_PER_IP_PER_HOUR=3)
def test_requests_are_rate_limited_per_ip(api_client):
    for i in range(3):
        assert api_client.post(REQUEST, {"phone": f"+861391234560{i}"}).status_code == 202
    r = api_client.post(REQUEST, {"phone": "+8613912345609"})
    assert r.status_code == 429 and r.json_body["code"] == "rate_limited"
    other_ip = api_client.request(
        "POST", REQUEST, {"phone": "+8613912345609"}, REMOTE_ADDR="10.1.2.3"
    )
    assert other_ip.status_code == 202


@pytest.mark.django_db
@pytest.mark.parametrize(
    "payload,status,code",
    [
        ({"phone": "12345"}, 400, "invalid_phone"),
        (
            {"phone": "+861012345678"},
            400,
            "invalid_phone",
        ),  # a Beijing landline cannot receive texts
        ({"phone": "not a phone"}, 400, "invalid_phone"),
        ({}, 422, "validation_error"),
        ({"phone": 13800000001}, 422, "validation_error"),
    ],
)
def test_bad_phone_input_is_refused_and_writes_nothing(
    api_client, sms_outbox, payload, status, code
):
    r = api_client.post(REQUEST, payload)
    assert r.status_code == status and r.json_body["code"] == code
    assert r.json_body["message"]
    assert OtpChallenge.objects.count() == 0 and not sms_outbox


@pytest.mark.django_db
def test_malformed_json_is_a_400(api_client):
    r = api_client.post(REQUEST, raw="{phone:")
    assert r.status_code == 400 and r.json_body["code"] == "bad_request"


@pytest.mark.django_db
def test_verify_without_request_is_refused(api_client):
    r = api_client.post(VERIFY, {"phone": PHONE, "code": "123456"})
    assert r.status_code == 400 and r.json_body["code"] == "otp_invalid"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "language,message",
    [
        ("zh-hans", "这不是有效的电话号码。"),
        ("ko", "올바른 전화번호가 아닙니다."),
        ("en", "This is not a phone number."),
    ],
)
def test_error_messages_follow_accept_language(api_client, language, message):
    r = api_client.request("POST", REQUEST, {"phone": "abcd"}, HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 400 and r.json_body == {"code": "invalid_phone", "message": message}


@pytest.mark.django_db
def test_per_network_limit_behind_a_trusted_proxy(api_client, settings):
    settings.OTP_MAX_PER_IP_PER_HOUR = 2
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for i, client in enumerate(["1.1.1.1", "1.1.1.1"]):
        r = api_client.request(
            "POST", REQUEST, {"phone": f"+861391234570{i}"}, HTTP_X_FORWARDED_FOR=client, **proxy
        )
        assert r.status_code == 202
    # the same client is limited even though it claims another address in front of the real one
    r = api_client.request(
        "POST",
        REQUEST,
        {"phone": "+8613912345709"},
        HTTP_X_FORWARDED_FOR="9.9.9.9, 1.1.1.1",
        **proxy,
    )
    assert r.status_code == 429
    # another client behind the same proxy is not
    r = api_client.request(
        "POST", REQUEST, {"phone": "+8613912345708"}, HTTP_X_FORWARDED_FOR="2.2.2.2", **proxy
    )
    assert r.status_code == 202
