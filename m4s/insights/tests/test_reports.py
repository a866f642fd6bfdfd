"""The monthly service report: the PDF (Chinese and Korean text in its text layer, fonts
embedded), the figures of a hand-built month, an empty month, regenerating, the monthly send
(idempotent), and who may download it (API and console)."""

import datetime as dt
import re
import zlib
from types import SimpleNamespace

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from m4s.care.choices import Kind
from m4s.care.models import Reminder
from m4s.complaints.models import Complaint, ComplaintCategory, CorrectiveAction, RootCause
from m4s.core.models import AuditEntry
from m4s.core.tests.factories import make_staff, staff_token
from m4s.customers import services as customer_services
from m4s.insights import reports
from m4s.insights.models import ServiceReport
from m4s.notify.models import Message
from m4s.service.choices import SurveyStatus
from m4s.service.models import Appointment, RepairOrder, Survey
from m4s.staff.choices import Role
from m4s.vehicles.models import Vehicle

MONTH = dt.date(2026, 3, 1)
SHANGHAI = dt.timezone(dt.timedelta(hours=8))


# --- reading a PDF without a PDF library: inflate its streams, read the ToUnicode maps ---------
def _streams(data: bytes):
    for m in re.finditer(rb"stream\r?\n", data):
        end = data.find(b"endstream", m.end())
        try:
            yield zlib.decompressobj().decompress(data[m.end() : end])
        except zlib.error:
            continue


def pdf_chars(data: bytes) -> set[str]:
    """Every character the PDF's fonts map glyphs back to (its text layer's alphabet)."""
    out: set[str] = set()
    for s in _streams(data):
        for block in re.findall(rb"beginbfchar(.*?)endbfchar", s, re.S):
            for _src, dst in re.findall(rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block):
                out.update(bytes.fromhex(dst.decode()).decode("utf-16-be", "replace"))
        for block in re.findall(rb"beginbfrange(.*?)endbfrange", s, re.S):
            for a, b, dst in re.findall(
                rb"<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>\s*<([0-9A-Fa-f]+)>", block
            ):
                base = int(dst, 16)
                out.update(chr(base + i) for i in range(int(b, 16) - int(a, 16) + 1))
    return out


def pdf_fonts(data: bytes) -> set[str]:
    names: set[str] = set()
    for s in [data, *_streams(data)]:
        names.update(n.decode() for n in re.findall(rb"/BaseFont\s*/([A-Za-z0-9+\-_]+)", s))
    return names


def has_text(data: bytes, *texts: str) -> bool:
    chars = pdf_chars(data)
    return all(ch in chars for t in texts for ch in t if not ch.isspace())


