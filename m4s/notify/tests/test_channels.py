"""The SMS gateways (Alibaba Cloud, Tencent Cloud) and WeChat template messages through their
official SDKs, against local stand-ins that check the documented request format and recompute
the signatures (m4s/notify/tests/providers.py). Never the internet."""

import json

import pytest
from django.core.cache import cache
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.notify import channels, services, sms, wechat
from m4s.notify.choices import Channel, Status
from m4s.notify.models import Message

from .providers import AliyunSms, TencentSms, WeChatApi

TEMPLATES = {
    "otp": {"id": "SMS_OTP_1", "params": ["code"]},
    "care.": {"id": "SMS_CARE_7", "params": ["item", "date"]},
    "default": {"id": "SMS_ANY_9", "params": ["title", "body"]},
}


@pytest.fixture(autouse=True)
def _at_once(monkeypatch, settings):
    monkeypatch.setattr("m4s.notify.outbox.transaction.on_commit", lambda f, *a, **k: f())
    settings.SMS_TEMPLATES = TEMPLATES


def _care_sms(owner):
    return services.send_message(
        channel=Channel.SMS,
        owner=owner,
        kind="care.maintenance",
        subject=text(
            gettext_noop("%(item)s is due around %(date)s"), item="Oil", date="2027-01-05"
        ),
        body=text(gettext_noop("Book in one tap, at a time that suits you.")),
        dedupe_key="care:maintenance:1:sms",
    )


# --- Alibaba Cloud -----------------------------------------------------------------------
@pytest.fixture
def aliyun(settings):
    with AliyunSms("LTAI5tTestKeyId", "test-secret-0123456789") as server:
        settings.SMS_BACKEND = "m4s.notify.sms.AliyunSmsBackend"
        settings.ALIYUN_SMS_ACCESS_KEY_ID = "LTAI5tTestKeyId"
        settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "test-secret-0123456789"
        settings.ALIYUN_SMS_SIGN_NAME = "阳光汽车"
        settings.ALIYUN_SMS_ENDPOINT = server.host
        settings.ALIYUN_SMS_PROTOCOL = "http"
        yield server


@pytest.mark.django_db
def test_aliyun_sms_sends_the_documented_signed_request(world, aliyun):
    msg = services.send_message(
        channel=Channel.SMS,
        owner=world.owner,
        kind="otp",
        body="Your M4S sign-in code is 042917. It expires in 5 minutes. Never share it.",
    )
    msg.refresh_from_db()
    assert aliyun.refused == []
    [req] = aliyun.requests
    params = req["params"]
    assert params["PhoneNumbers"] == world.owner.phone.removeprefix("+86")
    assert params["SignName"] == "阳光汽车"
    assert params["TemplateCode"] == "SMS_OTP_1"
    assert json.loads(params["TemplateParam"]) == {"code": "042917"}
    assert params["OutId"] == f"m4s-msg-{msg.pk}"
    assert req["headers"]["x-acs-action"] == "SendSms"
    assert msg.status == Status.SENT and msg.provider_ref == "900619746936498440^0"


@pytest.mark.django_db
def test_aliyun_template_parameters_come_from_the_message_text(world, aliyun):
    world.owner.language = "en"
    world.owner.save()
    _care_sms(world.owner)
    [req] = aliyun.requests
    assert req["params"]["TemplateCode"] == "SMS_CARE_7"
    assert json.loads(req["params"]["TemplateParam"]) == {"item": "Oil", "date": "2027-01-05"}


@pytest.mark.django_db
def test_aliyun_refusals(world, aliyun, settings):
    aliyun.answer_code = "isv.MOBILE_NUMBER_ILLEGAL"  # retrying cannot help
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="otp", body="1234")
    msg.refresh_from_db()
    assert msg.status == Status.FAILED and "MOBILE_NUMBER_ILLEGAL" in msg.last_error
    aliyun.answer_code = "isv.BUSINESS_LIMIT_CONTROL"  # flow control: retried later
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="otp", body="5678")
    msg.refresh_from_db()
    assert msg.status == Status.RETRY
    settings.ALIYUN_SMS_ACCESS_KEY_SECRET = "wrong"  # the stand-in recomputes the signature
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="otp", body="9012")
    msg.refresh_from_db()
    assert msg.status == Status.RETRY and aliyun.refused == ["signature does not match"]


def test_no_template_for_a_kind_is_undeliverable(settings):
    settings.SMS_TEMPLATES = {"otp": {"id": "SMS_1", "params": ["code"]}}
    with pytest.raises(channels.Undeliverable):
        sms.AliyunSmsBackend().send(to="+8613800000000", body="x", reference="r", kind="care.x")
    assert channels.template_for("care.x", TEMPLATES) == ("SMS_CARE_7", ["item", "date"])
    assert channels.template_for("loyalty.tier", TEMPLATES) == ("SMS_ANY_9", ["title", "body"])
    assert sms.aliyun_phone("+8613800000000") == "13800000000"
    assert sms.aliyun_phone("+85291234567") == "85291234567"


# --- Tencent Cloud -----------------------------------------------------------------------
@pytest.fixture
def tencent(settings):
    with TencentSms("AKIDtestSecretId", "test-secret-key") as server:
        settings.SMS_BACKEND = "m4s.notify.sms.TencentSmsBackend"
        settings.TENCENT_SMS_SECRET_ID = "AKIDtestSecretId"
        settings.TENCENT_SMS_SECRET_KEY = "test-secret-key"
        settings.TENCENT_SMS_SDK_APP_ID = "1400006666"
        settings.TENCENT_SMS_SIGN_NAME = "阳光汽车"
        settings.TENCENT_SMS_ENDPOINT = server.host
        settings.TENCENT_SMS_PROTOCOL = "http"
        yield server


