"""Uploaded pictures: random names, real raster images only, no EXIF location, and served only
through the access-checked media view (never a public MEDIA_ROOT route)."""

import io
import re
from pathlib import Path

import pytest
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import models
from django.test import Client
from PIL import Image

from m4s.core.errors import DomainError
from m4s.core.tests.factories import PASSWORD, OwnerFactory, StoreFactory, make_staff
from m4s.core.uploads import ProtectedImageField, clean_image, protected_fields
from m4s.customers.services import get_or_create_customer_for_owner
from m4s.org.models import SplashPicture, Store
from m4s.owners.middleware import SESSION_KEY
from m4s.service import booking as booking_services
from m4s.service import workshop as workshop_services
from m4s.service.models import AppointmentPhoto, RepairPhoto
from m4s.service.tests.helpers import at
from m4s.staff.choices import Role

pytestmark = pytest.mark.django_db

GPS_IFD = 0x8825
ORIENTATION = 0x0112
SVG = (
    b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(document.cookie)</script></svg>"
)


def jpeg_with_gps(size=(40, 20), orientation=None) -> bytes:
    """A JPEG as a phone writes it: GPS position (Beijing) and camera details in its EXIF."""
    picture = Image.new("RGB", size, (200, 30, 30))
    picture.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    if orientation:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 15.0), 3: "E", 4: (116.0, 23.0, 30.0)})
    out = io.BytesIO()
    picture.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD)  # the test input has GPS
    return data


def png_bytes(colour=(20, 120, 20)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (16, 16), colour).save(out, "PNG")
    return out.getvalue()


def owner_client(owner) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    return client


def staff_client(username) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert client.login(username=username, password=PASSWORD)
    return client


def book_with_photo(w, data: bytes, name="IMG_0001.jpg"):
    """The owner books a diagnosis through the app with one photo of the problem."""
    client = owner_client(w.owner)
    form = {
        "idempotency_key": "problem-photo-1",
        "vehicle": w.my_car.pk,
        "service": "problem",
        "problem": "Squeak from the front wheels",
        "store": w.store_a.pk,
        "mode": "waiting",
        "slot": at(w.day, 14, 0, w.store_a).isoformat(),
        "photos": [SimpleUploadedFile(name, data, content_type="image/jpeg")],
    }
    r = client.post("/app/service/book/", form)
    assert r.status_code == 302, r.content.decode()[:2000]
    return AppointmentPhoto.objects.for_group(w.group_a).get()


@pytest.fixture
def people(workshop):
    """Who tries to open a photo: the owner, another owner of the same group, staff of the
    store, staff of another store of the same group, the other group's staff, nobody."""
    w = workshop
    w.other_owner = OwnerFactory(home_store=w.store_a)
    get_or_create_customer_for_owner(w.other_owner, w.store_a)
    w.store_a2 = StoreFactory(dealer_group=w.group_a, name="Alpha West")
    w.advisor_a2 = make_staff("advisor-west", Role.SERVICE_ADVISOR, w.group_a, [w.store_a2])
    return w


def visitors(w) -> dict[str, Client]:
    return {
        "owner": owner_client(w.owner),
        "other owner": owner_client(w.other_owner),
        "other group's owner": owner_client(w.owner_b),
        "store staff": staff_client("advisor-a"),
        "group admin": staff_client("admin-a"),
        "other store's staff": staff_client("advisor-west"),
        "other group's staff": staff_client("advisor-b"),
        "other group's admin": staff_client("admin-b"),
        "anonymous": Client(),
    }


ALLOWED = {"owner", "store staff", "group admin"}


