"""Care: an owner's reminders, traffic violations, insurance policies, driving licence and the
services they said were done elsewhere (m4s/privacy/registry.py).

Erasure deletes the owner's reminders (their words are built from the owner's data: name, plate,
policy, violation), violations, insurance policies and licence. A service done elsewhere is kept
for the retention figures (kind and date) with its odometer reading removed and no reminder
behind it; the customer row it points to is anonymised by the customers area."""

from django.db.models import Q

from m4s.core.personal_data import rows

from .models import DoneElsewhere, DrivingLicence, InsurancePolicy, Reminder, Violation

PERSONAL_FIELDS = {
    "care.Reminder": {"payload", "action_url"},
    "care.InsurancePolicy": {"insurer", "policy_number", "ends_on", "starts_on"},
    "care.DrivingLicence": {"expires_on", "licence_class"},
    "care.Violation": {"place", "description", "occurred_at", "fine_cny", "code"},
    "care.DoneElsewhere": {"odometer_km"},
}
NOT_PERSONAL = {
    "care.ReminderRule": {
        "title": "a group's template (placeholders, no owner's data)",
        "title_i18n": "a group's template",
        "body": "a group's template",
        "body_i18n": "a group's template",
    },
    "care.GreetingDay": {
        "name": "catalogue: a festival of the group's calendar",
        "name_i18n": "catalogue",
        "message": "the group's greeting text",
        "message_i18n": "the group's greeting text",
    },
    "care.WeatherWarning": {
        "latitude": "a city's centre, not a person's position",
        "longitude": "a city's centre, not a person's position",
    },
    "care.IntegrationKey": {"name": "the name of an outside system"},
    "care.Reminder": {"due_on": "when a reminder falls due (no data of its own)"},
    "care.DoneElsewhere": {"done_on": "kept for the retention figures, without the owner"},
}


def _mine(model, owner):
    return model.objects.unscoped().filter(customer__owner=owner)


def export_owner(owner) -> dict:
    reminders = (
        Reminder.objects.unscoped()
        .filter(Q(customer__owner=owner) | Q(owner=owner))
        .select_related("vehicle")
        .order_by("due_on", "id")
    )
    return {
        "rows": {
            "reminders": rows(
                reminders,
                [
                    "kind",
                    "vehicle.plate",
                    "due_on",
                    "status",
                    "snoozed_until",
                    "created_at",
                    "sent_at",
                    "closed_at",
                    "payload",
                ],
            ),
            "traffic_violations": rows(
                _mine(Violation, owner).select_related("vehicle").order_by("occurred_at"),
                [
                    "vehicle.plate",
                    "occurred_at",
                    "place",
                    "code",
                    "description",
                    "fine_cny",
                    "points",
                    "status",
                    "source",
                ],
            ),
            "insurance_policies": rows(
                _mine(InsurancePolicy, owner).select_related("vehicle").order_by("ends_on"),
                ["vehicle.plate", "insurer", "policy_number", "cover", "starts_on", "ends_on"],
            ),
            "driving_licence": rows(_mine(DrivingLicence, owner), ["licence_class", "expires_on"]),
            "services_done_elsewhere": rows(
                _mine(DoneElsewhere, owner).select_related("vehicle").order_by("done_on"),
                ["kind", "vehicle.plate", "done_on", "odometer_km", "created_at"],
            ),
        },
        "files": [],
    }


def erase_owner(owner) -> dict:
    elsewhere = _mine(DoneElsewhere, owner).update(odometer_km=None, reminder=None)
    reminders, _ = (
        Reminder.objects.unscoped().filter(Q(customer__owner=owner) | Q(owner=owner)).delete()
    )
    violations, _ = _mine(Violation, owner).delete()
    policies, _ = _mine(InsurancePolicy, owner).delete()
    licences, _ = _mine(DrivingLicence, owner).delete()
    return {
        "reminders deleted": reminders,
        "traffic violations deleted": violations,
        "insurance policies deleted": policies,
        "driving licences deleted": licences,
        "services done elsewhere kept without details": elsewhere,
    }
