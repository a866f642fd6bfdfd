"""Back office: a group edits its own reminder rules (lead times checked, a preview in every
language), inspection table and integration keys; another group's rows are not found. Owners'
data rights: the export holds the owner's reminders, violations, policies and licence; erasure
removes them and keeps the services done elsewhere without details."""

import datetime as dt

from django.test import Client
from django.utils import timezone

from m4s.care import scan, services, violations
from m4s.care.models import (
    DoneElsewhere,
    DrivingLicence,
    InspectionRule,
    IntegrationKey,
    Reminder,
    ReminderRule,
    Violation,
)
from m4s.core.tests.factories import PASSWORD
from m4s.vehicles.models import Vehicle

from .conftest import days


def _client(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_a_group_admin_edits_its_own_rules_with_a_preview(care):
    w = care
    a = _client(w.admin_a)
    r = a.get("/admin/care/reminderrule/")
    assert r.status_code == 200
    mine = ReminderRule.objects.for_group(w.group_a).get(kind="insurance")
    theirs = ReminderRule.objects.for_group(w.group_b).get(kind="insurance")
    assert a.get(f"/admin/care/reminderrule/{theirs.pk}/change/").status_code == 404
    page = a.get(f"/admin/care/reminderrule/{mine.pk}/change/", HTTP_ACCEPT_LANGUAGE="en")
    assert page.status_code == 200
    assert "Your car insurance ends on" in page.content.decode()  # the preview
    form = {
        "enabled": "on",
        "lead_days": "[45, 15]",
        "params": "{}",
        "action": "quote",
        "coupon": "",
        "title": "Insurance for %(plate)s ends %(date)s",
        "title_i18n_0": "%(plate)s 的保险 %(date)s 到期",
        "title_i18n_1": "",
        "title_i18n_2": "",
        "body": "",
        "body_i18n_0": "",
        "body_i18n_1": "",
        "body_i18n_2": "",
    }
    r = a.post(f"/admin/care/reminderrule/{mine.pk}/change/", {**form, "lead_days": "[-3]"})
    assert r.status_code == 200  # refused
    r = a.post(f"/admin/care/reminderrule/{mine.pk}/change/", form)
    assert r.status_code == 302, r.content[:3000]
    mine.refresh_from_db()
    assert mine.lead_days == [45, 15] and mine.title.startswith("Insurance for")
    # the scan follows the group's lead times
    Vehicle.objects.unscoped().filter(pk=w.my_car.pk).update(insurance_expiry=w.today + days(40))
    assert scan.run_scan(["insurance"])["written"]["insurance"] == 1
    assert Reminder.objects.unscoped().get().cycle == f"{w.today + days(40)}/45"
    # an advisor has no back office for care
    assert _client(w.advisor_a).get("/admin/care/reminderrule/").status_code in (302, 403)


def test_the_inspection_table_and_integration_keys_in_the_back_office(care):
    w = care
    a = _client(w.admin_a)
    assert a.get("/admin/care/inspectionrule/").status_code == 200
    assert InspectionRule.objects.for_group(w.group_a).count() == 3
    r = a.post("/admin/care/integrationkey/add/", {"name": "Traffic police feed"}, follow=True)
    assert r.status_code == 200
    key = IntegrationKey.objects.for_group(w.group_a).get()
    shown = [str(m) for m in r.context["messages"]]
    raw = "m4sk_" + shown[0].split("m4sk_", 1)[1].split()[0]
    assert violations.group_of_key(raw) == w.group_a.pk and raw not in key.key_hash
    theirs, _raw = violations.create_integration_key(w.group_b.pk, "B")
    assert a.get(f"/admin/care/integrationkey/{theirs.pk}/change/").status_code == 404


def test_export_and_erasure_of_the_owners_care_data(care, api_client):
    from m4s.privacy import services as privacy

    w = care
    Vehicle.objects.unscoped().filter(pk__in=[w.my_car.pk, w.other_car.pk]).update(
        insurance_expiry=w.today + days(10)
    )
    DrivingLicence.objects.create(
        dealer_group=w.group_a, customer=w.customer, expires_on=w.today + days(300)
    )
    violations.record_violation(
        w.my_car,
        violations.ViolationInput(occurred_at=timezone.now() - days(1), description="Speeding"),
        source="staff",
    )
    scan.run_scan()
    reminder = Reminder.objects.unscoped().get(customer=w.customer, kind="insurance")
    services.done_elsewhere(w.owner, reminder, done_on=w.today, odometer_km=18000)
    kinds, files = privacy.collect(w.owner)
    assert {r["kind"] for r in kinds["reminders"]} >= {"insurance", "violation"}
    assert [v["description"] for v in kinds["traffic_violations"]] == ["Speeding"]
    assert kinds["driving_licence"][0]["expires_on"]
    assert kinds["services_done_elsewhere"][0]["odometer_km"] == 18000
    assert w.other_car.plate not in str(kinds)

    erasure, _ = privacy.request_erasure(w.owner, now=timezone.now() - dt.timedelta(days=20))
    record = privacy.erase(erasure.pk)
    assert record.summary["care"]["reminders deleted"] >= 2
    assert not Reminder.objects.unscoped().filter(customer=w.customer).exists()
    assert not Violation.objects.unscoped().filter(vehicle=w.my_car).exists()
    assert not DrivingLicence.objects.unscoped().exists()
    kept = DoneElsewhere.objects.unscoped().get()
    assert kept.odometer_km is None and kept.kind == "insurance"
    # group B's customer keeps theirs
    assert Reminder.objects.unscoped().filter(customer=w.other).exists()
