import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def png(colour=(200, 40, 40), size=(64, 48), name="p.png") -> SimpleUploadedFile:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, "PNG")
    return SimpleUploadedFile(name, out.getvalue(), content_type="image/png")


@pytest.fixture
def community(club):
    """The loyalty club of both groups, plus two more owners in group A (a liker and a
    commenter) and a group A moderator without other powers (customer service)."""
    from m4s.core.tests.factories import OwnerFactory, make_staff
    from m4s.customers.services import get_or_create_customer_for_owner
    from m4s.staff.choices import Role

    w = club
    w.fan = OwnerFactory(home_store=w.store_a, name="Fan Owner")
    w.fan_customer = get_or_create_customer_for_owner(w.fan, w.store_a)
    w.third = OwnerFactory(home_store=w.store_a, name="Third Owner")
    w.third_customer = get_or_create_customer_for_owner(w.third, w.store_a)
    w.moderator_a = make_staff("cs-mod-a", Role.CUSTOMER_SERVICE, w.group_a, [w.store_a])
    return w
