"""Constants of the online-service requests area."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RequestStatus(models.TextChoices):
    SUBMITTED = "submitted", _("Submitted")
    ACCEPTED = "accepted", _("Accepted")
    SCHEDULED = "scheduled", _("Scheduled")
    DONE = "done", _("Done")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", _("Cancelled")


OPEN_STATUSES = (RequestStatus.SUBMITTED, RequestStatus.ACCEPTED, RequestStatus.SCHEDULED)
CLOSED_STATUSES = (RequestStatus.DONE, RequestStatus.DECLINED, RequestStatus.CANCELLED)

# The moves staff (and the owner, for cancel) may make: from -> allowed targets.
TRANSITIONS: dict[str, tuple[str, ...]] = {
    RequestStatus.SUBMITTED: (
        RequestStatus.ACCEPTED,
        RequestStatus.SCHEDULED,
        RequestStatus.DECLINED,
        RequestStatus.CANCELLED,
    ),
    RequestStatus.ACCEPTED: (
        RequestStatus.SCHEDULED,
        RequestStatus.DONE,
        RequestStatus.DECLINED,
        RequestStatus.CANCELLED,
    ),
    RequestStatus.SCHEDULED: (
        RequestStatus.SCHEDULED,
        RequestStatus.DONE,
        RequestStatus.DECLINED,
        RequestStatus.CANCELLED,
    ),
    RequestStatus.DONE: (),
    RequestStatus.DECLINED: (),
    RequestStatus.CANCELLED: (),
}

# The owner may cancel while the request is open.
OWNER_CANCELLABLE = OPEN_STATUSES


class QuoteStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    SUPERSEDED = "superseded", _("Not chosen")
    WITHDRAWN = "withdrawn", _("Withdrawn")


# Message kinds (notify): service category.
KIND_UPDATE = "request.update"
KIND_NEW = "request.new"
KIND_QUOTE = "request.quote"

DEFAULT_SLA_MINUTES = 120
MAX_SLA_MINUTES = 60 * 24 * 30
