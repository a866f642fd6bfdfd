"""Online-service requests: an owner's requests (what they asked, their details, the history
both sides see, offers, test-drive feedback, trade-in photos) (m4s/privacy/registry.py).
Erasure deletes the owner's requests with their history, offers, bookings and photos; the
group's figures lose them."""

from m4s.core.personal_data import rows

from .models import RequestKey, ServiceRequest, TradeInPhoto

PERSONAL_FIELDS = {
    "requests.ServiceRequest": {"details", "decline_reason", "created_at", "scheduled_for"},
    "requests.RequestEvent": {"params"},
    "requests.RequestQuote": {"lines"},
    "requests.TestDriveBooking": {"feedback", "slot_start"},
    "requests.TradeInPhoto": {"image"},
    "requests.RequestKey": {"response"},
}
NOT_PERSONAL = {
    "requests.ServiceRequest": {
        "kind": "a kind of request from a fixed list",
        "role": "the staff role a request goes to",
    },
    "requests.RequestEvent": {"code": "a message template of the software"},
    "requests.RequestQuote": {"label": "the dealer's offer name (insurer, body shop)"},
    "requests.RequestKindSetting": {
        "kind": "a group's settings",
        "role": "a group's settings",
    },
    "requests.TestDriveCar": {"plate": "a dealer's demonstration car"},
    "requests.RequestKey": {
        "key": "a random retry key the app made",
        "fingerprint": "a hash of the request body",
    },
}


def _requests(owner):
    return ServiceRequest.objects.unscoped().filter(owner=owner)


def export_owner(owner) -> dict:
    photos = list(TradeInPhoto.objects.unscoped().filter(request__owner=owner))
    return {
        "rows": {
            "service_requests": rows(
                _requests(owner).select_related("store").order_by("created_at"),
                [
                    "kind",
                    "status",
                    "store.name",
                    "details",
                    "scheduled_for",
                    "decline_reason",
                    "created_at",
                ],
            ),
        },
        "files": [p.image.name for p in photos if p.image],
    }


def erase_owner(owner) -> dict:
    from .models import TestDriveBooking

    for p in TradeInPhoto.objects.unscoped().filter(request__owner=owner):
        if p.image:
            p.image.delete(save=False)
    TestDriveBooking.objects.unscoped().filter(request__owner=owner).delete()
    n, _ = _requests(owner).delete()
    RequestKey.objects.filter(owner=owner).delete()
    return {"online-service requests deleted": n}
