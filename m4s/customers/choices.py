from django.db import models
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class Gender(models.TextChoices):
    FEMALE = "f", _("Female")
    MALE = "m", _("Male")


class Source(models.TextChoices):
    WALK_IN = "walk_in", _("Walk-in")
    IMPORT = "import", _("Import")
    QR = "qr", _("QR code")
    REFERRAL = "referral", _("Referral")
    APP = "app", _("Owner app")


class BindingVia(models.TextChoices):
    STORE_QR = "store_qr", _("Store QR code")
    STAFF_QR = "staff_qr", _("Staff QR code")
    SMS_LINK = "sms_link", _("SMS link")
    DESK = "desk", _("At the desk")
    APP = "app", _("In the app")


class TransferStatus(models.TextChoices):
    OPEN = "open", _("Waiting for staff")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")


class Assignment(models.TextChoices):
    """The three people every customer has at their store."""

    SALES = "sales_consultant", _("Sales consultant")
    SERVICE = "service_advisor", _("Service advisor")
    CS = "cs_agent", _("Customer-service agent")


class TimelineKind(models.TextChoices):
    SIGN_IN = "sign_in", _("Signed in")
    BINDING = "binding", _("Bound a car")
    TRANSFER = "transfer", _("Ownership transfer")
    ASSIGNMENT = "assignment", _("Consultants changed")
    IMPORT = "import", _("Imported")
    PROFILE = "profile", _("Profile changed")
    MESSAGE = "message", _("Message")
    VISIT = "visit", _("Visit")
    COMPLAINT = "complaint", _("Complaint")
    ALARM = "alarm", _("Vehicle alarm")
    NOTE = "note", _("Note")
    CALL = "call", _("Call")
    COMMUNITY = "community", _("Community")
    REQUEST = "request", _("Online-service request")
    LEAD = "lead", _("Sales lead")


# What the owner (and the desk) is told after a binding attempt, by outcome.
BIND_MESSAGES = {
    "bound": lambda: gettext("Your car is bound: car, phone and you are now linked."),
    "already_bound": lambda: gettext("This car is already bound to you."),
    "transfer_requested": lambda: gettext(
        "This car is bound to someone else. Your store will check and confirm the transfer."
    ),
}