# --- a hand-built month -------------------------------------------------------------------------
def at(day: int, hour: int = 10, month: dt.date = MONTH) -> dt.datetime:
    return dt.datetime(month.year, month.month, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def shop(world, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    w = world
    w.store_a.name = "北京朝阳店"
    w.store_a.save()
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.manager_a.language = "ko"
    w.manager_a.save()
    w.manager_b = make_staff("manager-b", Role.STORE_MANAGER, w.group_b, [w.store_b])
    w.customer = customer_services.get_or_create_customer_for_owner(w.owner, w.store_a)
    w.car = Vehicle.objects.create(
        dealer_group=w.group_a, vin="LSVAU2180N2000001", plate="京A12345", brand="VW", model="Golf"
    )
    return w


def _order(w, n: int, when: dt.datetime) -> RepairOrder:
    return RepairOrder.objects.create(
        dealer_group=w.group_a,
        number=f"RO{n}",
        store=w.store_a,
        customer=w.customer,
        vehicle=w.car,
        advisor=w.advisor_a,
        odometer_in=1000,
        fuel_pct=50,
        checked_in_at=when,
        delivered_at=when,
    )


def _survey(w, n: int, when: dt.datetime, nps: int, *, follow=False, note="", comment=""):
    ro = _order(w, n, when - dt.timedelta(days=1))
    return Survey.objects.create(
        dealer_group=w.group_a,
        repair_order=ro,
        store=w.store_a,
        customer=w.customer,
        owner=w.owner,
        advisor=w.advisor_a,
        status=SurveyStatus.ANSWERED,
        available_at=when,
        expires_at=when + dt.timedelta(days=7),
        answered_at=when,
        initiation=8,
        advisor_score=8,
        facility=8,
        pickup=8,
        quality=8,
        nps=nps,
        comment=comment,
        needs_follow_up=follow,
        followed_up_at=when + dt.timedelta(days=1) if note else None,
        followed_up_by=w.manager_a if note else None,
        follow_up_note=note,
    )


def _complaint(w, n: int, when: dt.datetime, cause, category):
    return Complaint.objects.create(
        dealer_group=w.group_a,
        reference=f"C-{n}",
        store=w.store_a,
        customer=w.customer,
        channel="phone",
        category=category,
        description="…",
        created_at=when,
        first_response_due_at=when + dt.timedelta(hours=2),
        resolution_due_at=when + dt.timedelta(days=2),
        root_cause=cause,
    )


def _reminder(w, n: int, sent: dt.datetime | None, kind=Kind.MAINTENANCE):
    return Reminder.objects.create(
        dealer_group=w.group_a,
        customer=w.customer,
        owner=w.owner,
        kind=kind,
        target_ref=f"vehicle:{n}",
        cycle=str(n),
        due_on=(sent or at(1)).date(),
        created_at=sent or at(1),
        sent_at=sent,
    )


@pytest.fixture
def month_data(shop):
    w = shop
    # surveys: one unhappy revisit followed up, one unhappy still open, one happy, one last month
    _survey(w, 1, at(3), 3, follow=True, note="已致电道歉，赠送保养券", comment="等待时间太长")
    _survey(w, 2, at(9), 5, follow=True, comment="세차가 안 됐어요")
    _survey(w, 3, at(12), 10)
    _survey(w, 4, at(20, month=dt.date(2026, 2, 1)), 2, follow=True)
    # complaints: "waiting" twice (with a corrective action), "parts" once, one without a cause
    cat = ComplaintCategory.objects.create(dealer_group=w.group_a, code="svc", name="Service")
    waiting = RootCause.objects.create(dealer_group=w.group_a, code="waiting", name="等待过长")
    parts = RootCause.objects.create(dealer_group=w.group_a, code="parts", name="Parts missing")
    c1 = _complaint(w, 1, at(4), waiting, cat)
    _complaint(w, 2, at(5), waiting, cat)
    _complaint(w, 3, at(6), parts, cat)
    _complaint(w, 4, at(7), None, cat)
    _complaint(w, 5, at(7, month=dt.date(2026, 4, 1)), parts, cat)  # next month
    CorrectiveAction.objects.create(
        dealer_group=w.group_a,
        complaint=c1,
        root_cause=waiting,
        store=w.store_a,
        action="增加快修工位",
        responsible=w.manager_a,
        due_date=dt.date(2026, 4, 15),
        created_at=at(8),
    )
    # reminders: 3 maintenance sent in March, one booked 5 days later; 1 insurance, not booked;
    # 1 sent in February (not counted); 1 not sent yet
    for n, day in ((1, 2), (2, 10), (3, 28)):
        _reminder(w, n, at(day))
    _reminder(w, 4, at(15), Kind.INSURANCE)
    _reminder(w, 5, at(20, month=dt.date(2026, 2, 1)))
    _reminder(w, 6, None)
    appt = Appointment.objects.create(
        dealer_group=w.group_a,
        store=w.store_a,
        customer=w.customer,
        vehicle=w.car,
        owner=w.owner,
        advisor=w.advisor_a,
        starts_at=at(25),
        date=at(25).date(),
        channel="app",
    )
    Appointment.objects.unscoped().filter(pk=appt.pk).update(
        created_at=at(7)
    )  # 5 days after reminder 1
    return w


# --- the figures --------------------------------------------------------------------------------
def test_figures_of_a_hand_built_month(month_data):
    w = month_data
    f = reports.collect(w.store_a, MONTH)
    assert f["month"] == "2026-03"
    assert f["store"] == "北京朝阳店"
    un = f["unhappy"]
    assert (un["total"], un["followed_up"], un["open"]) == (2, 1, 1)
    assert [r["nps"] for r in un["rows"]] == [3, 5]
    assert un["rows"][0]["done"] == "已致电道歉，赠送保养券"
    assert un["rows"][1]["done"] == ""
    # no full customer name is kept in a report: the first character and the repair order
    assert w.customer.name not in str(f) and un["rows"][0]["customer"] == w.customer.name[0] + "**"
    assert un["rows"][0]["order"] == "RO1"
    causes = f["causes"]
    assert causes["total"] == 4
    assert [(r["cause"], r["count"]) for r in causes["rows"]] == [
        ("等待过长", 2),
        ("Parts missing", 1),
    ]
    assert causes["rows"][0]["actions"][0]["action"] == "增加快修工位"
    assert causes["rows"][1]["actions"] == []
    rem = f["reminders"]
    assert (rem["sent"], rem["booked"], rem["rate"]) == (4, 1, 25.0)
    by_kind = {r["kind"]: (r["sent"], r["booked"]) for r in rem["rows"]}
    assert by_kind == {"maintenance": (3, 1), "insurance": (1, 0)}
    kpis = {k["code"]: k["value"] for k in f["kpis"]}
    assert kpis  # part A's KPIs, or the service figures until they land
    if "nps" in kpis and "surveys" in kpis:  # the service figures: 1 promoter, 2 detractors of 3
        assert round(kpis["nps"], 1) == round((1 - 2) * 100 / 3, 1)
    assert f["trend"]["months"][-1] == "2026-03" and len(f["trend"]["months"]) == 6


def test_the_report_pdf_has_chinese_and_korean_text(month_data):
    w = month_data
    report = reports.generate(w.store_a, MONTH, "ko")
    data = reports.read_pdf(report)
    assert data.startswith(b"%PDF-")
    assert report.pages >= 1 and report.size == len(data)
    assert report.figures["unhappy"]["total"] == 2
    # the store's Chinese name, Chinese and Korean survey comments and follow-up are real text
    assert has_text(data, "北京朝阳店", "等待时间太长", "增加快修工位")
    assert has_text(data, "세차가 안 됐어요")
    assert not has_text(data, "\u0e01")  # (the check can fail: a Thai letter is not there)
    fonts = pdf_fonts(data)
    assert any("Noto-Sans-CJK" in f for f in fonts), fonts
    # the report's own words are in Korean
    assert report.language == "ko"
    assert has_text(data, "월간 서비스 보고서") or "Monthly service report" not in reports._(
        "Monthly service report"
    )


def test_the_report_in_chinese(month_data):
    report = reports.generate(month_data.store_a, MONTH, "zh-hans")
    data = reports.read_pdf(report)
    assert has_text(data, "北京朝阳店", "2026-03")
    assert report.filename == f"service-report-{month_data.store_a.pk}-2026-03-zh-hans.pdf"


def test_a_month_without_data_is_an_empty_report(shop):
    report = reports.generate(shop.store_a, dt.date(2021, 1, 1), "en")
    data = reports.read_pdf(report)
    assert data.startswith(b"%PDF-") and report.pages >= 1
    f = report.figures
    assert f["unhappy"]["total"] == 0 and f["causes"]["rows"] == [] and f["reminders"]["sent"] == 0
    assert all(k["value"] in (None, 0) for k in f["kpis"])
    assert has_text(data, "—")


def test_generating_again_replaces_with_an_audit_entry(
    month_data, django_capture_on_commit_callbacks
):
    w = month_data
    first = reports.generate(w.store_a, MONTH, "en")
    old = first.file
    assert reports.ensure(w.store_a, MONTH, "en").pk == first.pk  # ensure keeps it
    with django_capture_on_commit_callbacks(execute=True):
        again = reports.generate(w.store_a, MONTH, "en", actor=w.admin_a)
    assert again.pk == first.pk and again.version == 2 and again.file != old
    assert not default_storage.exists(old) and default_storage.exists(again.file)
    entry = AuditEntry.objects.unscoped().get(
        object_type="insights.servicereport", object_id=str(first.pk)
    )
    assert entry.actor == w.admin_a and entry.changes["version"] == [1, 2]
    assert ServiceReport.objects.unscoped().filter(store=w.store_a, month=MONTH).count() == 1


# --- the monthly send -----------------------------------------------------------------------------
def test_send_due_once_per_manager(shop, django_capture_on_commit_callbacks):
    w = shop
    with django_capture_on_commit_callbacks(execute=True):
        first = reports.send_due(today=dt.date(2026, 4, 1))
    with django_capture_on_commit_callbacks(execute=True):
        second = reports.send_due(today=dt.date(2026, 4, 2))
    assert second == 0
    msgs = Message.objects.filter(kind=reports.MESSAGE_KIND)
    assert first == msgs.count()
    # store A: its manager (Korean) and group A's admin; store B: its manager and group B's admin
    assert sorted(m.staff.username for m in msgs) == sorted(
        ["manager-a", "admin-a", "manager-b", "admin-b"]
    )
    assert not msgs.filter(staff=w.advisor_a).exists()
    # one report per language read by the recipients, for March, marked sent
    a = ServiceReport.objects.unscoped().filter(store=w.store_a, month=MONTH)
    assert sorted(a.values_list("language", flat=True)) == ["ko", "zh-hans"]
    assert all(r.sent_at for r in a)
    to_manager = msgs.get(staff=w.manager_a)
    assert to_manager.link == reverse(
        "console-insights-report-download", args=[a.get(language="ko").pk]
    )
    assert to_manager.dealer_group_id == w.group_a.pk
    assert msgs.get(staff=w.admin_b).link.endswith(
        f"/{ServiceReport.objects.unscoped().get(store=w.store_b, month=MONTH).pk}/download/"
    )


# --- who may read it ----------------------------------------------------------------------------
def test_api_report_and_isolation(shop, api_client):
    w = shop
    url = "/api/v1/staff/reports/service"
    params = {"store": w.store_a.pk, "month": "2026-03"}
    r = api_client.request("GET", url, params, token=staff_token(w.admin_a))
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert r.content.startswith(b"%PDF-")
    assert (
        ServiceReport.objects.unscoped().filter(store=w.store_a, month=MONTH, language="en").count()
        == 1
    )
    # again: the same stored report
    r2 = api_client.request("GET", url, params, token=staff_token(w.manager_a))
    assert r2.status_code == 200 and ServiceReport.objects.unscoped().count() == 1
    # another group's store: 404; no capability: 403; not signed in: 401
    r = api_client.request("GET", url, params, token=staff_token(w.admin_b))
    assert r.status_code == 404 and r.json_body["code"] == "not_found"
    r = api_client.request("GET", url, params, token=staff_token(w.advisor_a))
    assert r.status_code == 403
    assert api_client.request("GET", url, params).status_code == 401
    # bad input: 422
    r = api_client.request(
        "GET", url, {"store": w.store_a.pk, "month": "2026-13"}, token=staff_token(w.admin_a)
    )
    assert r.status_code == 422
    # this month: rendered as of now, not kept
    this = timezone.localdate().strftime("%Y-%m")
    r = api_client.request(
        "GET", url, {"store": w.store_a.pk, "month": this}, token=staff_token(w.admin_a)
    )
    assert r.status_code == 200 and ServiceReport.objects.unscoped().count() == 1


def test_console_page_download_and_generate(shop, django_assert_max_num_queries):
    w = shop
    report = reports.generate(w.store_a, MONTH, "en")
    reports.generate(w.store_b, MONTH, "en")
    page = reverse("console-insights-reports")
    download = reverse("console-insights-report-download", args=[report.pk])
    manager = Client()
    manager.force_login(w.manager_a)
    with django_assert_max_num_queries(25):
        r = manager.get(page)
    assert r.status_code == 200
    body = r.content.decode()
    assert download in body and body.count('data-testid="report-row"') == 1  # not store B's
    r = manager.get(download)
    assert r.status_code == 200 and r["Content-Type"] == "application/pdf"
    assert b"".join(r.streaming_content if r.streaming else [r.content]).startswith(b"%PDF-")
    # another group: 404; a role without the capability: 403; anonymous: sign in
    other = Client()
    other.force_login(w.admin_b)
    assert other.get(download).status_code == 404
    advisor = Client()
    advisor.force_login(w.advisor_a)
    assert advisor.get(download).status_code == 403
    assert advisor.get(page).status_code == 403
    assert Client().get(download).status_code == 302
    # generate now: a finished month, the manager's store; another group's store is 404
    r = manager.post(
        reverse("console-insights-reports-generate"),
        {"store": w.store_a.pk, "month": "2026-03", "language": "en"},
    )
    assert r.status_code == 302
    report.refresh_from_db()
    assert report.version == 2 and report.generated_by == w.manager_a
    r = manager.post(
        reverse("console-insights-reports-generate"),
        {"store": w.store_b.pk, "month": "2026-03"},
    )
    assert r.status_code == 404
    this = timezone.localdate().strftime("%Y-%m")
    manager.post(
        reverse("console-insights-reports-generate"), {"store": w.store_a.pk, "month": this}
    )
    assert (
        not ServiceReport.objects.unscoped()
        .filter(month=timezone.localdate().replace(day=1))
        .exists()
    )


def test_can_read(shop):
    w = shop
    report = SimpleNamespace(store_id=w.store_a.pk)
    assert reports.can_read(w.admin_a, report) and reports.can_read(w.manager_a, report)
    assert not reports.can_read(w.admin_b, report)
    assert not reports.can_read(w.advisor_a, report)
