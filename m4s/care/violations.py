"""Traffic violations (recorded by staff, imported from a file, posted by an integration with a
group API key) and the integration keys themselves."""

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError, NotFound
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from .choices import (
    API_KEY_PREFIX,
    OPEN_STATUSES,
    VIOLATION_FUTURE_SLACK_HOURS,
    VIOLATION_MAX_AGE_DAYS,
    Kind,
    Status,
    ViolationSource,
    ViolationStatus,
)
from .models import (
    IntegrationKey,
    Reminder,
    Violation,
)
from .services import FINE_MAX, _aware, _scan_after_commit


@dataclass
class ViolationInput:
    occurred_at: Any
    description: str
    place: str = ""
    code: str = ""
    fine_cny: Any = 0
    points: Any = 0
    external_ref: str = ""


def _clean_violation(data: ViolationInput, now: dt.datetime) -> dict[str, Any]:
    occurred = _aware(data.occurred_at, "occurred_at")
    if occurred < now - dt.timedelta(days=VIOLATION_MAX_AGE_DAYS):
        raise DomainError(
            "date_out_of_range", _("The violation is too long ago to be recorded."), status=400
        )
    if occurred > now + dt.timedelta(hours=VIOLATION_FUTURE_SLACK_HOURS):
        raise DomainError(
            "date_out_of_range", _("The violation date is in the future."), status=400
        )
    description = (data.description or "").strip()
    if not description or len(description) > 300:
        raise DomainError(
            "invalid_description", _("Describe the violation (at most 300 characters)."), status=422
        )
    try:
        fine = Decimal(str(data.fine_cny if data.fine_cny not in (None, "") else 0))
    except (InvalidOperation, ValueError):
        raise DomainError("invalid_fine", _("The fine is not a number."), status=422) from None
    if (
        not fine.is_finite()
        or fine < 0
        or fine > FINE_MAX
        or fine != fine.quantize(Decimal("0.01"))
    ):
        raise DomainError(
            "invalid_fine", _("The fine must be between 0 and 100,000 CNY."), status=422
        )
    try:
        points = int(str(data.points if data.points not in (None, "") else 0))
    except ValueError:
        raise DomainError("invalid_points", _("Points must be 0 to 12."), status=422) from None
    if not 0 <= points <= 12:
        raise DomainError("invalid_points", _("Points must be 0 to 12."), status=422)
    ref = (data.external_ref or "").strip()
    if len(ref) > 64:
        raise DomainError("invalid_reference", _("The reference is too long."), status=422)
    place, code = (data.place or "").strip(), (data.code or "").strip()
    if len(place) > 200 or len(code) > 20:
        raise DomainError("invalid_place", _("The place or code is too long."), status=422)
    return {
        "occurred_at": occurred,
        "description": description,
        "place": place,
        "code": code,
        "fine_cny": fine,
        "points": points,
        "external_ref": ref,
    }


def find_vehicle(group_id: int, *, vin: str = "", plate: str = ""):
    """The group's car with this VIN or plate; unknown here (another group's car too): 404."""
    from m4s.vehicles.models import Vehicle
    from m4s.vehicles.validation import plate_search_key

    qs = Vehicle.objects.for_group(group_id).select_related("current_owner")
    vin = (vin or "").strip().upper()
    plate = plate_search_key(plate or "")
    if not vin and not plate:
        raise DomainError("vehicle_required", _("Give the car's VIN or plate."), status=422)
    found = qs.filter(vin=vin).first() if vin else qs.filter(plate=plate).first()
    if found is None:
        raise DomainError("unknown_vehicle", _("No such car in this dealer group."), status=404)
    return found


def record_violation(
    vehicle,
    data: ViolationInput,
    *,
    source: str,
    actor=None,
    now: dt.datetime | None = None,
) -> tuple[Violation, bool]:
    """A violation of one of the group's cars (validated; nothing stored when bad). With an
    external reference, once per group: the same reference again returns the first record.
    The owner is reminded by the care scan's violation pass, run right after commit."""
    now = now or timezone.now()
    clean = _clean_violation(data, now)
    group_id = vehicle.dealer_group_id
    if clean["external_ref"]:
        earlier = (
            Violation.objects.for_group(group_id).filter(external_ref=clean["external_ref"]).first()
        )
        if earlier is not None:
            return earlier, False
    try:
        with transaction.atomic():
            violation = Violation.objects.create(
                dealer_group_id=group_id,
                vehicle=vehicle,
                customer_id=vehicle.current_owner_id,
                source=ViolationSource(source),
                recorded_by=actor if getattr(actor, "pk", None) else None,
                created_at=now,
                **clean,
            )
    except IntegrityError:  # the same reference posted twice at once
        earlier = (
            Violation.objects.for_group(group_id).filter(external_ref=clean["external_ref"]).first()
        )
        if earlier is None:
            raise
        return earlier, False
    _scan_after_commit([Kind.VIOLATION], group_id)
    return violation, True


