"""The store-services tests' world (on top of the service `workshop`): group A's fees, a rental
car, a course with a one-place session, two open violations on the test owner's car; a second
owner of group A (another owner) and group B's owner (another group) who see nothing."""

import datetime as dt
import io
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from m4s.assistance import services
from m4s.care.violations import ViolationInput, record_violation_by_staff
from m4s.core.tests.factories import OwnerFactory, make_staff
from m4s.customers import services as customer_services
from m4s.staff.choices import Role


def png(name="damage.png") -> SimpleUploadedFile:
    buf = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(buf, "PNG")
    return SimpleUploadedFile(name, buf.getvalue(), content_type="image/png")


@pytest.fixture
def aw(workshop):
    w = workshop
    w.cs_a = getattr(w, "cs_a", None) or make_staff(
        "cs-a", Role.CUSTOMER_SERVICE, w.group_a, [w.store_a]
    )
    services.save_fee(
        w.admin_a,
        kind="inspection",
        name="Inspection agency",
        fee="150.00",
        name_i18n={"zh-hans": "年检代办"},
    )
    services.save_fee(w.admin_a, kind="violation", name="Violation clearing", fee="30.00")
    w.rental_car = services.save_rental_car(
        w.admin_a,
        store_id=w.store_a.pk,
        name="Corolla",
        model="Toyota Corolla",
        plate="京R00001",
        seats=5,
        price_per_day="199.00",
        deposit="2000.00",
    )
    w.rental_car_b = services.save_rental_car(
        w.admin_b,
        store_id=w.store_b.pk,
        name="Civic",
        plate="沪R00001",
        seats=5,
        price_per_day="180.00",
        deposit="1500.00",
    )
    w.course = services.save_course(
        w.admin_a, title="New-driver basics", price="300.00", store_id=w.store_a.pk
    )
    start = timezone.now() + dt.timedelta(days=5)
    w.session = services.add_session(
        w.admin_a,
        w.course,
        starts_at=start,
        ends_at=start + dt.timedelta(hours=2),
        capacity=1,
        instructor="Coach Wang",
    )
    w.v1 = record_violation_by_staff(
        w.advisor_a,
        w.my_car.pk,
        ViolationInput(
            occurred_at=timezone.now() - dt.timedelta(days=3),
            description="Speeding",
            fine_cny="200",
            points=3,
        ),
    )
    w.v2 = record_violation_by_staff(
        w.advisor_a,
        w.my_car.pk,
        ViolationInput(
            occurred_at=timezone.now() - dt.timedelta(days=2),
            description="Red light",
            fine_cny="200",
            points=6,
        ),
    )
    w.owner2 = OwnerFactory(home_store=w.store_a)
    w.customer2 = customer_services.get_or_create_customer_for_owner(w.owner2, w.store_a)
    w.customer_b = customer_services.get_or_create_customer_for_owner(w.owner_b, w.store_b)
    w.today = timezone.localdate()
    w.fee = Decimal("30.00")
    return w
