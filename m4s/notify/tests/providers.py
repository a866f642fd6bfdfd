"""Local stand-ins for the SMS gateways and WeChat's API that check each request the way the
provider documents it (and recompute the signature independently of the SDKs), so the adapters
are tested without the internet.

- Alibaba Cloud (Dysmsapi 2017-05-25, RPC style, signature V3 "ACS3-HMAC-SHA256"):
  CanonicalRequest = method \\n path \\n canonical query \\n canonical headers \\n signed headers
  \\n hex(sha256(body)); canonical headers are host, content-type and every x-acs-* header,
  lower-case, sorted, `name:value\\n`; StringToSign = "ACS3-HMAC-SHA256\\n" + hex(sha256(
  CanonicalRequest)); Signature = hex(HMAC-SHA256(secret, StringToSign)); Authorization =
  "ACS3-HMAC-SHA256 Credential=<id>,SignedHeaders=<names>,Signature=<sig>"; x-acs-action SendSms,
  x-acs-version 2017-05-25; PhoneNumbers, SignName, TemplateCode, TemplateParam (JSON).
- Tencent Cloud (SMS 2021-01-11, signature v3 "TC3-HMAC-SHA256"): CanonicalRequest = POST \\n / \\n
  \\n "content-type:<ct>\\nhost:<host>\\n" \\n "content-type;host" \\n hex(sha256(body));
  StringToSign = "TC3-HMAC-SHA256\\n<timestamp>\\n<date>/sms/tc3_request\\n" + hex(sha256(
  CanonicalRequest)); key = HMAC(HMAC(HMAC("TC3"+SecretKey, date), "sms"), "tc3_request");
  X-TC-Action SendSms, X-TC-Version 2021-01-11; JSON body PhoneNumberSet, SmsSdkAppId, SignName,
  TemplateId, TemplateParamSet.
- WeChat official account: GET /cgi-bin/token?grant_type=client_credential&appid&secret ->
  access_token; POST /cgi-bin/message/template/send?access_token=... with JSON touser,
  template_id, data {key: {value}}, url.
"""

import datetime as dt
import hashlib
import hmac
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, quote, urlsplit


def _quote(value: str) -> str:
    """RFC 3986 percent-encoding, as Alibaba's canonical query string wants it."""
    return quote(value, safe="-_.~")