def test_owner_photo_is_served_only_to_the_owner_and_their_store_staff(people):
    w = people
    photo = book_with_photo(w, jpeg_with_gps())
    stored = photo.image.name
    assert re.fullmatch(r"service-problems/[0-9a-f]{32}\.jpg", stored), stored
    assert "IMG_0001" not in stored
    url = photo.image.url
    assert url == f"/media/service-problems/{photo.pk}/{Path(stored).name}"
    for who, client in visitors(w).items():
        r = client.get(url)
        assert r.status_code == (200 if who in ALLOWED else 404), who
        if r.status_code == 200:
            assert r["Content-Type"] == "image/jpeg" and r["X-Content-Type-Options"] == "nosniff"
            assert "private" in r["Cache-Control"]
            served = Image.open(io.BytesIO(b"".join(r.streaming_content)))
            assert served.format == "JPEG" and not served.getexif().get_ifd(GPS_IFD)
    # The old public paths answer 404 to everyone, the owner included.
    owner = owner_client(w.owner)
    assert owner.get(f"/media/{stored}").status_code == 404
    assert owner.get("/media/service/problems/2026/12/IMG_0001.jpg").status_code == 404
    # A URL with another file name, or another area's id, shows nothing.
    assert owner.get(f"/media/service-problems/{photo.pk}/other.jpg").status_code == 404
    assert owner.get(f"/media/service-ro/{photo.pk}/{Path(stored).name}").status_code == 404
    # The store's console page links the protected URL.
    console = staff_client("advisor-a").get(
        f"/console/service/appointments/{photo.appointment_id}/"
    )
    assert f'src="{url}"' in console.content.decode()


def test_files_stored_under_old_names_are_served_to_the_right_people_only(people, settings):
    w = people
    photo = book_with_photo(w, jpeg_with_gps())
    old_name = "service/problems/2026/11/IMG_0001.jpg"
    old_path = Path(settings.MEDIA_ROOT) / old_name
    old_path.parent.mkdir(parents=True)
    old_path.write_bytes(png_bytes())  # content does not matter: the extension picks the type
    AppointmentPhoto.objects.for_group(w.group_a).filter(pk=photo.pk).update(image=old_name)
    photo.refresh_from_db()
    url = photo.image.url
    assert url == f"/media/service-problems/{photo.pk}/IMG_0001.jpg"
    for who, client in visitors(w).items():
        assert client.get(url).status_code == (200 if who in ALLOWED else 404), who
    assert owner_client(w.owner).get(f"/media/{old_name}").status_code == 404


def test_walk_round_photo_is_seen_by_the_repair_orders_owner_and_its_store(people):
    w = people
    appointment, _created = booking_services.book_appointment(
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=at(w.day, 9, store=w.store_a),
        package_id=w.s10k.pk,
        owner=w.owner,
    )
    ro = workshop_services.check_in(
        w.advisor_a,
        store=w.store_a,
        appointment=appointment,
        odometer=18620,
        fuel_pct=40,
        photos=[SimpleUploadedFile("walkround.jpg", jpeg_with_gps())],
    )
    photo = RepairPhoto.objects.for_group(w.group_a).get(repair_order=ro)
    assert re.fullmatch(r"service-ro/[0-9a-f]{32}\.jpg", photo.image.name)
    with photo.image.open("rb") as f:
        assert not Image.open(f).getexif().get_ifd(GPS_IFD)
    for who, client in visitors(w).items():
        assert client.get(photo.image.url).status_code == (200 if who in ALLOWED else 404), who


def test_gps_and_every_other_exif_tag_are_removed_and_orientation_is_applied():
    cleaned = clean_image(SimpleUploadedFile("p.jpg", jpeg_with_gps(orientation=6)))
    picture = Image.open(cleaned)
    assert picture.format == "JPEG" and cleaned.name == "image.jpg"
    assert not picture.getexif()  # no GPS, no camera, no orientation left
    assert picture.size == (20, 40)  # turned upright as the camera meant it
    # The blue half that was on the left is now on top (orientation 6: 90° clockwise).
    top, bottom = picture.getpixel((10, 5)), picture.getpixel((10, 35))
    assert top[2] > top[0] and bottom[0] > bottom[2]


