"""Writes of the complaints area, in one place to import from: filing (owner, staff on behalf,
survey), handling at the desk, resolution and the owner's side. Each lives in its sub-domain
module; every write runs in one transaction on the locked complaint row, appends a
`ComplaintEvent` and a customer-timeline line, and notifies through the outbox."""

from ._common import (  # noqa: F401
    categories_for,
    console_link,
    ensure_defaults,
    event,
    owner_link,
    root_causes_for,
)
from .filing import (  # noqa: F401
    file_complaint,
    is_unhappy,
    on_survey_answered,
    open_from_survey,
    record_complaint,
)
from .handling import (  # noqa: F401
    acknowledge,
    add_note,
    assign,
    change_complaint,
    climb,
    escalate,
    log_call,
    reply_to_owner,
    resume,
    set_waiting_for_customer,
)
from .resolution import (  # noqa: F401
    add_owner_photos,
    check_preventive_action,
    close_for_customer,
    confirm,
    mark_action_done,
    owner_reply,
    rate,
    reopen,
    resolve,
)
