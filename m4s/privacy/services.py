"""Owners' data rights: export, erasure with a cooling-off period, retention.

Every area's own `privacy.py` (settings.PERSONAL_DATA, see registry.py) says what it holds and
how to export and erase it; this module runs them, builds the export ZIP, signs its link and
keeps the record of each erasure."""

import datetime as dt
import io
import json
import logging
import zipfile
from pathlib import PurePosixPath

from django.conf import settings
from django.core import signing
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import get_random_string
from django.utils.translation import gettext as _

from m4s.core.errors import NotFound

from . import registry
from .choices import ErasureStatus, ExportStatus
from .models import DataExport, ErasureRecord, ErasureRequest

logger = logging.getLogger("m4s.privacy")
SIGNING_SALT = "m4s.privacy.export"
STALE_CLAIM = dt.timedelta(minutes=10)  # a build claimed longer ago died with its worker


def _lock(owner) -> None:
    """Serialise an owner's own privacy requests on their owner row."""
    from m4s.owners.models import Owner

    Owner.objects.select_for_update().filter(pk=owner.pk).exists()


# --- export ----------------------------------------------------------------------------------
def request_export(owner) -> tuple[DataExport, bool]:
    """The owner's export being prepared, or a new one (True) built by a task after commit."""
    from .tasks import build_export_task

    with transaction.atomic():
        _lock(owner)  # two requests at once: one export
        existing = DataExport.objects.filter(owner=owner, status=ExportStatus.PENDING).first()
        if existing is not None:
            return existing, False
        export = DataExport.objects.create(owner=owner, requested_at=timezone.now())
        transaction.on_commit(lambda: build_export_task.enqueue(export.pk))
    return export, True


def collect(owner) -> tuple[dict[str, list[dict]], list[str]]:
    """Every area's rows about the owner, by kind, and the storage names of their photos."""
    kinds: dict[str, list[dict]] = {}
    files: list[str] = []
    for module in registry.modules():
        export = getattr(module, "export_owner", None)
        if export is None:
            continue
        part = export(owner)
        for kind, rows in part.get("rows", {}).items():
            kinds.setdefault(kind, []).extend(rows)
        files += part.get("files", [])
    return kinds, files


