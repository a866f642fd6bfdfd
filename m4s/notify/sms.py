"""SMS adapters. Choose one with the SMS_BACKEND setting (the console/log backend is the
default); a gateway subclasses BaseSmsBackend.

The two Chinese gateways send pre-approved templates, not free text: SMS_TEMPLATES maps a
message kind (exact, "prefix." or "default") to {"id": <template code>, "params": [names]}, the
names taken from the message (m4s.notify.channels.template_params: the placeholders of its text,
title, body, link, code). Their official SDKs sign the requests; the endpoint can be pointed
elsewhere (ALIYUN_SMS_ENDPOINT / TENCENT_SMS_ENDPOINT) for a proxy or a test server.
"""

import json
import logging
import threading
from typing import Any, cast

from django.conf import settings

from .channels import Undeliverable, template_for

logger = logging.getLogger("m4s.sms")


class BaseSmsBackend:
    def send(
        self,
        *,
        to: str,
        body: str,
        reference: str,
        kind: str = "",
        params: dict[str, str] | None = None,
    ) -> str:
        """Send one text; return the gateway's id. `reference` is stable across retries so a
        gateway that supports it can drop duplicates. `kind` and `params` choose and fill a
        template for gateways that need one. Raise `Undeliverable` when retrying cannot help."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Writes texts to the log: the default until a gateway is configured."""

    def send(self, *, to: str, body: str, reference: str, **_: Any) -> str:
        logger.info("SMS to %s [%s]: %s", to, reference, body)
        return f"console-{reference}"


class MemorySmsBackend(BaseSmsBackend):
    """Keeps texts in a list, like Django's locmem e-mail backend: for tests and demos."""

    outbox: list[dict[str, str]] = []
    _lock = threading.Lock()

    def send(self, *, to: str, body: str, reference: str, **_: Any) -> str:
        with self._lock:
            MemorySmsBackend.outbox.append({"to": to, "body": body, "reference": reference})
        return f"memory-{reference}"


def _template(kind: str, params: dict[str, str] | None) -> tuple[str, list[tuple[str, str]]]:
    found = template_for(kind, cast(dict[str, Any], settings.SMS_TEMPLATES))
    if found is None:
        raise Undeliverable(f"no SMS template for message kind {kind!r} (SMS_TEMPLATES)")
    template_id, names = found
    values = params or {}
    return template_id, [(name, str(values.get(name, ""))[:300]) for name in names]


# --- Alibaba Cloud SMS (Dysmsapi 2017-05-25, SendSms) --------------------------------------------
# Error codes after which retrying cannot help (the rest, e.g. flow control, are retried).
ALIYUN_PERMANENT = {
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.INVALID_PARAMETERS",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.PARAM_LENGTH_LIMIT",
    "isv.AMOUNT_NOT_ENOUGH",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.ACCOUNT_NOT_EXISTS",
    "isv.ACCOUNT_ABNORMAL",
    "isp.RAM_PERMISSION_DENY",
}


def aliyun_phone(e164: str) -> str:
    """Alibaba wants mainland numbers without +86 and others as country code + number."""
    if e164.startswith("+86"):
        return e164[3:]
    return e164.lstrip("+")


class AliyunSmsBackend(BaseSmsBackend):
    """Alibaba Cloud SMS through its official SDK (alibabacloud_dysmsapi20170525), signed with
    ACS3-HMAC-SHA256. Settings: ALIYUN_SMS_ACCESS_KEY_ID / _SECRET, ALIYUN_SMS_SIGN_NAME,
    ALIYUN_SMS_ENDPOINT (default dysmsapi.aliyuncs.com), SMS_TEMPLATES."""

    def _client(self) -> Any:
        from alibabacloud_dysmsapi20170525.client import Client
        from alibabacloud_tea_openapi import utils_models

        config = utils_models.Config(
            access_key_id=settings.ALIYUN_SMS_ACCESS_KEY_ID,
            access_key_secret=settings.ALIYUN_SMS_ACCESS_KEY_SECRET,
            endpoint=settings.ALIYUN_SMS_ENDPOINT,
            protocol=settings.ALIYUN_SMS_PROTOCOL,
            connect_timeout=5000,
            read_timeout=10000,
        )
        return Client(config)

    def send(
        self,
        *,
        to: str,
        body: str,
        reference: str,
        kind: str = "",
        params: dict[str, str] | None = None,
    ) -> str:
        from alibabacloud_dysmsapi20170525 import models

        template_id, values = _template(kind, params)
        request = models.SendSmsRequest(
            phone_numbers=aliyun_phone(to),
            sign_name=settings.ALIYUN_SMS_SIGN_NAME,
            template_code=template_id,
            template_param=json.dumps(dict(values), ensure_ascii=False) if values else None,
            out_id=reference[:64],
        )
        try:
            response = self._client().send_sms(request)
        except Exception as exc:
            code = getattr(exc, "code", "") or ""
            if code in ALIYUN_PERMANENT:
                raise Undeliverable(f"Alibaba Cloud SMS refused: {code}") from exc
            raise
        result = response.body
        if result.code != "OK":
            message = f"Alibaba Cloud SMS {result.code}: {result.message}"
            if result.code in ALIYUN_PERMANENT:
                raise Undeliverable(message)
            raise RuntimeError(message)
        return str(result.biz_id or "")