def exif_of(data) -> Image.Exif:
    picture = Image.open(data if hasattr(data, "read") else io.BytesIO(data))
    picture.load()  # a PNG's eXIf chunk is read with the pixels
    return picture.getexif()


@pytest.mark.parametrize("fmt", ["PNG", "WEBP"])
def test_exif_is_removed_from_png_and_webp_too(fmt):
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    exif.get_ifd(GPS_IFD).update({1: "N", 2: (39.0, 54.0, 15.0)})
    out = io.BytesIO()
    Image.new("RGBA", (12, 12), (10, 20, 30, 128)).save(out, fmt, exif=exif)
    assert exif_of(out.getvalue()).get_ifd(GPS_IFD)  # the test input has GPS
    cleaned = clean_image(ContentFile(out.getvalue(), name="x"))
    data = cleaned.read()
    assert Image.open(io.BytesIO(data)).format == fmt
    assert not exif_of(data) and b"PhoneMaker" not in data
    assert Image.open(io.BytesIO(data)).mode == "RGBA"  # transparency kept


@pytest.mark.parametrize(
    "data",
    [
        SVG,
        b"<html><script>alert(1)</script></html>",
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00;",
        b"",
        png_bytes()[:40],  # a truncated picture
    ],
    ids=["svg", "html", "gif", "empty", "truncated"],
)
def test_anything_but_a_real_jpeg_png_or_webp_is_refused(data):
    with pytest.raises(DomainError) as e:
        clean_image(SimpleUploadedFile("logo.png", data, content_type="image/png"))
    assert e.value.code == "invalid_image" and e.value.status == 400


def test_an_svg_never_reaches_storage_through_the_model(world, settings):
    with pytest.raises(DomainError) as e:
        world.store_a.logo.save("logo.svg", ContentFile(SVG), save=True)
    assert e.value.code == "invalid_image"
    assert not Store.objects.unscoped().get(pk=world.store_a.pk).logo
    assert not (Path(settings.MEDIA_ROOT) / "branding-logos").exists()


