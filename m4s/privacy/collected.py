"""What the privacy page tells an owner: each kind of data, why it is kept, and for how long
(the periods come from settings.RETENTION_DAYS and the rules areas follow)."""

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def _days(n: int) -> str:
    return ngettext("%(n)d day", "%(n)d days", n) % {"n": n}


def what_we_collect() -> list[dict]:
    days = settings.RETENTION_DAYS
    until_erased = _("Until you ask us to erase your account")
    return [
        {
            "key": "profile",
            "what": _("Your phone number, name, e-mail, birthday, language and consents"),
            "why": _("To sign you in and contact you the way you chose"),
            "how_long": until_erased,
        },
        {
            "key": "customer",
            "what": _("What each dealer group knows about you: name, phones, address, ID number"),
            "why": _("To serve you and your car at their stores"),
            "how_long": until_erased,
        },
        {
            "key": "cars",
            "what": _("Your cars and how you bound them"),
            "why": _("To show your car, remind you of maintenance and book visits"),
            "how_long": until_erased,
        },
        {
            "key": "visits",
            "what": _("Appointments, repair orders, invoices and surveys"),
            "why": _("To carry out and bill the work; invoices are kept as the law requires"),
            "how_long": _("Invoices and their totals are kept without your name after erasure"),
        },
        {
            "key": "complaints",
            "what": _("Complaints you made, their conversation and photos"),
            "why": _("To resolve your complaint and improve the service"),
            "how_long": _("The complaint is counted in the store's figures without your words"),
        },
        {
            "key": "photos",
            "what": _("Photos you or the workshop took of your car"),
            "why": _("To show the car's condition and the work needed"),
            "how_long": _days(days["photos"]),
        },
        {
            "key": "messages",
            "what": _("Messages we sent you (app, SMS, e-mail)"),
            "why": _("Your inbox and proof of what we told you"),
            "how_long": _days(days["messages"]),
        },
        {
            "key": "points",
            "what": _("Points, vouchers and badges"),
            "why": _("Your loyalty membership; the points ledger is accounting"),
            "how_long": _("Amounts are kept without your identity after erasure"),
        },
        {
            "key": "telemetry",
            "what": _("Positions and readings from your connected car (only with your consent)"),
            "why": _("Health record, mileage reminders, parked-car and theft alerts"),
            "how_long": _days(days["telemetry"]),
        },
        {
            "key": "audit",
            "what": _("Who among the staff looked at or changed your records"),
            "why": _("To keep staff accountable"),
            "how_long": _days(days["audit"]),
        },
    ]
