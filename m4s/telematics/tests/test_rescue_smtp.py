"""The insurer's first notice of loss over a real SMTP conversation: Django's SMTP backend to a
local SMTP server in this process (the standard library's smtpd, present on Python 3.11; no new
dependency). The message that arrives carries the report and the owner's photo."""

import email
import email.policy
import io
import threading
import warnings

import pytest
from django.test import TestCase

from m4s.telematics import rescue

from .test_rescue import _png, _sos_case, rescue_world  # noqa: F401  (fixture)

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    try:
        import asyncore
        import smtpd
    except ImportError:  # Python 3.12+: no smtpd in the standard library
        smtpd = None


@pytest.fixture
def smtp_server():
    if smtpd is None:
        pytest.skip("no smtpd module (Python 3.12+)")

    class Sink(smtpd.SMTPServer):
        def process_message(self, peer, mailfrom, rcpttos, data, **kwargs):
            self.received.append((mailfrom, rcpttos, data))

    sink_map: dict = {}
    server = Sink.__new__(Sink)
    server.received = []
    smtpd.SMTPServer.__init__(server, ("127.0.0.1", 0), None, decode_data=False, map=sink_map)
    thread = threading.Thread(
        target=asyncore.loop, kwargs={"timeout": 0.05, "map": sink_map}, daemon=True
    )
    thread.start()
    try:
        yield server
    finally:
        server.close()
        thread.join(timeout=5)


def test_first_notice_of_loss_over_smtp(rescue_world, client, settings, smtp_server):  # noqa: F811
    w = rescue_world
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", smtp_server.socket.getsockname()[1]
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    case = _sos_case(w, client)
    rescue.add_case_photo(w.owner, case, io.BytesIO(_png()))
    with TestCase.captureOnCommitCallbacks(execute=True):
        rescue.notify_insurer(w.advisor_a, case)
    assert len(smtp_server.received) == 1
    _sender, to, raw = smtp_server.received[0]
    assert to == ["claims@picc.example"]
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert message["Subject"].startswith(f"First notice of loss M4S-R{case.pk:06d}")
    parts = list(message.walk())
    body = next(p for p in parts if p.get_content_type() == "text/plain").get_payload(decode=True)
    assert b"39.91000, 116.40000" in body and b"SOS button" in body
    pictures = [p for p in parts if p.get_content_type() == "image/png"]
    assert len(pictures) == 1 and pictures[0].get_payload(decode=True).startswith(b"\x89PNG")
    # asked again: nothing more leaves
    with TestCase.captureOnCommitCallbacks(execute=True):
        rescue.notify_insurer(w.advisor_a, case)
    assert len(smtp_server.received) == 1