def _xlsx(kinds: dict[str, list[dict]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for kind, rows in kinds.items():
        sheet = book.create_sheet(kind[:31])
        columns = list(dict.fromkeys(key for row in rows for key in row))
        sheet.append(columns)
        for row in rows:
            sheet.append([_cell(row.get(c)) for c in columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cell(value):
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def build_zip(owner) -> tuple[bytes, dict]:
    kinds, files = collect(owner)
    buffer = io.BytesIO()
    photos = 0
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, rows in kinds.items():
            archive.writestr(
                f"json/{kind}.json", json.dumps(rows, ensure_ascii=False, indent=1, default=str)
            )
        archive.writestr("data.xlsx", _xlsx(kinds))
        for name in files:
            try:
                with default_storage.open(name, "rb") as handle:
                    archive.writestr(f"photos/{PurePosixPath(name).name}", handle.read())
                    photos += 1
            except FileNotFoundError:
                logger.warning("export of owner %s: a photo file is missing", owner.pk)
        archive.writestr(
            "README.txt",
            "M4S data export: json/<kind>.json and data.xlsx (one sheet per kind) hold "
            "the same rows; photos/ holds your pictures.\n",
        )
    counts = {kind: len(rows) for kind, rows in kinds.items()}
    counts["photos"] = photos
    return buffer.getvalue(), counts


def build_export(export_id: int, *, now: dt.datetime | None = None) -> str:
    """Build one export (idempotent: a ready one is left alone; two runs at once build once)."""
    now = now or timezone.now()
    claimed = (
        DataExport.objects.filter(pk=export_id, status=ExportStatus.PENDING)
        .exclude(claimed_at__gt=now - STALE_CLAIM)
        .update(claimed_at=now)
    )
    if not claimed:
        return "skipped"
    export = DataExport.objects.select_related("owner").get(pk=export_id)
    data, counts = build_zip(export.owner)
    name = default_storage.save(f"privacy-exports/{get_random_string(32)}.zip", ContentFile(data))
    done = timezone.now()
    DataExport.objects.filter(pk=export_id, status=ExportStatus.PENDING).update(
        status=ExportStatus.READY,
        file=name,
        size=len(data),
        counts=counts,
        ready_at=done,
        expires_at=done + dt.timedelta(days=settings.DATA_EXPORT_TTL_DAYS),
    )
    return "built"


def resume_exports(now: dt.datetime | None = None) -> int:
    """Re-enqueue exports whose task was lost (a crash between commit and enqueue) or whose
    worker died mid-build; the build itself is idempotent."""
    from .tasks import build_export_task

    now = now or timezone.now()
    stale = DataExport.objects.filter(status=ExportStatus.PENDING).filter(
        Q(claimed_at__isnull=True, requested_at__lte=now - STALE_CLAIM)
        | Q(claimed_at__lte=now - STALE_CLAIM)
    )
    ids = list(stale.values_list("pk", flat=True))
    for pk in ids:
        build_export_task.enqueue(pk)
    return len(ids)


def get_export(owner, export_id: int) -> DataExport:
    export = DataExport.objects.filter(owner=owner, pk=export_id).first()
    if export is None:
        raise NotFound(_("No such data export."))
    return export


def latest_export(owner) -> DataExport | None:
    return DataExport.objects.filter(owner=owner).first()


def is_downloadable(export: DataExport, now: dt.datetime | None = None) -> bool:
    now = now or timezone.now()
    return bool(
        export.status == ExportStatus.READY
        and export.file
        and export.expires_at
        and export.expires_at > now
    )


def download_token(export: DataExport) -> str:
    return signing.dumps({"e": export.pk, "o": export.owner_id}, salt=SIGNING_SALT)


def export_for_token(token: str, owner) -> DataExport:
    """The export a signed link names, for the owner who follows it: the signature must be
    good and younger than DATA_EXPORT_TTL_DAYS, and name this owner; anything else is 404."""
    try:
        data = signing.loads(
            token, salt=SIGNING_SALT, max_age=dt.timedelta(days=settings.DATA_EXPORT_TTL_DAYS)
        )
    except signing.BadSignature:
        raise NotFound(_("This download link is not valid any more.")) from None
    if owner is None or not isinstance(data, dict) or data.get("o") != owner.pk:
        raise NotFound(_("This download link is not valid any more."))
    export = DataExport.objects.filter(pk=data.get("e"), owner=owner).first()
    if export is None or not is_downloadable(export):
        raise NotFound(_("This download link is not valid any more."))
    return export


def expire_exports(now: dt.datetime) -> int:
    """Delete the files of exports past their time (set-based; each file then removed)."""
    due = DataExport.objects.filter(status=ExportStatus.READY, expires_at__lte=now)
    names = [n for n in due.values_list("file", flat=True) if n]
    expired = due.update(status=ExportStatus.EXPIRED, file="")
    for name in names:
        default_storage.delete(name)
    return expired


# --- erasure ---------------------------------------------------------------------------------
def pending_erasure(owner) -> ErasureRequest | None:
    return ErasureRequest.objects.filter(owner=owner, status=ErasureStatus.PENDING).first()


def request_erasure(owner, *, now: dt.datetime | None = None) -> tuple[ErasureRequest, bool]:
    """Ask for erasure: it happens after ERASURE_COOLING_OFF_DAYS unless cancelled. Asking
    again while one is pending returns that one (False)."""
    now = now or timezone.now()
    with transaction.atomic():
        _lock(owner)  # two requests at once: one erasure request
        existing = pending_erasure(owner)
        if existing is not None:
            return existing, False
        erasure = ErasureRequest.objects.create(
            owner=owner,
            requested_at=now,
            due_at=now + dt.timedelta(days=settings.ERASURE_COOLING_OFF_DAYS),
        )
    return erasure, True


def cancel_erasure(owner, *, now: dt.datetime | None = None) -> ErasureRequest:
    now = now or timezone.now()
    with transaction.atomic():
        erasure = (
            ErasureRequest.objects.select_for_update()
            .filter(owner=owner, status=ErasureStatus.PENDING)
            .first()
        )
        if erasure is None:
            raise NotFound(_("There is no erasure request to cancel."))
        erasure.status, erasure.cancelled_at = ErasureStatus.CANCELLED, now
        erasure.save(update_fields=["status", "cancelled_at"])
    return erasure


def erase(erasure_id: int, *, now: dt.datetime | None = None) -> ErasureRecord | None:
    """Erase one owner across every area, in one transaction, once: the request row is locked
    and must still be pending and due. Returns the record, or None if nothing was to be done."""
    now = now or timezone.now()
    with transaction.atomic():
        erasure = (
            ErasureRequest.objects.select_for_update()
            .filter(pk=erasure_id, status=ErasureStatus.PENDING, due_at__lte=now)
            .select_related("owner")
            .first()
        )
        if erasure is None:
            return None
        owner = erasure.owner
        summary = {}
        for module in registry.modules():
            run = getattr(module, "erase_owner", None)
            if run is not None:
                done = {k: v for k, v in run(owner).items() if v}
                if done:
                    summary[registry.area_of(module)] = done
        # the owner's own exports go too: they hold everything
        exports = list(DataExport.objects.filter(owner=owner).values_list("file", flat=True))
        removed, _ = DataExport.objects.filter(owner=owner).delete()
        if removed:
            summary["privacy"] = {"data exports deleted": removed}
        erasure.status, erasure.done_at = ErasureStatus.DONE, now
        erasure.save(update_fields=["status", "done_at"])
        record = ErasureRecord.objects.create(
            request=erasure, requested_at=erasure.requested_at, erased_at=now, summary=summary
        )
        transaction.on_commit(lambda: [default_storage.delete(n) for n in exports if n])
    logger.info("erasure %s done", erasure_id)
    return record


def erase_due(now: dt.datetime | None = None) -> int:
    """The scheduled job: every erasure past its cooling-off period."""
    now = now or timezone.now()
    due = list(
        ErasureRequest.objects.filter(status=ErasureStatus.PENDING, due_at__lte=now).values_list(
            "pk", flat=True
        )
    )
    return sum(1 for pk in due if erase(pk, now=now) is not None)


# --- retention ------------------------------------------------------------------------------
def enforce_retention(now: dt.datetime | None = None) -> dict:
    """The daily job: each area deletes what is older than RETENTION_DAYS says (set-based)."""
    now = now or timezone.now()
    out = {}
    for module in registry.modules():
        run = getattr(module, "enforce_retention", None)
        if run is not None:
            out[registry.area_of(module)] = run(settings.RETENTION_DAYS, now)
    out["privacy"] = {"data exports expired": expire_exports(now)}
    return out


def retention_table() -> list[dict]:
    """What the privacy page lists: each kind of data, why, and for how long (from settings)."""
    days = settings.RETENTION_DAYS
    return [
        {"kind": "telemetry", "days": days["telemetry"]},
        {"kind": "messages", "days": days["messages"]},
        {"kind": "photos", "days": days["photos"]},
        {"kind": "audit", "days": days["audit"]},
    ]
