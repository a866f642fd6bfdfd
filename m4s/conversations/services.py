"""Writes of the conversations area, in one place to import from. Each lives in its sub-domain
module: messages, notes and the life of a conversation (messaging), routing and the
first-response scan (routing, scan), calls and callback requests (calls), the telephony adapter
(telephony), canned replies (canned). Every write runs in one transaction, adds a
customer-timeline line for each message, note and call, and notifies through the outbox."""

from ._common import can_handle, settings_for, settings_row  # noqa: F401
from .calls import call_basis, cancel_callback, log_call, request_callback  # noqa: F401
from .canned import car_of, render_canned  # noqa: F401
from .messaging import (  # noqa: F401
    add_note,
    claim,
    close,
    mark_delivered_to_owner,
    mark_delivered_to_staff,
    mark_read_by_owner,
    mark_read_by_staff,
    owner_customer,
    post_owner_message,
    post_staff_message,
    rate,
    reopen,
    start_conversation,
    transfer,
)
from .routing import begin_wait, consultant_of, is_on_duty, offer_overdue  # noqa: F401
from .telephony import click_to_call, record_event, rotate_secret  # noqa: F401
