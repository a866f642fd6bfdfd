"""A local stand-in for a browser's push service (RFC 8030) that checks what a push service
checks and decrypts what only the browser could: the VAPID JWT (RFC 8292, ES256, verified with
the public key in the `k=` parameter, which must be the server's), and the aes128gcm payload
(RFC 8291) opened with the subscription's private key and auth secret."""

import base64
import json
import os
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


@dataclass
class Browser:
    """The keys a browser makes when it subscribes: the p256dh key pair and the auth secret."""

    private_key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    @property
    def p256dh(self) -> str:
        return b64e(
            self.private_key.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    claims: dict[str, Any]
    vapid_key: str
    payload: dict[str, Any]


class PushService:
    """Runs on 127.0.0.1; `browsers[path]` are the subscriptions it knows. A path in `gone`
    answers 410; `fail_next` answers 500 that many times. Requests that fail a check answer
    400/401 and are kept in `refused` with the reason."""

    def __init__(self) -> None:
        self.browsers: dict[str, Browser] = {}
        self.received: list[Received] = []
        self.refused: list[str] = []
        self.gone: set[str] = set()
        self.fail_next = 0
        service = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, reason = service.handle(self.path, dict(self.headers), body)
                if reason:
                    service.refused.append(reason)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def subscribe(self, name: str) -> tuple[str, Browser]:
        browser = Browser()
        self.browsers[f"/push/{name}"] = browser
        return f"{self.origin}/push/{name}", browser

    def __enter__(self) -> "PushService":
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- the checks ----------------------------------------------------------------------
    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, str]:
        headers = {k.lower(): v for k, v in headers.items()}
        browser = self.browsers.get(path)
        if browser is None or path in self.gone:
            return 410, ""
        if self.fail_next:
            self.fail_next -= 1
            return 500, ""
        auth = headers.get("authorization", "")
        if not auth.startswith("vapid "):
            return 401, f"no VAPID authorization: {auth!r}"
        parts = dict(p.strip().split("=", 1) for p in auth[len("vapid ") :].split(","))
        token, key = parts.get("t", ""), parts.get("k", "")
        try:
            claims = self.verify_jwt(token, key)
        except (ValueError, InvalidSignature) as exc:
            return 401, f"bad VAPID token: {exc!r}"
        if claims.get("aud") != self.origin:
            return 401, f"aud {claims.get('aud')!r} is not {self.origin}"
        if not (time.time() < claims.get("exp", 0) <= time.time() + 24 * 3600):
            return 401, f"exp {claims.get('exp')} not within 24 h"
        if not str(claims.get("sub", "")).startswith(("mailto:", "https:")):
            return 401, f"sub {claims.get('sub')!r}"
        if headers.get("content-encoding") != "aes128gcm":
            return 400, f"content-encoding {headers.get('content-encoding')!r}"
        if not headers.get("ttl", "").isdigit():
            return 400, "no TTL"
        try:
            clear = http_ece.decrypt(
                body, private_key=browser.private_key, auth_secret=browser.auth, version="aes128gcm"
            )
            payload = json.loads(clear)
        except Exception as exc:  # noqa: BLE001 - any decryption failure is a refusal
            return 400, f"cannot decrypt: {exc!r}"
        self.received.append(Received(path, headers, claims, key, payload))
        return 201, ""

    @staticmethod
    def verify_jwt(token: str, key: str) -> dict[str, Any]:
        head, claims, signature = token.split(".")
        header = json.loads(b64d(head))
        if header.get("alg") != "ES256":
            raise ValueError(f"alg {header.get('alg')!r}")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(key))
        raw = b64d(signature)
        if len(raw) != 64:
            raise ValueError("an ES256 JWS signature is 64 bytes (r || s)")
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{head}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        return dict(json.loads(b64d(claims)))