# --- Tencent Cloud SMS (2021-01-11, SendSms) -----------------------------------------------------
TENCENT_PERMANENT_PREFIXES = (
    "InvalidParameterValue.",
    "UnsupportedOperation.",
    "FailedOperation.PhoneNumberInBlacklist",
    "FailedOperation.TemplateIncorrectOrUnapproved",
    "FailedOperation.SignatureIncorrectOrUnapproved",
    "FailedOperation.InsufficientBalanceInSmsPackage",
    "AuthFailure.",
    "UnauthorizedOperation.",
)


def _tencent_permanent(code: str) -> bool:
    return any(code.startswith(p) for p in TENCENT_PERMANENT_PREFIXES)


class TencentSmsBackend(BaseSmsBackend):
    """Tencent Cloud SMS through its official SDK (tencentcloud-sdk-python-sms), signed with
    TC3-HMAC-SHA256. Settings: TENCENT_SMS_SECRET_ID / _SECRET_KEY, TENCENT_SMS_SDK_APP_ID,
    TENCENT_SMS_SIGN_NAME, TENCENT_SMS_REGION, TENCENT_SMS_ENDPOINT, SMS_TEMPLATES."""

    def _client(self) -> Any:
        from tencentcloud.common import credential
        from tencentcloud.common.profile.client_profile import ClientProfile
        from tencentcloud.common.profile.http_profile import HttpProfile
        from tencentcloud.sms.v20210111 import sms_client

        http = HttpProfile(
            protocol=settings.TENCENT_SMS_PROTOCOL,
            endpoint=settings.TENCENT_SMS_ENDPOINT,
            reqTimeout=10,
        )
        profile = ClientProfile(httpProfile=http)
        cred = credential.Credential(
            settings.TENCENT_SMS_SECRET_ID, settings.TENCENT_SMS_SECRET_KEY
        )
        return sms_client.SmsClient(cred, settings.TENCENT_SMS_REGION, profile)

    def send(
        self,
        *,
        to: str,
        body: str,
        reference: str,
        kind: str = "",
        params: dict[str, str] | None = None,
    ) -> str:
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import (
            TencentCloudSDKException,
        )
        from tencentcloud.sms.v20210111 import models

        template_id, values = _template(kind, params)
        request = models.SendSmsRequest()
        request.PhoneNumberSet = [to]
        request.SmsSdkAppId = settings.TENCENT_SMS_SDK_APP_ID
        request.SignName = settings.TENCENT_SMS_SIGN_NAME
        request.TemplateId = template_id
        request.TemplateParamSet = [value for _name, value in values]
        request.SessionContext = reference[:512]
        try:
            response = self._client().SendSms(request)
        except TencentCloudSDKException as exc:
            code = exc.get_code() or ""
            if _tencent_permanent(code):
                raise Undeliverable(f"Tencent Cloud SMS refused: {code}") from exc
            raise
        status = (response.SendStatusSet or [None])[0]
        if status is None:
            raise RuntimeError("Tencent Cloud SMS answered without a send status")
        if status.Code != "Ok":
            message = f"Tencent Cloud SMS {status.Code}: {status.Message}"
            if _tencent_permanent(status.Code or ""):
                raise Undeliverable(message)
            raise RuntimeError(message)
        return str(status.SerialNo or "")
