"""Rescue end to end: the SOS button opens exactly one case; the directory; dispatching a tow
and its status steps; the insurer's first notice of loss (sent once, with the report and the
owner's photos); photos; the case's repair order paid by insurance; isolation."""

import datetime as dt
import io

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone
from PIL import Image

from m4s.core.tests.factories import owner_token, staff_token
from m4s.notify.models import Message
from m4s.owners.middleware import SESSION_KEY
from m4s.telematics import rescue, services
from m4s.telematics.models import (
    AlarmEvent,
    RescueCase,
    RescuePhoto,
    RescueStep,
    TowPartner,
)


def _post(client, token, batch):
    return client.post(
        "/api/v1/telematics/ingest",
        batch,
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )


def _m(seq, seconds_ago, **kw):
    ts = timezone.now() - dt.timedelta(seconds=seconds_ago)
    return {"device_id": "tbox-r1", "seq": seq, "ts": ts.isoformat(), **kw}


def owner_client(owner) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    return client


def _png(color=(200, 30, 30)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), color).save(out, "PNG")
    return out.getvalue()


@pytest.fixture
def rescue_world(workshop):
    """The test owner's car (group A) with an HTTP terminal, and both groups' directories."""
    w = workshop
    w.device, secret = services.register_device(
        w.admin_a, device_id="tbox-r1", protocol="http", vehicle=w.my_car
    )
    w.token = services.token_for(w.device, secret)
    w.my_car.insurer = "PICC Property"
    w.my_car.save()
    w.tow_a = rescue.save_tow_partner(
        w.admin_a,
        name="Jingcheng Tow",
        phone="010-5555",
        service_area="Beijing",
        email="tow@example.com",
    )
    w.insurer_a = rescue.save_insurer(
        w.admin_a, name="PICC", phone="95518", email="claims@picc.example", service_area="China"
    )
    w.tow_b = rescue.save_tow_partner(
        w.admin_b, name="Huangpu Tow", phone="021-5555", email="tow@b.example"
    )
    w.insurer_b = rescue.save_insurer(
        w.admin_b, name="Ping An", phone="95511", email="claims@pingan.example"
    )
    return w


def _sos_case(w, client):
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = _post(client, w.token, [_m(1, 30, lat=39.91, lon=116.40, speed_kmh=0, alarm="sos")])
    assert r.status_code == 200, r.content
    return RescueCase.objects.for_group(w.group_a).get()


def test_sos_opens_exactly_one_case_and_repeats_join(rescue_world, client):
    w = rescue_world
    case = _sos_case(w, client)
    assert case.kind == "sos" and case.store == w.store_a and case.customer == w.customer
    again = [_m(seq, 30 - seq, lat=39.91, lon=116.40, alarm="sos") for seq in (2, 3)]
    _post(client, w.token, again)  # the owner keeps pressing the button
    _post(client, w.token, again[1:])  # a message the terminal sends again
    assert AlarmEvent.objects.for_group(w.group_a).filter(kind="sos").count() == 3
    case = RescueCase.objects.for_group(w.group_a).get()
    assert case.repeats == 2
    kinds = list(RescueStep.objects.for_group(w.group_a).values_list("kind", flat=True))
    assert kinds == ["opened", "alarm", "alarm"]
    # the owner is told with a link to the case page, not a theft alert
    msg = Message.objects.filter(kind="rescue.opened").first()
    assert msg is not None and msg.link == f"/app/rescue/{case.pk}/"
    assert not Message.objects.filter(kind="car.theft").exists()


def test_a_crash_still_opens_a_case_and_a_sos_joins_it(rescue_world, client):
    w = rescue_world
    _post(client, w.token, [_m(1, 60, lat=39.9, lon=116.4, speed_kmh=55, alarm="crash")])
    _post(client, w.token, [_m(2, 50, lat=39.9, lon=116.4, speed_kmh=0, alarm="sos")])
    case = RescueCase.objects.for_group(w.group_a).get()
    assert case.kind == "crash" and case.repeats == 1


def test_directory_refuses_bad_contacts_and_is_per_group(rescue_world, api_client):
    w = rescue_world
    from m4s.core.errors import DomainError

    with pytest.raises(DomainError) as e:
        rescue.save_tow_partner(w.admin_a, name="No way", phone="1")
    assert e.value.code == "contact_required"
    with pytest.raises(DomainError) as e:
        rescue.save_tow_partner(w.admin_a, w.tow_b, name="Taken")
    assert e.value.status == 404
    assert TowPartner.objects.for_group(w.group_b).get().name == "Huangpu Tow"
    from m4s.core.errors import PermissionDenied

    with pytest.raises((DomainError, PermissionDenied)):
        rescue.save_insurer(w.tech_a, name="X", phone="1", email="x@example.com")