@pytest.mark.django_db
def test_tencent_sms_sends_the_documented_signed_request(world, tencent):
    msg = services.send_message(
        channel=Channel.SMS, owner=world.owner, kind="otp", body="Your code is 553311."
    )
    msg.refresh_from_db()
    assert tencent.refused == []
    [req] = tencent.requests
    data = req["data"]
    assert data["PhoneNumberSet"] == [world.owner.phone]  # E.164
    assert data["SmsSdkAppId"] == "1400006666"
    assert data["SignName"] == "阳光汽车"
    assert data["TemplateId"] == "SMS_OTP_1"
    assert data["TemplateParamSet"] == ["553311"]
    assert data["SessionContext"] == f"m4s-msg-{msg.pk}"
    assert req["headers"]["x-tc-action"] == "SendSms"
    assert msg.status == Status.SENT and msg.provider_ref.startswith("2645:")


@pytest.mark.django_db
def test_tencent_refusals(world, tencent, settings):
    tencent.answer_code = "InvalidParameterValue.IncorrectPhoneNumber"
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="otp", body="1234")
    msg.refresh_from_db()
    assert msg.status == Status.FAILED
    tencent.answer_code = "LimitExceeded.PhoneNumberDailyLimit"
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="otp", body="5678")
    msg.refresh_from_db()
    assert msg.status == Status.RETRY
    settings.TENCENT_SMS_SECRET_KEY = "wrong"
    msg = services.send_message(channel=Channel.SMS, owner=world.owner, kind="otp", body="9012")
    msg.refresh_from_db()
    assert msg.status == Status.FAILED  # AuthFailure: a configuration error, not retried
    assert tencent.refused == ["signature does not match"]


# --- WeChat -------------------------------------------------------------------------------
@pytest.fixture
def weixin(settings):
    cache.clear()
    with WeChatApi("wx0123456789abcdef", "app-secret") as server:
        settings.WECHAT_ENABLED = True
        settings.WECHAT_APP_ID = "wx0123456789abcdef"
        settings.WECHAT_APP_SECRET = "app-secret"
        settings.WECHAT_API_BASE_URL = f"http://{server.host}/"
        settings.PUBLIC_BASE_URL = "https://m4s.example"
        settings.WECHAT_TEMPLATES = {"default": {"id": "TPL-care-1", "params": ["title", "body"]}}
        yield server
    cache.clear()


@pytest.mark.django_db
def test_wechat_template_message_to_the_bound_openid(world, weixin):
    owner = world.owner
    owner.wechat_openid = "oWeChatOpenId01"
    owner.channels = ["inapp", "wechat", "sms"]
    owner.language = "en"
    owner.save()
    from m4s.notify import policy

    decisions = policy.contact(
        owner=owner,
        category="care",
        kind="care.maintenance",
        compose=lambda: (
            text(gettext_noop("Welcome")),
            text(gettext_noop("Book in one tap, at a time that suits you.")),
        ),
        reason="care:maintenance:5",
        link="/app/service/book/",
    )
    assert [d.channel for d in decisions] == ["inapp", "wechat"]
    assert weixin.refused == []
    [sent] = weixin.requests
    assert sent["touser"] == "oWeChatOpenId01" and sent["template_id"] == "TPL-care-1"
    assert sent["data"] == {
        "title": {"value": "Welcome"},
        "body": {"value": "Book in one tap, at a time that suits you."},
    }
    assert sent["url"] == "https://m4s.example/app/service/book/"
    msg = Message.objects.get(channel="wechat")
    assert msg.status == Status.SENT and msg.provider_ref == "200228332"
    # the access token is fetched once and shared through the cache
    services.send_message(channel=Channel.WECHAT, owner=owner, kind="service.ready", body="Ready")
    assert weixin.tokens_issued == 1 and len(weixin.requests) == 2


@pytest.mark.django_db
def test_wechat_unfollowed_openid_is_undeliverable(world, weixin):
    weixin.errcode = 43004  # the owner no longer follows the account
    world.owner.wechat_openid = "oWeChatOpenId01"
    world.owner.save()
    msg = services.send_message(
        channel=Channel.WECHAT, owner=world.owner, kind="service.ready", body="Ready"
    )
    msg.refresh_from_db()
    assert msg.status == Status.FAILED and "43004" in msg.last_error


@pytest.mark.django_db
def test_wechat_is_off_by_default_and_needs_a_bound_openid(world, settings):
    settings.WECHAT_ENABLED = False
    from m4s.notify import policy

    world.owner.wechat_openid = "oWeChatOpenId01"
    assert not policy.reachable(world.owner, "wechat")
    settings.WECHAT_ENABLED = True
    assert policy.reachable(world.owner, "wechat")
    world.owner.wechat_openid = ""
    assert not policy.reachable(world.owner, "wechat")


@pytest.mark.django_db
def test_wechat_openid_from_the_oauth_code(world, weixin):
    assert wechat.openid_from_code("GOOD-CODE") == "oWeChatOpenId01"
    url = wechat.oauth_url("https://m4s.example/app/notifications/wechat/done/", "st")
    assert "scope=snsapi_base" in url and url.endswith("#wechat_redirect")
    owner = services.bind_wechat_openid(world.owner, "oWeChatOpenId01", source="oauth")
    assert owner.wechat_openid == "oWeChatOpenId01"
    # the same WeChat account bound to another owner moves there
    services.bind_wechat_openid(world.owner_b, "oWeChatOpenId01", source="staff")
    world.owner.refresh_from_db()
    assert world.owner.wechat_openid == ""
    from m4s.core.errors import DomainError

    with pytest.raises(DomainError):
        services.bind_wechat_openid(world.owner, "not valid!", source="staff")