def record_violation_by_staff(actor, vehicle_id: int, data: ViolationInput) -> Violation:
    from m4s.customers.selectors import vehicles_for

    check_perm(actor, Perm.HANDLE_CARE)
    vehicle = vehicles_for(actor).filter(pk=vehicle_id).select_related("current_owner").first()
    if vehicle is None:
        raise NotFound(_("No such car."))
    violation, _created = record_violation(vehicle, data, source=ViolationSource.STAFF, actor=actor)
    return violation


@transaction.atomic
def set_violation_status(actor, violation_id: int, status: str) -> Violation:
    check_perm(actor, Perm.HANDLE_CARE)
    if status not in ViolationStatus.values:
        raise DomainError("invalid_status", _("Unknown status."), status=422)
    violation = Violation.objects.for_actor(actor).filter(pk=violation_id).first()
    if violation is None:
        raise NotFound(_("No such violation."))
    violation.status = status
    violation.cleared_at = timezone.now() if status == ViolationStatus.CLEARED else None
    violation.save(update_fields=["status", "cleared_at"])
    if status == ViolationStatus.CLEARED:
        Reminder.objects.for_group(violation.dealer_group_id).filter(
            kind=Kind.VIOLATION, target_ref=f"violation:{violation.pk}", status__in=OPEN_STATUSES
        ).update(status=Status.DONE, closed_at=violation.cleared_at)
    return violation


# --- violations from a file ---------------------------------------------------------------------
IMPORT_COLUMNS = {
    "plate": ("plate", "车牌", "车牌号", "번호판"),
    "vin": ("vin", "车架号", "차대번호"),
    "occurred_at": ("occurred_at", "time", "date", "时间", "违章时间", "일시"),
    "place": ("place", "地点", "违章地点", "장소"),
    "code": ("code", "违章代码", "코드"),
    "description": ("description", "what", "违章行为", "内容", "내용"),
    "fine_cny": ("fine_cny", "fine", "罚款", "벌금"),
    "points": ("points", "扣分", "벌점"),
    "external_ref": ("external_ref", "reference", "ref", "编号", "决定书编号", "참조"),
}
IMPORT_MAX_ROWS = 5000
IMPORT_MAX_BYTES = 5_000_000


@dataclass
class ImportResult:
    created: int = 0
    duplicates: int = 0
    errors: list[dict] = field(default_factory=list)


def _column_of(label: Any) -> str | None:
    key = str(label or "").strip().lower().replace(" ", "_")
    for name, aliases in IMPORT_COLUMNS.items():
        if key in aliases:
            return name
    return None


def _file_rows(file_obj, filename: str) -> list[dict]:
    import contextlib
    import io
    import os

    from m4s.customers.importing.reading import read_table

    extension = os.path.splitext(filename or "")[1].lower()
    if extension not in (".csv", ".xlsx"):
        raise DomainError("unsupported_file", _("Upload a .csv or .xlsx file."))
    data = file_obj.read() if hasattr(file_obj, "read") else file_obj
    if len(data) > IMPORT_MAX_BYTES:
        raise DomainError("file_too_large", _("The file is too large."), status=413)
    table = read_table(io.BytesIO(data), extension)
    rows: list[dict] = []
    with contextlib.closing(table):  # type: ignore[type-var]  # a generator has close()
        header: list[str | None] | None = None
        for number, cells in table:
            values = ["" if c is None else c for c in cells]
            if header is None:
                if not any(str(v).strip() for v in values):
                    continue
                header = [_column_of(v) for v in values]
                unknown = [
                    str(v)
                    for v, h in zip(values, header, strict=False)
                    if str(v).strip() and h is None
                ]
                if unknown:
                    raise DomainError(
                        "unknown_columns",
                        _("Unknown column(s): %(names)s.") % {"names": ", ".join(unknown)},
                    )
                if (
                    "occurred_at" not in header
                    or "description" not in header
                    or not ("plate" in header or "vin" in header)
                ):
                    raise DomainError(
                        "missing_columns",
                        _(
                            "The file needs the columns plate (or vin), occurred_at and description."
                        ),
                    )
                continue
            if not any(str(v).strip() for v in values):
                continue
            if len(rows) >= IMPORT_MAX_ROWS:
                raise DomainError(
                    "too_many_rows",
                    _("Import at most %(count)d rows per file.") % {"count": IMPORT_MAX_ROWS},
                )
            row = {h: v for h, v in zip(header, values, strict=False) if h}
            row["_row"] = number
            rows.append(row)
    if header is None:
        raise DomainError("empty_file", _("The file has no header row and no data."))
    return rows