def test_dispatch_status_steps_and_owner_sees_tow_on_the_way(rescue_world, client, api_client):
    w = rescue_world
    case = _sos_case(w, client)
    staff = staff_token(w.advisor_a)
    url = f"/api/v1/staff/rescue-cases/{case.pk}"
    # another group's tow partner: refused, nothing stored
    r = api_client.post(
        f"{url}/dispatch-tow", {"tow_partner_id": w.tow_b.pk, "eta_minutes": 30}, token=staff
    )
    assert r.status_code == 404 and r.json()["code"] == "tow_partner_not_found"
    case.refresh_from_db()
    assert case.tow_id is None and not case.steps.filter(kind="tow").exists()
    # another group's store as destination: refused too
    r = api_client.post(
        f"{url}/dispatch-tow",
        {"tow_partner_id": w.tow_a.pk, "eta_minutes": 30, "destination_store_id": w.store_b.pk},
        token=staff,
    )
    assert r.status_code == 404 and r.json()["code"] == "store_not_found"
    r = api_client.post(
        f"{url}/dispatch-tow",
        {"tow_partner_id": w.tow_a.pk, "eta_minutes": 35, "note": "Ring road exit 4"},
        token=staff,
    )
    assert r.status_code == 200, r.content
    body = r.json()
    assert body["status"] == "acknowledged"
    assert body["tow"]["status"] == "dispatched" and body["tow"]["destination"] == w.store_a.name
    assert 34 <= body["tow"]["eta_minutes"] <= 35
    # a second dispatch while one is under way
    r = api_client.post(
        f"{url}/dispatch-tow", {"tow_partner_id": w.tow_a.pk, "eta_minutes": 5}, token=staff
    )
    assert r.status_code == 409 and r.json()["code"] == "tow_already_dispatched"
    r = api_client.post(
        f"{url}/tow-status", {"status": "on_the_way", "eta_minutes": 20}, token=staff
    )
    assert r.status_code == 200 and r.json()["tow"]["status"] == "on_the_way"
    # the owner's case: tow on the way with its ETA; the staff note is not shown
    mine = api_client.get(f"/api/v1/me/rescue-cases/{case.pk}", token=owner_token(w.owner)).json()
    assert mine["tow"]["status"] == "on_the_way" and 19 <= mine["tow"]["eta_minutes"] <= 20
    assert [m["done"] for m in mine["milestones"]] == [True, True, False, False]
    assert not any("Ring road" in s["text"] for s in mine["steps"])
    staff_view = api_client.get(url, token=staff).json()
    assert any("Ring road" in s["text"] for s in staff_view["steps"])
    # the owner page says so
    page = owner_client(w.owner).get(f"/app/rescue/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Tow on the way" in html and 'data-testid="tow-eta"' in html
    # backwards is refused
    api_client.post(f"{url}/tow-status", {"status": "arrived"}, token=staff)
    r = api_client.post(f"{url}/tow-status", {"status": "on_the_way"}, token=staff)
    assert r.status_code == 409 and r.json()["code"] == "invalid_tow_transition"
    r = api_client.post(f"{url}/tow-status", {"status": "delivered"}, token=staff)
    assert r.status_code == 200
    statuses = list(case.steps.filter(kind="tow").values_list("status", flat=True))
    assert statuses == ["dispatched", "on_the_way", "arrived", "delivered"]
    owner_kinds = set(
        Message.objects.filter(kind__startswith="rescue.").values_list("kind", flat=True)
    )
    assert "rescue.tow" in owner_kinds
    mine = api_client.get(f"/api/v1/me/rescue-cases/{case.pk}", token=owner_token(w.owner)).json()
    assert mine["milestones"][3]["done"] is True


def test_insurer_notice_is_sent_once_with_report_and_photos(rescue_world, client, api_client):
    w = rescue_world
    case = _sos_case(w, client)
    owner = owner_token(w.owner)
    r = api_client.client.post(
        f"/api/v1/me/rescue-cases/{case.pk}/photos",
        {"photo": io.BytesIO(_png())},
        HTTP_AUTHORIZATION=f"Bearer {owner}",
    )
    assert r.status_code == 201, r.content
    # not an image: refused, nothing stored
    fake = io.BytesIO(b"<svg xmlns='http://www.w3.org/2000/svg'></svg>")
    fake.name = "x.png"
    r = api_client.client.post(
        f"/api/v1/me/rescue-cases/{case.pk}/photos",
        {"photo": fake},
        HTTP_AUTHORIZATION=f"Bearer {owner}",
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_image"
    assert RescuePhoto.objects.for_group(w.group_a).count() == 1
    staff = staff_token(w.advisor_a)
    url = f"/api/v1/staff/rescue-cases/{case.pk}/notify-insurer"
    # another group's insurer
    r = api_client.post(url, {"insurer_id": w.insurer_b.pk}, token=staff)
    assert r.status_code == 404 and r.json()["code"] == "insurer_not_found"
    assert mail.outbox == []
    mail.outbox.clear()
    # the car's recorded insurer ("PICC Property") is found in the directory
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = api_client.post(url, {}, token=staff, headers={"Idempotency-Key": "fnol-1"})
    assert r.status_code == 200, r.content
    assert r.json()["insurer"] == "PICC"
    # (the e-mail leaves after commit: in a test the request's commit ends with the response)
    notified = api_client.get(f"/api/v1/staff/rescue-cases/{case.pk}", token=staff).json()
    assert (
        notified["insurer_notified_at"] and notified["insurer_reference"] == f"M4S-R{case.pk:06d}"
    )
    assert len(mail.outbox) == 1
    sent = mail.outbox[0]
    assert sent.to == ["claims@picc.example"]
    assert "SOS button" in sent.body and "39.91000, 116.40000" in sent.body
    assert w.my_car.plate in sent.body and "Alarm data:" in sent.body and " sos at " in sent.body
    assert len(sent.attachments) == 1 and sent.attachments[0][2] == "image/png"
    # retried: with the same key, another key, or none, nothing is sent again
    for headers in ({"Idempotency-Key": "fnol-1"}, {"Idempotency-Key": "fnol-2"}, {}):
        with TestCase.captureOnCommitCallbacks(execute=True):
            r = api_client.post(url, {}, token=staff, headers=headers)
        assert r.status_code == 200
    assert len(mail.outbox) == 1
    assert rescue.send_insurer_notice(case.pk) is False
    assert RescueStep.objects.for_group(w.group_a).filter(kind="insurer").count() == 1
    assert Message.objects.filter(kind="rescue.insurer").exists()


def test_case_becomes_a_repair_order_paid_by_insurance(rescue_world, client, api_client):
    w = rescue_world
    case = _sos_case(w, client)
    staff = staff_token(w.advisor_a)
    url = f"/api/v1/staff/rescue-cases/{case.pk}"
    api_client.post(
        f"{url}/dispatch-tow", {"tow_partner_id": w.tow_a.pk, "eta_minutes": 30}, token=staff
    )
    api_client.post(f"{url}/tow-status", {"status": "delivered"}, token=staff)
    r = api_client.post(f"{url}/repair-order", {}, token=staff)
    assert r.status_code == 200, r.content
    from m4s.service.models import RepairOrder

    ro = RepairOrder.objects.for_group(w.group_a).get(pk=r.json()["repair_order_id"])
    assert ro.store == w.store_a and ro.vehicle == w.my_car
    payers = set(ro.lines.values_list("payer", flat=True))
    assert payers == {"insurance"}
    # delivered and with its repair order: the case is closed
    assert r.json()["status"] == "closed"
    r = api_client.post(f"{url}/repair-order", {}, token=staff)
    assert r.status_code == 409


def test_isolation_a_third_user_sees_nothing(rescue_world, client, api_client):
    w = rescue_world
    case = _sos_case(w, client)
    # another owner (group B's) and another group's staff: 404 everywhere
    r = api_client.get(f"/api/v1/me/rescue-cases/{case.pk}", token=owner_token(w.owner_b))
    assert r.status_code == 404
    r = api_client.client.post(
        f"/api/v1/me/rescue-cases/{case.pk}/photos",
        {"photo": io.BytesIO(_png())},
        HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner_b)}",
    )
    assert r.status_code == 404
    b = staff_token(w.advisor_b)
    for path, body in (
        ("dispatch-tow", {"tow_partner_id": w.tow_b.pk, "eta_minutes": 10}),
        ("tow-status", {"status": "on_the_way"}),
        ("notify-insurer", {"insurer_id": w.insurer_b.pk}),
        ("repair-order", {}),
    ):
        r = api_client.post(f"/api/v1/staff/rescue-cases/{case.pk}/{path}", body, token=b)
        assert r.status_code == 404, path
    assert api_client.get(f"/api/v1/staff/rescue-cases/{case.pk}", token=b).status_code == 404
    assert client.get(f"/app/rescue/{case.pk}/").status_code in (302, 404)
    # a photo is served to the owner and the group's staff only
    photo = rescue.add_case_photo(w.owner, case, io.BytesIO(_png()))
    url = photo.image.url
    assert owner_client(w.owner).get(url).status_code == 200
    assert owner_client(w.owner_b).get(url).status_code == 404
    client.force_login(w.advisor_b)
    assert client.get(url).status_code == 404
    client.force_login(w.advisor_a)
    assert client.get(url).status_code == 200
    assert client.get(f"/console/telematics/cases/{case.pk}/").status_code == 200
    client.force_login(w.advisor_b)
    assert client.get(f"/console/telematics/cases/{case.pk}/").status_code == 404