class StandIn:
    """An HTTP server on 127.0.0.1; `check(method, path, query, headers, body)` returns
    (status, JSON answer). Requests are kept in `requests`, refusals in `refused`."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.refused: list[str] = []
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                split = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                status, answer = stand_in.check(
                    self.command, split.path, split.query, headers, body
                )
                raw = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            do_GET = do_POST = _answer

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.host = f"127.0.0.1:{self.port}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> "StandIn":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    def refuse(self, why: str, status: int = 400) -> tuple[int, dict[str, Any]]:
        self.refused.append(why)
        return status, {"Code": "SignatureDoesNotMatch", "Message": why}

    def check(
        self, method: str, path: str, query: str, headers: dict[str, str], body: bytes
    ) -> tuple[int, dict[str, Any]]:
        raise NotImplementedError


class AliyunSms(StandIn):
    def __init__(self, key_id: str, secret: str, answer_code: str = "OK") -> None:
        super().__init__()
        self.key_id, self.secret, self.answer_code = key_id, secret, answer_code

    def check(self, method, path, query, headers, body):  # type: ignore[no-untyped-def]
        auth = headers.get("authorization", "")
        if not auth.startswith("ACS3-HMAC-SHA256 "):
            return self.refuse(f"authorization {auth!r}")
        fields = dict(p.split("=", 1) for p in auth[len("ACS3-HMAC-SHA256 ") :].split(","))
        if fields.get("Credential") != self.key_id:
            return self.refuse(f"credential {fields.get('Credential')!r}", 403)
        signed = fields.get("SignedHeaders", "").split(";")
        must = {"host", "x-acs-action", "x-acs-content-sha256", "x-acs-date", "x-acs-version"}
        must |= {"x-acs-signature-nonce"}
        if not must <= set(signed) or signed != sorted(signed):
            return self.refuse(f"signed headers {signed}")
        if any(h not in signed for h in headers if h.startswith("x-acs-")):
            return self.refuse("an x-acs- header is not signed")
        payload_hash = hashlib.sha256(body).hexdigest()
        if headers.get("x-acs-content-sha256") != payload_hash:
            return self.refuse("x-acs-content-sha256 does not match the body")
        pairs = sorted(parse_qsl(query, keep_blank_values=True))
        canonical_query = "&".join(f"{_quote(k)}={_quote(v)}" for k, v in pairs)
        canonical_headers = "".join(f"{h}:{headers.get(h, '').strip()}\n" for h in signed)
        canonical = "\n".join(
            [method, path, canonical_query, canonical_headers, ";".join(signed), payload_hash]
        )
        to_sign = "ACS3-HMAC-SHA256\n" + hashlib.sha256(canonical.encode()).hexdigest()
        expected = hmac.new(self.secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return self.refuse("signature does not match", 403)
        if headers.get("x-acs-action") != "SendSms" or headers.get("x-acs-version") != "2017-05-25":
            return self.refuse(
                f"action {headers.get('x-acs-action')} {headers.get('x-acs-version')}"
            )
        params = dict(pairs)
        params.update(parse_qsl(body.decode(), keep_blank_values=True))
        for name in ("PhoneNumbers", "SignName", "TemplateCode"):
            if not params.get(name):
                return self.refuse(f"{name} missing")
        if "TemplateParam" in params:
            json.loads(params["TemplateParam"])  # must be a JSON object
        self.requests.append({"method": method, "params": params, "headers": headers})
        if self.answer_code != "OK":
            return 200, {"Code": self.answer_code, "Message": "refused", "RequestId": "r-1"}
        return 200, {
            "Code": "OK",
            "Message": "OK",
            "BizId": "900619746936498440^0",
            "RequestId": "r-1",
        }


class TencentSms(StandIn):
    def __init__(self, secret_id: str, secret_key: str, answer_code: str = "Ok") -> None:
        super().__init__()
        self.secret_id, self.secret_key, self.answer_code = secret_id, secret_key, answer_code

    def check(self, method, path, query, headers, body):  # type: ignore[no-untyped-def]
        def error(code: str, message: str) -> tuple[int, dict[str, Any]]:
            self.refused.append(message)
            return 200, {
                "Response": {"Error": {"Code": code, "Message": message}, "RequestId": "r"}
            }

        auth = headers.get("authorization", "")
        prefix = "TC3-HMAC-SHA256 "
        if not auth.startswith(prefix):
            return error("AuthFailure.SignatureFailure", f"authorization {auth!r}")
        fields = dict(p.strip().split("=", 1) for p in auth[len(prefix) :].split(","))
        secret_id, date, service, terminator = fields.get("Credential", "////").split("/")
        if secret_id != self.secret_id:
            return error("AuthFailure.SecretIdNotFound", "unknown secret id")
        if service != "sms" or terminator != "tc3_request":
            return error("AuthFailure.SignatureFailure", f"scope {fields.get('Credential')}")
        timestamp = headers.get("x-tc-timestamp", "")
        when = dt.datetime.fromtimestamp(int(timestamp or 0), dt.UTC)
        if when.strftime("%Y-%m-%d") != date or abs(time.time() - when.timestamp()) > 300:
            return error("AuthFailure.SignatureExpire", "timestamp")
        signed = fields.get("SignedHeaders", "")
        if signed != "content-type;host":
            return error("AuthFailure.SignatureFailure", f"signed headers {signed}")
        canonical = "\n".join(
            [
                method,
                path,
                query,
                f"content-type:{headers.get('content-type')}\nhost:{headers.get('host')}\n",
                signed,
                hashlib.sha256(body).hexdigest(),
            ]
        )
        scope = f"{date}/sms/tc3_request"
        to_sign = (
            f"TC3-HMAC-SHA256\n{timestamp}\n{scope}\n"
            + hashlib.sha256(canonical.encode()).hexdigest()
        )

        def sign(key: bytes, msg: str) -> bytes:
            return hmac.new(key, msg.encode(), hashlib.sha256).digest()

        key = sign(sign(sign(("TC3" + self.secret_key).encode(), date), "sms"), "tc3_request")
        expected = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
        if not hmac.compare_digest(expected, fields.get("Signature", "")):
            return error("AuthFailure.SignatureFailure", "signature does not match")
        if headers.get("x-tc-action") != "SendSms" or headers.get("x-tc-version") != "2021-01-11":
            return error("InvalidAction", f"{headers.get('x-tc-action')}")
        data = json.loads(body)
        for name in ("PhoneNumberSet", "SmsSdkAppId", "SignName", "TemplateId"):
            if not data.get(name):
                return error("MissingParameter", f"{name} missing")
        if not all(isinstance(v, str) for v in data.get("TemplateParamSet", [])):
            return error("InvalidParameterValue", "TemplateParamSet must be strings")
        self.requests.append({"data": data, "headers": headers})
        status = {
            "SerialNo": "2645:285072374416174839616432919",
            "PhoneNumber": data["PhoneNumberSet"][0],
            "Fee": 1,
            "SessionContext": data.get("SessionContext", ""),
            "Code": self.answer_code,
            "Message": "send success" if self.answer_code == "Ok" else "refused",
            "IsoCode": "CN",
        }
        return 200, {"Response": {"SendStatusSet": [status], "RequestId": "r-2"}}


class WeChatApi(StandIn):
    def __init__(self, appid: str, secret: str, errcode: int = 0) -> None:
        super().__init__()
        self.appid, self.secret, self.errcode = appid, secret, errcode
        self.tokens_issued = 0

    def check(self, method, path, query, headers, body):  # type: ignore[no-untyped-def]
        q = dict(parse_qsl(query))
        if path == "/cgi-bin/token" and method == "GET":
            if (q.get("grant_type"), q.get("appid"), q.get("secret")) != (
                "client_credential",
                self.appid,
                self.secret,
            ):
                self.refused.append(f"token request {q}")
                return 200, {"errcode": 40013, "errmsg": "invalid appid"}
            self.tokens_issued += 1
            return 200, {"access_token": f"TOKEN{self.tokens_issued}", "expires_in": 7200}
        if path == "/sns/oauth2/access_token" and method == "GET":
            if q.get("code") != "GOOD-CODE" or q.get("appid") != self.appid:
                return 200, {"errcode": 40029, "errmsg": "invalid code"}
            return 200, {
                "access_token": "x",
                "expires_in": 7200,
                "refresh_token": "r",
                "openid": "oWeChatOpenId01",
                "scope": "snsapi_base",
            }
        if path == "/cgi-bin/message/template/send" and method == "POST":
            if q.get("access_token") != f"TOKEN{self.tokens_issued}" or not self.tokens_issued:
                return 200, {"errcode": 40001, "errmsg": "invalid credential"}
            data = json.loads(body)
            if (
                not data.get("touser")
                or not data.get("template_id")
                or not isinstance(data.get("data"), dict)
            ):
                self.refused.append(f"template message {data}")
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            if any(not isinstance(v, dict) or "value" not in v for v in data["data"].values()):
                self.refused.append("data values must be {value: ...}")
                return 200, {"errcode": 47001, "errmsg": "data format error"}
            self.requests.append(data)
            if self.errcode:
                return 200, {"errcode": self.errcode, "errmsg": "refused"}
            return 200, {"errcode": 0, "errmsg": "ok", "msgid": 200228332}
        self.refused.append(f"{method} {path}")
        return 404, {"errcode": 404, "errmsg": "not found"}