def import_violations(actor, file_obj, filename: str) -> ImportResult:
    """Violations from a .csv or .xlsx file (columns: plate or vin, occurred_at, description,
    place, code, fine_cny, points, external_ref). Every row is checked first: one bad row and
    nothing is stored (the errors name the rows). Rows whose reference is already recorded are
    counted as duplicates."""
    check_perm(actor, Perm.MANAGE_CARE)
    group_id = actor.dealer_group_id
    if not group_id:
        raise DomainError("no_group", _("Only a dealer group's staff can import."), status=403)
    rows = _file_rows(file_obj, filename)
    now = timezone.now()
    result = ImportResult()
    cleaned = []
    seen_refs: set[str] = set()
    for row in rows:
        try:
            vehicle = find_vehicle(
                group_id, vin=str(row.get("vin") or ""), plate=str(row.get("plate") or "")
            )
            data = ViolationInput(
                occurred_at=row.get("occurred_at"),
                description=str(row.get("description") or ""),
                place=str(row.get("place") or ""),
                code=str(row.get("code") or ""),
                fine_cny=row.get("fine_cny"),
                points=row.get("points"),
                external_ref=str(row.get("external_ref") or ""),
            )
            clean = _clean_violation(data, now)
        except DomainError as exc:
            result.errors.append({"row": row["_row"], "code": exc.code, "message": exc.message})
            continue
        ref = clean["external_ref"]
        if ref and ref in seen_refs:
            result.duplicates += 1
            continue
        seen_refs.add(ref) if ref else None
        cleaned.append((vehicle, data))
    if result.errors:
        raise DomainError(
            "import_invalid",
            _("%(count)d row(s) cannot be imported; nothing was stored.")
            % {"count": len(result.errors)},
            status=422,
            errors=result.errors[:50],
        )
    with transaction.atomic():
        for vehicle, data in cleaned:
            _violation, created = record_violation(
                vehicle, data, source=ViolationSource.IMPORT, actor=actor, now=now
            )
            if created:
                result.created += 1
            else:
                result.duplicates += 1
    return result


# --- integration keys ---------------------------------------------------------------------------
def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def make_integration_key(actor, name: str) -> tuple[IntegrationKey, str]:
    """A new key for an outside system of the actor's group: (row, the key - shown once)."""
    check_perm(actor, Perm.MANAGE_CARE)
    if not actor.dealer_group_id:
        raise DomainError("no_group", _("Only a dealer group's staff can make keys."), status=403)
    return create_integration_key(actor.dealer_group_id, name)


def new_key() -> tuple[str, str, str]:
    """(prefix, key, hash of the key): the key is shown once and never stored."""
    prefix = secrets.token_hex(6)
    key = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return prefix, key, _hash(key)


def create_integration_key(group_id: int, name: str) -> tuple[IntegrationKey, str]:
    prefix, key, _digest = new_key()
    row = IntegrationKey.objects.create(
        dealer_group_id=group_id,
        name=(name or "integration")[:80],
        prefix=prefix,
        key_hash=_hash(key),
    )
    return row, key


def group_of_key(key: str | None, *, now: dt.datetime | None = None) -> int | None:
    """The dealer group of a live integration key, else None."""
    key = (key or "").strip()
    parts = key.split("_", 2)
    if len(parts) != 3 or parts[0] != API_KEY_PREFIX or not parts[1] or len(parts[1]) > 16:
        return None
    row = IntegrationKey.objects.unscoped().filter(prefix=parts[1]).first()
    if row is None or row.revoked_at is not None:
        return None
    if not hmac.compare_digest(row.key_hash, _hash(key)):
        return None
    now = now or timezone.now()
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        IntegrationKey.objects.unscoped().filter(pk=row.pk).update(last_used_at=now)
    return row.dealer_group_id


def revoke_integration_key(actor, key_id: int) -> None:
    check_perm(actor, Perm.MANAGE_CARE)
    if (
        not IntegrationKey.objects.for_actor(actor)
        .filter(pk=key_id)
        .update(revoked_at=timezone.now())
    ):
        raise NotFound(_("No such key."))
