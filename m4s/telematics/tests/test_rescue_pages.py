"""Rescue pages: the console's directory (add, edit, another group's row 404, no right 403), the
case page's dispatch / status / insurer / repair-order forms, and the owner's case page with a
photo upload (a file that is not a picture is refused, nothing stored)."""

import io

import pytest
from django.core import mail
from django.test import Client, TestCase

from m4s.owners.middleware import SESSION_KEY
from m4s.telematics import rescue
from m4s.telematics.models import Insurer, RescueCase, RescuePhoto, TowPartner

from .test_rescue import _png, _sos_case, rescue_world  # noqa: F401  (fixture)


def _owner_client(owner) -> Client:
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    return client


def test_directory_pages(rescue_world, client):  # noqa: F811
    w = rescue_world
    client.force_login(w.admin_a)
    page = client.get("/console/telematics/tow-partners/")
    assert page.status_code == 200
    html = page.content.decode()
    assert "Jingcheng Tow" in html and "Huangpu Tow" not in html
    r = client.post(
        "/console/telematics/tow-partners/",
        {
            "name": "West Hills Tow",
            "phone": "010-7777",
            "service_area": "Haidian",
            "email": "w@example.com",
            "active": "on",
        },
    )
    assert r.status_code == 302
    added = TowPartner.objects.for_group(w.group_a).get(name="West Hills Tow")
    r = client.post(
        f"/console/telematics/tow-partners/{added.pk}/",
        {"name": "West Hills Tow", "phone": "010-7778", "email": "w@example.com"},
    )
    assert r.status_code == 302
    added.refresh_from_db()
    assert added.phone == "010-7778" and added.active is False
    # no way to reach them: refused with the reason, nothing stored
    r = client.post(
        "/console/telematics/insurers/", {"name": "Mute", "phone": "1", "channel": "email"}
    )
    assert r.status_code == 400 and b'data-testid="form-error"' in r.content
    assert not Insurer.objects.for_group(w.group_a).filter(name="Mute").exists()
    # another group's row is not found
    assert client.get(f"/console/telematics/tow-partners/{w.tow_b.pk}/").status_code == 404
    r = client.post(
        f"/console/telematics/insurers/{w.insurer_b.pk}/",
        {"name": "Mine now", "phone": "1", "email": "x@example.com", "channel": "email"},
    )
    assert r.status_code == 404
    assert Insurer.objects.for_group(w.group_b).get().name == "Ping An"
    # a technician sees the list but may not change it
    client.force_login(w.tech_a)
    assert client.get("/console/telematics/insurers/").status_code in (200, 403)
    r = client.post(
        "/console/telematics/insurers/",
        {"name": "X", "phone": "1", "email": "x@example.com", "channel": "email"},
    )
    assert r.status_code == 403
    assert not Insurer.objects.for_group(w.group_a).filter(name="X").exists()


def test_case_page_rescue_forms(rescue_world, client):  # noqa: F811
    w = rescue_world
    case = _sos_case(w, client)
    client.force_login(w.advisor_a)
    base = f"/console/telematics/cases/{case.pk}/"
    page = client.get(base).content.decode()
    for testid in (
        "case",
        "case-status",
        "case-facts",
        "ack-form",
        "close-form",
        "tow-form",
        "insurer-form",
        "ro-form",
        "case-log",
    ):
        assert f'data-testid="{testid}"' in page, testid
    # another group's tow partner through the form: 404, nothing stored
    r = client.post(base + "tow/", {"tow_partner": w.tow_b.pk, "eta_minutes": "20"})
    assert r.status_code == 404 and b'data-testid="rescue-error"' in r.content
    r = client.post(
        base + "tow/",
        {
            "tow_partner": w.tow_a.pk,
            "eta_minutes": "20",
            "destination": w.store_a.pk,
            "note": "exit 4",
        },
    )
    assert r.status_code == 302
    page = client.get(base).content.decode()
    assert 'data-testid="tow-status"' in page and "Jingcheng Tow" in page and "exit 4" in page
    r = client.post(base + "tow/status/", {"status": "on_the_way", "eta_minutes": "15"})
    assert r.status_code == 302
    with TestCase.captureOnCommitCallbacks(execute=True):
        r = client.post(base + "insurer/", {"insurer": w.insurer_a.pk})
    assert r.status_code == 302 and len(mail.outbox) == 1
    r = client.post(base + "tow/status/", {"status": "delivered"})
    assert r.status_code == 302
    r = client.post(base + "repair-order/", {})
    assert r.status_code == 302
    case = RescueCase.objects.for_group(w.group_a).get(pk=case.pk)
    assert case.status == "closed" and case.repair_order is not None
    assert set(case.repair_order.lines.values_list("payer", flat=True)) == {"insurance"}
    page = client.get(base).content.decode()
    assert 'data-testid="case-ro"' in page and case.repair_order.number in page


def test_owner_case_page_and_photo(rescue_world, client):  # noqa: F811
    w = rescue_world
    case = _sos_case(w, client)
    owner = _owner_client(w.owner)
    page = owner.get(f"/app/rescue/{case.pk}/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="milestone-opened"' in html and 'data-testid="tow-eta"' not in html
    assert b"rescue-current" in owner.get("/app/rescue/current/").content
    bad = io.BytesIO(b"GIF89a not really")
    bad.name = "scene.jpg"
    r = owner.post(f"/app/rescue/{case.pk}/photos/", {"photo": bad})
    assert r.status_code == 400 and b"Only pictures" in r.content
    assert not RescuePhoto.objects.for_group(w.group_a).exists()
    good = io.BytesIO(_png())
    good.name = "scene.png"
    r = owner.post(f"/app/rescue/{case.pk}/photos/", {"photo": good})
    assert r.status_code == 302
    assert RescuePhoto.objects.for_group(w.group_a).count() == 1
    # another owner: 404, and nothing to follow
    other = _owner_client(w.owner_b)
    assert other.get(f"/app/rescue/{case.pk}/").status_code == 404
    assert b"rescue-current" not in other.get("/app/rescue/current/").content
    good.seek(0)
    assert other.post(f"/app/rescue/{case.pk}/photos/", {"photo": good}).status_code == 404
    assert RescuePhoto.objects.for_group(w.group_a).count() == 1
    rescue.dispatch_tow(w.advisor_a, case, tow_partner_id=w.tow_a.pk, eta_minutes=25)
    html = owner.get(f"/app/rescue/{case.pk}/").content.decode()
    assert 'data-testid="tow-eta"' in html and "Tow on the way" in html and "Jingcheng Tow" in html


@pytest.mark.parametrize("lang,word", [("zh-hans", "拖车"), ("ko", "견인")])
def test_owner_case_page_is_translated(rescue_world, client, lang, word):  # noqa: F811
    w = rescue_world
    case = _sos_case(w, client)
    rescue.dispatch_tow(w.advisor_a, case, tow_partner_id=w.tow_a.pk, eta_minutes=25)
    owner = _owner_client(w.owner)
    html = owner.get(f"/app/rescue/{case.pk}/", HTTP_ACCEPT_LANGUAGE=lang).content.decode()
    assert word in html
