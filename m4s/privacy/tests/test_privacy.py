"""Owners' data rights: export of every kind of the owner's data and nothing of anyone else's,
erasure after the cooling-off period leaving no personal field of the owner anywhere (ledger and
invoice totals unchanged), cancel, isolation, retention."""

import datetime as dt
import io
import json
import zipfile

import pytest
from django.apps import apps
from django.db import models
from django.utils import timezone
from openpyxl import load_workbook

from m4s.core.tests.factories import owner_token, staff_token
from m4s.privacy import services
from m4s.privacy.models import DataExport, ErasureRecord, ErasureRequest

from .helpers import OWNER_NAME, owner_everywhere, secrets_of

KINDS = {
    "profile",
    "consents",
    "customer_records",
    "bindings",
    "timeline",
    "cars",
    "car_ownership",
    "appointments",
    "repair_orders",
    "repair_lines",
    "invoices",
    "surveys",
    "messages",
    "loyalty_memberships",
    "points_history",
    "telemetry_summary",
    "car_alarms",
    "daily_odometer",
    "geofences",
    "sign_in_tokens",
    "sign_in_codes",
}


@pytest.fixture
def everywhere(workshop, club):
    return owner_everywhere(workshop)


def _export_via_api(api_client, token, capture, key="k-1"):
    with capture(execute=True):
        r = api_client.post("/api/v1/me/data-export", {}, token=token, HTTP_IDEMPOTENCY_KEY=key)
    assert r.status_code == 202, r.content
    return r.json()


def _zip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))


def test_export_holds_every_kind_of_the_owners_data_and_nothing_of_another_owner(
    everywhere, api_client, client, django_capture_on_commit_callbacks
):
    w = everywhere
    token = owner_token(w.owner)
    first = _export_via_api(api_client, token, django_capture_on_commit_callbacks)
    again = _export_via_api(api_client, token, django_capture_on_commit_callbacks)
    assert again["id"] == first["id"]  # same Idempotency-Key: the same export
    r = api_client.get(f"/api/v1/me/data-export/{first['id']}", token=token)
    body = r.json()
    assert body["status"] == "ready" and body["download_url"] and body["size"] > 0
    assert body["counts"]["photos"] == 2

    download = client.get(body["download_url"], HTTP_AUTHORIZATION=f"Bearer {token}")
    assert download.status_code == 200
    assert download["Content-Type"] == "application/zip"
    archive = _zip(download)
    names = set(archive.namelist())
    kinds = {n[len("json/") : -len(".json")] for n in names if n.startswith("json/")}
    assert kinds >= KINDS, KINDS - kinds
    for kind in KINDS:
        assert json.loads(archive.read(f"json/{kind}.json")), kind  # not empty
    assert len([n for n in names if n.startswith("photos/")]) == 2
    book = load_workbook(io.BytesIO(archive.read("data.xlsx")))
    assert set(book.sheetnames) >= KINDS
    everything = b"".join(archive.read(n) for n in names if n.startswith("json/")).decode()
    assert OWNER_NAME in everything and "11010519491231002X" in everything
    assert w.owner_b.phone not in everything and "Hi B" not in everything
    assert w.known.name not in everything  # group A's other customer
    profile = json.loads(archive.read("json/profile.json"))
    assert profile == [profile[0]] and profile[0]["phone"] == w.owner.phone


def test_only_the_owner_downloads_their_export(
    everywhere, api_client, client, django_capture_on_commit_callbacks
):
    w = everywhere
    body = _export_via_api(api_client, owner_token(w.owner), django_capture_on_commit_callbacks)
    export_id = body["id"]
    url = api_client.get(f"/api/v1/me/data-export/{export_id}", token=owner_token(w.owner)).json()[
        "download_url"
    ]
    # another owner: neither the export nor its link
    other = owner_token(w.owner_b)
    assert api_client.get(f"/api/v1/me/data-export/{export_id}", token=other).status_code == 404
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {other}").status_code == 404
    # staff (even the group's admin) and nobody
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {staff_token(w.admin_a)}").status_code == 404
    assert client.get(url).status_code == 404
    # a tampered link, and a link past its time
    assert (
        client.get(
            url[:-3] + "abc/", HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}"
        ).status_code
        == 404
    )
    DataExport.objects.filter(pk=export_id).update(expires_at=timezone.now())
    assert client.get(url, HTTP_AUTHORIZATION=f"Bearer {owner_token(w.owner)}").status_code == 404