def _store_form(**extra) -> dict:
    form = {
        "name": "Alpha East",
        "code": "east",
        "timezone": "Asia/Shanghai",
        "brand_colour": "#123456",
        "is_active": "on",
        **{
            f"{p}-{k}": "0"
            for p in ("business_hours", "holidays", "emergency_numbers", "splash_pictures")
            for k in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    }
    form.update(extra)
    return form


def test_back_office_refuses_an_svg_logo_or_splash_picture(world):
    client = staff_client("admin-a")
    r = client.post(
        "/admin/org/store/add/",
        _store_form(logo=SimpleUploadedFile("logo.svg", SVG, content_type="image/svg+xml")),
    )
    assert r.status_code == 200
    errors = r.context["adminform"].form.errors.as_data()
    assert [e.code for e in errors["logo"]] == ["invalid_image"]
    r = client.post(
        "/admin/org/store/add/",
        _store_form(
            logo=SimpleUploadedFile("logo.png", SVG, content_type="image/png"),  # renamed SVG
        ),
    )
    assert r.status_code == 200 and "logo" in r.context["adminform"].form.errors
    r = client.post(
        "/admin/org/store/add/",
        _store_form(
            **{
                "splash_pictures-TOTAL_FORMS": "1",
                "splash_pictures-0-image": SimpleUploadedFile("s.svg", SVG),
                "splash_pictures-0-position": "0",
            }
        ),
    )
    assert r.status_code == 200
    assert not Store.objects.for_group(world.group_a).filter(code="east").exists()
    assert not SplashPicture.objects.unscoped().exists()


def test_store_logo_and_splash_are_public_branding_but_never_svg(world, settings):
    client = staff_client("admin-a")
    r = client.post(
        "/admin/org/store/add/",
        _store_form(
            logo=SimpleUploadedFile("our logo.png", png_bytes(), content_type="image/png"),
            **{
                "splash_pictures-TOTAL_FORMS": "1",
                "splash_pictures-0-image": SimpleUploadedFile("splash.jpg", jpeg_with_gps()),
                "splash_pictures-0-position": "0",
            },
        ),
    )
    assert r.status_code == 302, r.content.decode()[:2000]
    store = Store.objects.for_group(world.group_a).get(code="east")
    splash = store.splash_pictures.get()
    assert re.fullmatch(r"branding-logos/[0-9a-f]{32}\.png", store.logo.name)
    assert re.fullmatch(r"branding-splash/[0-9a-f]{32}\.jpg", splash.image.name)
    for url in (store.logo.url, splash.image.url):
        r = Client().get(url)  # the sign-in page shows them: no session needed
        assert r.status_code == 200 and "public" in r["Cache-Control"]
        assert r["Content-Type"] in ("image/png", "image/jpeg")
    assert not Image.open(splash.image.path).getexif().get_ifd(GPS_IFD)
    # An SVG stored before uploads were checked is not served, even as branding.
    old = Path(settings.MEDIA_ROOT) / "branding/logos/old.svg"
    old.parent.mkdir(parents=True)
    old.write_bytes(SVG)
    Store.objects.for_group(world.group_a).filter(pk=store.pk).update(logo="branding/logos/old.svg")
    store.refresh_from_db()
    assert Client().get(store.logo.url).status_code == 404
    assert staff_client("admin-a").get(store.logo.url).status_code == 404


def test_staff_photo_is_seen_by_colleagues_and_the_owners_they_look_after(cars):
    w = cars
    w.advisor_a.photo.save("me.jpg", ContentFile(jpeg_with_gps()), save=True)
    url = w.advisor_a.photo.url
    assert re.fullmatch(rf"/media/staff-photos/{w.advisor_a.pk}/[0-9a-f]{{32}}\.jpg", url)
    assert staff_client("tech-a").get(url).status_code == 200
    assert staff_client("advisor-b").get(url).status_code == 404
    assert Client().get(url).status_code == 404
    assert owner_client(w.owner_b).get(url).status_code == 404
    # The owner of the customer record the advisor looks after sees their advisor's photo.
    assert owner_client(w.owner).get(url).status_code == 404
    w.customer = get_or_create_customer_for_owner(w.owner, w.store_a)
    w.customer.service_advisor = w.advisor_a
    w.customer.save(update_fields=["service_advisor"])
    assert owner_client(w.owner).get(url).status_code == 200


def test_production_web_server_sends_the_file_after_the_check(people, settings):
    w = people
    photo = book_with_photo(w, jpeg_with_gps())
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    r = owner_client(w.owner).get(photo.image.url)
    assert r.status_code == 200 and r.content == b""
    assert r["X-Accel-Redirect"] == f"/protected-media/{photo.image.name}"
    assert r["Content-Type"] == "image/jpeg"
    r = owner_client(w.other_owner).get(photo.image.url)
    assert r.status_code == 404 and not r.has_header("X-Accel-Redirect")
    settings.MEDIA_ACCEL_REDIRECT_PREFIX = ""
    settings.MEDIA_X_SENDFILE = True
    r = staff_client("advisor-a").get(photo.image.url)
    assert r.status_code == 200 and r["X-Sendfile"] == photo.image.path
    assert Client().get(photo.image.url).status_code == 404


def test_every_uploaded_file_field_is_protected():
    """No model keeps a plain FileField/ImageField (it would be stored under the sent name and
    linked at a public MEDIA_URL path)."""
    fields = [
        (model.__name__, field.name, type(field).__name__)
        for model in apps.get_models()
        for field in model._meta.get_fields()
        if isinstance(field, models.FileField)
    ]
    assert fields and all(kind == ProtectedImageField.__name__ for _m, _f, kind in fields), fields
    assert set(protected_fields()) == {
        "service-problems",
        "service-ro",
        "branding-logos",
        "branding-splash",
        "staff-photos",
        "complaints",
        "conversations",
        "content-covers",
        "content-gallery",
        "content-magazines",
        "event-covers",
        "event-photos",
        "scratch-photos",
        "community-stories",
        "catalogue-logos",
        "catalogue-covers",
        "catalogue-pictures",
        "trade-in-photos",
        "rescue-photos",
    }


# The API's only file uploads: each passes its file through `core.uploads.clean_image` (re-encoded,
# size-capped, images only; the complaints tests send a non-image and an SVG and get 4xx).
API_UPLOADS = {
    ("post", "/api/v1/me/complaints/{complaint_id}/photos"),
    ("post", "/api/v1/me/conversations/{conversation_id}/messages/photos"),
    ("post", "/api/v1/staff/conversations/{conversation_id}/messages/photos"),
    ("post", "/api/v1/me/stories"),
    ("post", "/api/v1/me/assistance/scratch-photos"),
    ("post", "/api/v1/me/rescue-cases/{case_id}/photos"),
}


def test_no_api_endpoint_takes_a_file_except_the_cleaned_image_uploads(api_client):
    """Uploads go through the pages, the back office and the listed API endpoints, which clean
    them; no other multipart body lets an SVG or an unchecked file in."""
    schema = api_client.get("/api/v1/openapi.json").json()
    uploads = set()
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "multipart/form-data" in content or "binary" in str(content):
                uploads.add((method, path))
    assert uploads == API_UPLOADS


def test_the_media_root_is_not_routed(settings):
    from django.urls import resolve
    from django.urls.exceptions import Resolver404

    assert settings.MEDIA_URL == "/media/"
    with pytest.raises(Resolver404):
        resolve("/media/branding-logos/x.png")


def test_api_clients_fetch_the_photo_urls_the_api_lists_with_their_token(people, api_client):
    from m4s.core.tests.factories import owner_token, staff_token

    w = people
    appointment, _created = booking_services.book_appointment(
        customer=w.customer,
        vehicle=w.my_car,
        store=w.store_a,
        starts_at=at(w.day, 9, store=w.store_a),
        package_id=w.s10k.pk,
        owner=w.owner,
    )
    ro = workshop_services.check_in(
        w.advisor_a, store=w.store_a, appointment=appointment, odometer=18620, fuel_pct=40
    )
    points = {p.name: p.pk for p in w.template.points.all()}
    results = [
        {"point_id": pk, "rating": "red" if name == "Front brake pads" else "green"}
        for name, pk in points.items()
    ]
    saved = {r.point_id: r for r in workshop_services.record_inspection(w.tech_a, ro, results)}
    pads = saved[points["Front brake pads"]]
    workshop_services.add_inspection_photo(
        w.tech_a, ro, pads.pk, SimpleUploadedFile("pads.jpg", jpeg_with_gps())
    )
    workshop_services.complete_inspection(w.tech_a, ro)
    token = owner_token(w.owner)
    body = api_client.get(f"/api/v1/me/repair-orders/{ro.pk}", token=token).json_body
    urls = [url for line in body["lines"] for url in line["photos"]]
    assert len(urls) == 1 and re.fullmatch(r"/media/service-ro/\d+/[0-9a-f]{32}\.jpg", urls[0])
    bearer = {
        "owner": owner_token(w.owner),
        "store staff": staff_token(w.advisor_a),
        "other owner": owner_token(w.other_owner),
        "other group's owner": owner_token(w.owner_b),
        "other group's staff": staff_token(w.advisor_b),
        "other store's staff": staff_token(w.advisor_a2),
        "a made-up token": "m4s_" + "x" * 40,
    }
    for who, key in bearer.items():
        r = Client().get(urls[0], HTTP_AUTHORIZATION=f"Bearer {key}")
        assert r.status_code == (200 if who in ALLOWED else 404), who
