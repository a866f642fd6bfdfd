"""An owner with data in every area, and another owner beside them (for isolation)."""

import datetime as dt
import io

from django.utils import timezone
from PIL import Image

from m4s.core.uploads import clean_image

OWNER_NAME = "Wang Xiaoming"
OWNER_EMAIL = "wang.xiaoming@example.com"
ID_NUMBER = "11010519491231002X"
ADDRESS = "88 Jianguo Road, Chaoyang"
PROBLEM = "Rattle from the boot when I drive to my mother's"
SYMPTOMS = "Noise near Xiaoming's child seat"
COMMENT = "Xiaoming was unhappy with the wait"
FENCE = "Xiaoming home"
LEADERBOARD = "XiaomingW"


def png() -> io.BytesIO:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    buf.seek(0)
    buf.name = "p.png"
    return buf


def owner_everywhere(w):
    """w.owner: profile and consents, a customer in both groups (ID number, address), a bound
    car with telemetry, a booked visit with a photo, a settled repair order with its invoice
    and a photo, a survey, messages, points, a voucher-free ledger, tokens and sign-in codes,
    a geofence. w.owner_b has a customer, a membership and messages of their own."""
    from m4s.customers import services as customer_services
    from m4s.identity import services as identity
    from m4s.loyalty import services as loyalty
    from m4s.notify.services import send_message
    from m4s.owners.services import update_owner_profile
    from m4s.service.models import Appointment, AppointmentPhoto, RepairPhoto, Survey
    from m4s.service.tests.helpers import ready_order
    from m4s.telematics import services as telematics
    from m4s.telematics.models import Geofence
    from m4s.telematics.writer import write_batch

    now = timezone.now()
    w.owner = update_owner_profile(
        w.owner,
        {"name": OWNER_NAME, "email": OWNER_EMAIL, "telematics_consent": True},
    )
    customer = w.customer
    customer.address = ADDRESS
    customer.name = OWNER_NAME
    customer_services.set_id_number(customer, ID_NUMBER)
    customer.save()
    w.customer_in_b = customer_services.get_or_create_customer_for_owner(w.owner, w.store_b)
    w.customer_in_b.address = ADDRESS
    w.customer_in_b.name = OWNER_NAME
    w.customer_in_b.save()
    # a visit booked with a photo of the problem
    appointment = Appointment.objects.create(
        dealer_group=w.group_a,
        store=w.store_a,
        customer=customer,
        vehicle=w.my_car,
        owner=w.owner,
        advisor=w.advisor_a,
        starts_at=now + dt.timedelta(days=3),
        date=(now + dt.timedelta(days=3)).date(),
        problem=PROBLEM,
        status="cancelled",
        channel="app",
    )
    AppointmentPhoto.objects.create(
        dealer_group=w.group_a, appointment=appointment, image=clean_image(png())
    )
    # a settled repair order with its invoice and a walk-round photo; a survey answered
    w.ro, _lines = ready_order(w, symptoms=SYMPTOMS, settle=True)
    RepairPhoto.objects.create(
        dealer_group=w.group_a, repair_order=w.ro, kind="walk_round", image=clean_image(png())
    )
    Survey.objects.create(
        dealer_group=w.group_a,
        repair_order=w.ro,
        store=w.store_a,
        customer=customer,
        owner=w.owner,
        advisor=w.advisor_a,
        status="answered",
        available_at=now,
        expires_at=now + dt.timedelta(days=14),
        answered_at=now,
        quality=4,
        nps=3,
        comment=COMMENT,
    )
    # messages, points, sign-in records
    send_message(channel="inapp", owner=w.owner, group=w.group_a, kind="system", body="Hello A")
    send_message(channel="sms", to=w.owner.phone, kind="otp", body="Your code")
    send_message(channel="inapp", owner=w.owner_b, group=w.group_b, kind="system", body="Hi B")
    w.member.leaderboard_name = LEADERBOARD
    w.member.save()
    loyalty.adjust(w.admin_a, w.member, 120, reason="welcome gift", key="privacy-test-1")
    w.owner_token = identity.issue_token(owner=w.owner)
    identity.request_otp(w.owner.phone, "10.0.0.1")
    # the car reports positions; an alarm; a geofence (owned for a month already)
    from m4s.vehicles.models import VehicleOwnership

    VehicleOwnership.objects.unscoped().filter(vehicle=w.my_car).update(
        started_at=now - dt.timedelta(days=30)
    )
    w.device, _secret = telematics.register_device(
        w.admin_a, device_id="obd-p1", protocol="http", vehicle=w.my_car
    )
    base = now - dt.timedelta(hours=2)
    write_batch(
        w.device,
        [
            {
                "device_id": "obd-p1",
                "seq": i,
                "ts": (base + dt.timedelta(minutes=i)).isoformat(),
                "lat": 39.9 + i / 1000,
                "lon": 116.4,
                "speed_kmh": 30,
                "odometer_km": 18600 + i,
                "odometer_source": "can",
                "alarm": "theft" if i == 5 else None,
            }
            for i in range(1, 8)
        ],
        via="http",
    )
    Geofence.objects.create(
        dealer_group=w.group_a, vehicle=w.my_car, name=FENCE, lat=39.9, lon=116.4, radius_m=300
    )
    return w


def secrets_of(w) -> set[str]:
    """Strings that are the owner's personal data and must be nowhere after erasure."""
    return {
        w.owner.phone,
        OWNER_NAME,
        OWNER_EMAIL,
        ID_NUMBER,
        ADDRESS,
        PROBLEM,
        SYMPTOMS,
        COMMENT,
        FENCE,
        LEADERBOARD,
        w.customer.phone,
    }