def test_build_export_is_idempotent(everywhere):
    w = everywhere
    export, created = services.request_export(w.owner)
    assert created
    assert services.request_export(w.owner) == (export, False)  # one at a time
    assert services.build_export(export.pk) == "built"
    assert services.build_export(export.pk) == "skipped"
    export.refresh_from_db()
    assert export.status == "ready" and export.file


def _snapshot_accounts(w):
    from m4s.loyalty.models import LedgerEntry, Member
    from m4s.service.models import Invoice

    invoices = list(
        Invoice.objects.unscoped()
        .order_by("pk")
        .values_list("pk", "total", "tax", "net_total", "customer_pay_total")
    )
    ledger = list(LedgerEntry.objects.unscoped().order_by("pk").values_list("pk", "points"))
    balances = list(Member.objects.unscoped().order_by("pk").values_list("pk", "balance"))
    return invoices, ledger, balances


def _text_values_anywhere(secrets: set[str]) -> list[str]:
    """Every text-like column of every M4S model, searched for the owner's values."""
    found = []
    text_fields = (models.CharField, models.TextField, models.JSONField)
    for model in apps.get_models():
        if not model.__module__.startswith("m4s."):
            continue
        manager = model._default_manager
        qs = manager.unscoped() if hasattr(manager, "unscoped") else manager.all()
        fields = [f.attname for f in model._meta.concrete_fields if isinstance(f, text_fields)]
        if not fields:
            continue
        for row in qs.values_list(*fields):
            for name, value in zip(fields, row, strict=True):
                text = (
                    json.dumps(value, ensure_ascii=False) if not isinstance(value, str) else value
                )
                for secret in secrets:
                    if secret and secret in (text or ""):
                        found.append(f"{model._meta.label}.{name}: {secret}")
    return found


def test_erasure_after_the_cooling_off_leaves_no_personal_field_and_keeps_the_accounts(
    everywhere, api_client, client, django_capture_on_commit_callbacks
):
    from m4s.telematics.models import AlarmEvent, Telemetry, VehicleState

    w = everywhere
    secrets = secrets_of(w)
    assert _text_values_anywhere(secrets)  # the search finds them before
    before = _snapshot_accounts(w)
    token = owner_token(w.owner)
    services.request_export(w.owner)  # an export file: it goes too
    r = api_client.post("/api/v1/me/erasure", {}, token=token)
    assert r.status_code == 202 and r.json()["status"] == "pending"
    due = dt.datetime.fromisoformat(r.json()["due_at"])
    assert due - timezone.now() > dt.timedelta(days=14)
    assert services.erase_due(now=timezone.now()) == 0  # not before the cooling-off ends

    assert services.erase_due(now=due + dt.timedelta(minutes=1)) == 1
    assert services.erase_due(now=due + dt.timedelta(minutes=2)) == 0  # once

    assert _text_values_anywhere(secrets) == []
    assert _snapshot_accounts(w) == before  # invoices and the points ledger unchanged
    assert not Telemetry.objects.unscoped().filter(vehicle_id=w.my_car.pk).exists()
    assert (
        not AlarmEvent.objects.unscoped().filter(lat__isnull=False, vehicle_id=w.my_car.pk).exists()
    )
    assert (
        not VehicleState.objects.unscoped()
        .filter(vehicle_id=w.my_car.pk, lat__isnull=False)
        .exists()
    )
    from m4s.service.models import AppointmentPhoto, RepairPhoto

    assert not AppointmentPhoto.objects.unscoped().exists()
    assert not RepairPhoto.objects.unscoped().exists()
    assert not DataExport.objects.filter(owner=w.owner).exists()
    # signed out everywhere: the token and the app session
    assert api_client.get("/api/v1/me", token=token).status_code == 401
    record = ErasureRecord.objects.get()
    assert record.summary["customers"]["customer records anonymised"] == 2
    assert not (set(json.dumps(record.summary, ensure_ascii=False).split('"')) & secrets)
    # another owner is untouched
    w.owner_b.refresh_from_db()
    assert (
        w.owner_b.is_active
        and api_client.get("/api/v1/me", token=owner_token(w.owner_b)).status_code == 200
    )


