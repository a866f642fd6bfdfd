"""The telephony adapter: how the console places a call and how a CTI system reports calls.

`settings.TELEPHONY_BACKEND` names a class with one method, `click_to_call(staff, phone,
customer, conversation) -> dict`. The default `LogOnlyBackend` dials nothing: it answers a
`tel:` link for the staff member's own phone and the call is logged by hand. A real CTI
backend asks the switch to ring the agent's extension and then the customer.

Call events come back through the webhook `POST /api/v1/telephony/groups/{group}/call-events`,
signed per group: `X-M4S-Timestamp` (unix seconds) and `X-M4S-Signature: sha256=<hex HMAC-SHA256
of "<timestamp>.<raw body>" with the group's secret>`. A timestamp more than five minutes off,
a bad signature or a group without a secret is refused; an event is recorded once per CTI call
id (`external_id`). docs/telephony.md has the details.
"""

import datetime as dt
import hashlib
import hmac
import secrets
import time
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from m4s.core import crypto
from m4s.core.errors import DomainError, NotFound
from m4s.customers.models import Customer
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser

from ._common import handler, settings_for, settings_row
from .calls import call_basis, log_call
from .choices import CallBasis, CallDirection, CallOutcome, CallSource

SIGNATURE_HEADER = "X-M4S-Signature"
TIMESTAMP_HEADER = "X-M4S-Timestamp"
MAX_SKEW_SECONDS = 300


class LogOnlyBackend:
    """Dials nothing: the console opens `tel:` on the staff member's phone; calls are logged
    by hand."""

    name = "log_only"

    def click_to_call(self, *, staff, phone: str, customer, conversation=None) -> dict[str, Any]:
        return {"mode": "tel", "url": f"tel:{phone}"}


def backend():
    path = getattr(settings, "TELEPHONY_BACKEND", "") or (
        "m4s.conversations.telephony.LogOnlyBackend"
    )
    return import_string(path)()


def click_to_call(actor, *, customer, conversation=None) -> dict[str, Any]:
    """Start a call to a customer the staff member may see: the backend's answer, plus the call's
    basis and whether the log will need a reason (never cold)."""
    from .calls import _staff_customer

    handler(actor)
    customer = _staff_customer(actor, customer)
    basis, request = call_basis(customer, CallDirection.OUTBOUND, conversation=conversation)
    answer = backend().click_to_call(
        staff=actor, phone=customer.phone, customer=customer, conversation=conversation
    )
    return {
        **answer,
        "basis": basis,
        "reason_required": basis == CallBasis.NONE,
        "callback_request": request.pk if request else None,
    }


# --- the group's webhook secret -------------------------------------------------------------------
def rotate_secret(actor) -> str:
    """A new webhook secret for the actor's group; shown once (stored encrypted)."""
    if not actor.has_perm_m4s(Perm.MANAGE_GROUP_SETTINGS) or actor.dealer_group_id is None:
        from m4s.core.errors import PermissionDenied

        raise PermissionDenied()
    secret = secrets.token_urlsafe(32)
    row = settings_row(actor.dealer_group_id)
    row.cti_secret_cipher = crypto.encrypt(secret)
    row.save(update_fields=["cti_secret_cipher"])
    return secret


def _secret(group_id: int) -> str:
    cipher = settings_for(group_id).cti_secret_cipher
    return crypto.decrypt(cipher) if cipher else ""


def sign(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify(group_id: int, timestamp: str, signature: str, body: bytes, *, now=None) -> None:
    """Raise unless the request carries a fresh, valid signature of the group's secret."""
    secret = _secret(group_id)
    if not secret:
        raise NotFound(_("No telephony is set up for this group."))
    try:
        stamp = int(timestamp)
    except (TypeError, ValueError):
        raise DomainError("bad_signature", _("Missing or bad signature."), status=401) from None
    current = int(now if now is not None else time.time())
    if abs(current - stamp) > MAX_SKEW_SECONDS:
        raise DomainError("stale_event", _("The event's timestamp is too old."), status=401)
    if not hmac.compare_digest(sign(secret, str(stamp), body), signature or ""):
        raise DomainError("bad_signature", _("Missing or bad signature."), status=401)


def record_event(group_id: int, event: dict[str, Any]) -> dict[str, Any]:
    """A finished call reported by the CTI: logged once per `call_id`, attributed to the agent
    (`agent`: username or phone of a staff member of the group) and the customer (`customer_phone`).
    Events about unknown agents or customers are acknowledged and ignored."""
    agent = str(event.get("agent") or "")
    phone = str(event.get("customer_phone") or "")
    staff = (
        StaffUser.objects.filter(dealer_group_id=group_id, is_active=True)
        .filter(username=agent)
        .first()
        or StaffUser.objects.filter(dealer_group_id=group_id, is_active=True, phone=agent)
        .exclude(phone="")
        .first()
    )
    if staff is None or not staff.has_perm_m4s(Perm.HANDLE_CONVERSATIONS):
        return {"status": "ignored", "reason": "unknown_agent"}
    customer = (
        Customer.objects.for_group(group_id).filter(phone=phone).first()
        or Customer.objects.for_group(group_id).filter(phone2=phone).exclude(phone2="").first()
    )
    if customer is None:
        return {"status": "ignored", "reason": "unknown_customer"}
    direction = event["direction"]
    reached = bool(event.get("answered"))
    started_at = event["started_at"]
    if isinstance(started_at, dt.datetime) and timezone.is_naive(started_at):
        raise DomainError("invalid_started_at", _("Give the time with a time zone."))
    call = log_call(
        staff,
        customer=customer,
        direction=direction,
        reached=reached,
        duration_seconds=int(event.get("duration_seconds") or 0),
        outcome=event.get("outcome")
        or (CallOutcome.INFORMED if reached else CallOutcome.NO_ANSWER),
        note=str(event.get("note") or ""),
        reason=str(event.get("reason") or ""),
        started_at=started_at,
        source=CallSource.CTI,
        external_id=str(event["call_id"]),
    )
    return {"status": "recorded", "call": call.pk}