def test_erasure_signs_the_app_session_out(everywhere, client):
    from m4s.owners.middleware import SESSION_KEY

    w = everywhere
    session = client.session
    session[SESSION_KEY] = w.owner.pk
    session.save()
    assert client.get("/app/privacy/").status_code == 200
    erasure, _ = services.request_erasure(w.owner, now=timezone.now() - dt.timedelta(days=16))
    services.erase(erasure.pk)
    assert client.get("/app/privacy/").status_code == 302


def test_cancel_before_the_due_date_keeps_everything(everywhere, api_client):
    w = everywhere
    token = owner_token(w.owner)
    assert api_client.delete("/api/v1/me/erasure", token=token).status_code == 404  # none yet
    first = api_client.post("/api/v1/me/erasure", {}, token=token).json()
    again = api_client.post("/api/v1/me/erasure", {}, token=token).json()
    assert again["id"] == first["id"]
    r = api_client.delete("/api/v1/me/erasure", token=token)
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    assert services.erase_due(now=timezone.now() + dt.timedelta(days=30)) == 0
    w.owner.refresh_from_db()
    assert w.owner.is_active and w.owner.name == OWNER_NAME
    assert ErasureRequest.objects.get().status == "cancelled"
    # another owner cannot cancel someone's request
    api_client.post("/api/v1/me/erasure", {}, token=token)
    assert api_client.delete("/api/v1/me/erasure", token=owner_token(w.owner_b)).status_code == 404
    assert ErasureRequest.objects.filter(owner=w.owner, status="pending").exists()


def test_retention_deletes_what_is_older_than_its_period(everywhere, settings):
    from m4s.core.models import AuditEntry
    from m4s.notify.models import Message
    from m4s.service.models import AppointmentPhoto, RepairPhoto
    from m4s.telematics.models import DailyOdometer, Telemetry

    w = everywhere
    Message.objects.update(status="sent")
    later = timezone.now() + dt.timedelta(days=30)
    settings.RETENTION_DAYS = {"telemetry": 10, "messages": 10, "photos": 10, "audit": 10}
    assert AuditEntry.objects.unscoped().exists() and Telemetry.objects.unscoped().exists()
    done = services.enforce_retention(now=later)
    assert done["notify"]["messages deleted"] > 0
    assert not Message.objects.exists()
    assert not AppointmentPhoto.objects.unscoped().exists()
    assert not RepairPhoto.objects.unscoped().exists()
    assert not AuditEntry.objects.unscoped().exists()
    assert not Telemetry.objects.unscoped().exists()
    assert DailyOdometer.objects.unscoped().filter(vehicle=w.my_car).exists()  # kept
    # nothing younger than its period goes
    settings.RETENTION_DAYS = {"telemetry": 100, "messages": 100, "photos": 100, "audit": 100}
    assert services.enforce_retention(now=later)["notify"]["messages deleted"] == 0


def test_a_lost_export_build_is_resumed(everywhere, django_capture_on_commit_callbacks):
    w = everywhere
    export, _created = services.request_export(w.owner)  # its task never ran (a crash)
    assert services.resume_exports() == 0  # not yet: it may still be on its way
    with django_capture_on_commit_callbacks(execute=True):
        assert services.resume_exports(now=timezone.now() + dt.timedelta(minutes=11)) == 1
    export.refresh_from_db()
    assert export.status == "ready"
