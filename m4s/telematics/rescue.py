"""Rescue, end to end: the group's directory of tow partners and insurers, dispatching a tow and
following it, the first notice of loss to the owner's insurer, the owner's photos, and the
repair order the case becomes (with insurance paying its lines).

Every step is written to the case's append-only log (RescueStep: who, when, a message code and
its parameters, translated when shown) and told to the owner through the notify outbox (the
contact policy; transactional category). The insurer's report goes through an adapter
(`ADAPTERS`, by the insurer's channel); the default sends an e-mail with Django's e-mail API,
the report as text and the owner's photos attached, after commit, once: a retried notice finds
the case already asked and sends nothing more.

A tow partner, an insurer or a store of another group is "not found" (404) and nothing is
stored; so is another owner's case for an owner.
"""

import datetime as dt
import functools
import logging
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.core.mail import EmailMessage
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, override

from m4s.core.errors import DomainError
from m4s.core.i18n import render_source, text
from m4s.core.uploads import clean_image, requesting_owner, requesting_staff
from m4s.notify.services import tell_customer
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from .choices import Alarm, CaseStatus
from .models import Insurer, RescueCase, RescuePhoto, RescueStep, TowPartner, VehicleState
from .rescue_choices import (
    MAX_CASE_PHOTOS,
    TOW_ACTIVE,
    TOW_NEXT,
    InsurerChannel,
    StepKind,
    TowStatus,
)

log = logging.getLogger(__name__)
MAX_ETA_MINUTES = 12 * 60
SENDING_STALE = dt.timedelta(minutes=10)  # a sender that died: the notice may be claimed again
CONTACT_FIELDS = ("name", "phone", "service_area", "email", "api_url", "active")


# --- the log and the owner -----------------------------------------------------------------------
def add_step(
    case: RescueCase,
    kind: str,
    code: str,
    *,
    actor=None,
    status: str = "",
    at=None,
    **params: Any,
) -> RescueStep:
    """Append one step to the case's log (never updated or deleted)."""
    return RescueStep.objects.create(
        dealer_group_id=case.dealer_group_id,
        case=case,
        at=at or timezone.now(),
        actor=actor if getattr(actor, "pk", None) else None,
        kind=kind,
        status=status,
        code=code,
        params=text(code, **{k: v for k, v in params.items() if v not in (None, "")}).get("p", {}),
    )


def step_text(step: RescueStep, *, for_owner: bool = False) -> str:
    """The step in the active language; the staff's free-text note is not shown to the owner."""
    params = dict(step.params or {})
    note = params.pop("note", "")
    shown = render_source(step.code, params)
    return f"{shown} · {note}" if note and not for_owner else shown


def case_link(case: RescueCase) -> str:
    return f"/app/rescue/{case.pk}/"


def _tell_owner(case: RescueCase, key: str, title, body, *, sms: bool = False) -> None:
    tell_customer(
        case.customer,
        f"rescue.{key.split(':')[0]}",
        lambda: (title, body),
        dedupe=f"rescue:{case.pk}:{key}",
        sms=sms,
        link=case_link(case),
        category="transactional",
    )


def _lock(actor, case: RescueCase) -> RescueCase:
    check_perm(actor, Perm.USE_CONSOLE)
    locked = (
        RescueCase.objects.for_actor(actor)
        .select_for_update(of=("self",))
        .select_related("vehicle", "customer", "store", "destination", "tow", "insurer")
        .filter(pk=case.pk)
        .first()
    )
    if locked is None:
        raise DomainError("not_found", _("No such case."), status=404)
    return locked


def _require_open(case: RescueCase) -> None:
    if case.status == CaseStatus.CLOSED:
        raise DomainError("case_closed", _("This case is already closed."), status=409)


def _acknowledge(actor, case: RescueCase, now) -> None:
    if case.status == CaseStatus.OPEN:
        case.status, case.acknowledged_at, case.acknowledged_by = (
            CaseStatus.ACKNOWLEDGED,
            now,
            actor,
        )


# --- the directory ---------------------------------------------------------------------------------
def _save_contact(model, actor, obj, fields: dict) -> Any:
    check_perm(actor, Perm.MANAGE_GROUP_SETTINGS)
    group = actor.dealer_group_id
    if not group:
        raise DomainError("no_group", _("Sign in as staff of a dealer group."), status=403)
    if obj is not None and obj.dealer_group_id != group:
        raise DomainError("not_found", _("Not found."), status=404)
    data = {k: fields[k] for k in CONTACT_FIELDS if k in fields}
    if "channel" in fields and model is Insurer:
        data["channel"] = fields["channel"]
    for k in ("name", "phone", "service_area", "email", "api_url"):
        if k in data:
            data[k] = (data[k] or "").strip()
    name = data.get("name", getattr(obj, "name", ""))
    phone = data.get("phone", getattr(obj, "phone", ""))
    if not name or not phone:
        raise DomainError("name_and_phone_required", _("A name and a phone number are needed."))
    email = data.get("email", getattr(obj, "email", ""))
    api_url = data.get("api_url", getattr(obj, "api_url", ""))
    if not email and not api_url:
        raise DomainError(
            "contact_required", _("Give an e-mail address or an API address to reach them.")
        )
    if model is Insurer:
        channel = data.get("channel", getattr(obj, "channel", InsurerChannel.EMAIL))
        if channel not in InsurerChannel.values:
            raise DomainError("invalid_channel", _("Reports go by e-mail or API."))
        if channel == InsurerChannel.EMAIL and not email:
            raise DomainError("email_required", _("Reports by e-mail need an e-mail address."))
        if channel == InsurerChannel.API and not api_url:
            raise DomainError("api_url_required", _("Reports by API need an API address."))
    obj = obj or model(dealer_group_id=group)
    for k, v in data.items():
        setattr(obj, k, v)
    obj.full_clean(exclude=["dealer_group"])
    obj.save()
    return obj


def save_tow_partner(actor, partner: TowPartner | None = None, **fields) -> TowPartner:
    return _save_contact(TowPartner, actor, partner, fields)


def save_insurer(actor, insurer: Insurer | None = None, **fields) -> Insurer:
    return _save_contact(Insurer, actor, insurer, fields)


def insurer_for_car(case: RescueCase) -> Insurer | None:
    """The directory's insurer whose name matches the insurer recorded on the car, if any."""
    recorded = (case.vehicle.insurer or "").strip().lower()
    if not recorded:
        return None
    for ins in Insurer.objects.for_group(case.dealer_group_id).filter(active=True):
        name = ins.name.lower()
        if name in recorded or recorded in name:
            return ins
    return None


# --- the tow -------------------------------------------------------------------------------------
@transaction.atomic
def dispatch_tow(
    actor,
    case: RescueCase,
    *,
    tow_partner_id: int,
    eta_minutes: int,
    destination_store_id: int | None = None,
    note: str = "",
) -> RescueCase:
    """Send a tow partner of the group to the car: ETA in minutes, destination the owner's store
    unless another store of the group is chosen. A case whose tow is already under way is
    refused (cancel it first)."""
    case = _lock(actor, case)
    _require_open(case)
    if case.tow_status in TOW_ACTIVE:
        raise DomainError("tow_already_dispatched", _("A tow is already under way."), status=409)
    partner = (
        TowPartner.objects.for_group(case.dealer_group_id)
        .filter(pk=tow_partner_id, active=True)
        .first()
    )
    if partner is None:
        raise DomainError("tow_partner_not_found", _("No such tow partner."), status=404)
    if not isinstance(eta_minutes, int) or not 1 <= eta_minutes <= MAX_ETA_MINUTES:
        raise DomainError("invalid_eta", _("The ETA is 1 to 720 minutes."))
    destination = case.store
    if destination_store_id and destination_store_id != case.store_id:
        from m4s.org.models import Store

        destination = (
            Store.objects.for_group(case.dealer_group_id).filter(pk=destination_store_id).first()
        )
        if destination is None:
            raise DomainError("store_not_found", _("No such store."), status=404)
    now = timezone.now()
    _acknowledge(actor, case, now)
    case.tow, case.tow_status, case.tow_dispatched_at = partner, TowStatus.DISPATCHED, now
    case.tow_eta_at = now + dt.timedelta(minutes=eta_minutes)
    case.destination = destination
    case.tow_partner = partner.name[:80]
    case.save()
    step = add_step(
        case,
        StepKind.TOW,
        gettext_noop("Tow dispatched: %(partner)s, at the car in about %(eta)s min, to %(store)s"),
        actor=actor,
        status=TowStatus.DISPATCHED,
        at=now,
        partner=partner.name,
        eta=eta_minutes,
        store=destination.name,
        note=(note or "").strip()[:300],
    )
    _tell_owner(
        case,
        f"tow:{step.pk}",
        text(gettext_noop("A tow truck is on its way")),
        text(
            gettext_noop(
                "%(partner)s (%(phone)s) reaches your car in about %(eta)s minutes and takes it "
                "to %(store)s."
            ),
            partner=partner.name,
            phone=partner.phone,
            eta=eta_minutes,
            store=destination.name,
        ),
        sms=True,
    )
    return case


TOW_STEP_TEXT = {
    "on_the_way": gettext_noop("Tow on the way, at the car in about %(eta)s min"),
    "arrived": gettext_noop("Tow arrived at the car"),
    "delivered": gettext_noop("Car delivered to %(store)s"),
    "cancelled": gettext_noop("Tow cancelled"),
}


@transaction.atomic
def update_tow(
    actor, case: RescueCase, *, status: str, eta_minutes: int | None = None, note: str = ""
) -> RescueCase:
    """The tow's progress: dispatched → on the way → arrived at the car → delivered to the
    store, or cancelled. Moving backwards or past the end is refused (409)."""
    case = _lock(actor, case)
    _require_open(case)
    if status not in TOW_STEP_TEXT:
        raise DomainError("invalid_tow_status", _("Unknown tow status."))
    if case.tow_status not in TOW_NEXT or status not in TOW_NEXT[case.tow_status]:
        raise DomainError(
            "invalid_tow_transition",
            _("The tow cannot go from %(old)s to %(new)s.")
            % {
                "old": TowStatus(case.tow_status).label,
                "new": TowStatus(status).label,
            },
            status=409,
        )
    if eta_minutes is not None and not 1 <= eta_minutes <= MAX_ETA_MINUTES:
        raise DomainError("invalid_eta", _("The ETA is 1 to 720 minutes."))
    now = timezone.now()
    if eta_minutes is not None:
        case.tow_eta_at = now + dt.timedelta(minutes=eta_minutes)
    eta_left = (
        max(1, round((case.tow_eta_at - now).total_seconds() / 60)) if case.tow_eta_at else None
    )
    case.tow_status = status
    case.save()
    store = case.destination or case.store
    step = add_step(
        case,
        StepKind.TOW,
        TOW_STEP_TEXT[status],
        actor=actor,
        status=status,
        at=now,
        eta=eta_left if status == "on_the_way" else None,
        store=store.name if status == "delivered" else None,
        note=(note or "").strip()[:300],
    )
    owner_text = {
        "on_the_way": (
            text(gettext_noop("Tow on the way")),
            text(
                gettext_noop("The tow truck reaches your car in about %(eta)s minutes."),
                eta=eta_left or 0,
            ),
        ),
        "arrived": (
            text(gettext_noop("The tow truck is with your car")),
            text(gettext_noop("It takes your car to %(store)s."), store=store.name),
        ),
        "delivered": (
            text(gettext_noop("Your car arrived at the store")),
            text(
                gettext_noop("%(store)s has your car. We will tell you what it needs."),
                store=store.name,
            ),
        ),
        "cancelled": (
            text(gettext_noop("The tow was cancelled")),
            text(gettext_noop("Our rescue team will call you about what happens next.")),
        ),
    }[status]
    _tell_owner(case, f"tow:{step.pk}", *owner_text)
    if status == TowStatus.DELIVERED and case.repair_order_id:
        _close(actor, case, now)
    return case


def _close(actor, case: RescueCase, now) -> None:
    case.status, case.closed_at = CaseStatus.CLOSED, now
    if case.acknowledged_at is None:
        case.acknowledged_at, case.acknowledged_by = now, actor
    case.save()
    add_step(case, StepKind.CLOSED, gettext_noop("Case closed"), actor=actor, at=now)


# --- the insurer -------------------------------------------------------------------------------------
@dataclass
class NoticeReport:
    """A first notice of loss: what the insurer needs to open a claim."""

    case_id: int
    reference: str
    insurer: str
    kind: str
    alarm_at: dt.datetime
    lat: float | None
    lon: float | None
    speed_kmh: float | None
    plate: str
    vin: str
    owner_name: str
    owner_phone: str
    store: str
    alarms: list[dict] = field(default_factory=list)
    photos: list[tuple[str, bytes, str]] = field(default_factory=list)  # (name, data, type)

    def as_text(self) -> str:
        where = f"{self.lat:.5f}, {self.lon:.5f}" if self.lat is not None else "?"
        lines = [
            f"First notice of loss {self.reference}",
            "",
            f"Event: {self.kind}",
            f"Time: {self.alarm_at.isoformat()}",
            f"Position: {where}",
            f"Speed: {self.speed_kmh:.0f} km/h" if self.speed_kmh is not None else "Speed: ?",
            f"Car: {self.plate} (VIN {self.vin or '?'})",
            f"Policy holder: {self.owner_name} {self.owner_phone}",
            f"Dealer: {self.store}",
            "",
            "Alarm data:",
        ]
        for a in self.alarms:
            lines.append(
                f"  {a['ts']} {a['kind']} at {a['lat']}, {a['lon']}, {a['speed_kmh']} km/h"
            )
        lines += ["", f"Photos attached: {len(self.photos)}"]
        return "\n".join(lines)


class InsurerAdapter(Protocol):
    def send(self, insurer: Insurer, report: NoticeReport) -> str:
        """Deliver the report; returns the reference the insurer is told (or gives back)."""
        ...


class EmailInsurerAdapter:
    """The default: an e-mail to the insurer's claims desk with the report as text and the
    owner's photos attached (Django's EMAIL_BACKEND)."""

    def send(self, insurer: Insurer, report: NoticeReport) -> str:
        if not insurer.email:
            raise DomainError(
                "insurer_unreachable", _("This insurer has no e-mail address."), status=409
            )
        message = EmailMessage(
            subject=f"First notice of loss {report.reference}: {report.plate}",
            body=report.as_text(),
            to=[insurer.email],
            headers={"X-M4S-Reference": report.reference},
        )
        for name, data, ctype in report.photos:
            message.attach(name, data, ctype)
        message.send(fail_silently=False)
        return report.reference


# insurer channel -> adapter; an insurer set to "api" needs one registered here (none ships: each
# insurer's claims API differs); until then its reports go by e-mail when it has an address.
ADAPTERS: dict[str, InsurerAdapter] = {InsurerChannel.EMAIL: EmailInsurerAdapter()}


def adapter_for(insurer: Insurer) -> InsurerAdapter:
    return ADAPTERS.get(insurer.channel) or ADAPTERS[InsurerChannel.EMAIL]


def build_report(case: RescueCase) -> NoticeReport:
    from .models import AlarmEvent

    g = case.dealer_group_id
    since = case.alarm_at - dt.timedelta(minutes=5)
    until = max(case.alarm_at, case.last_alarm_at or case.alarm_at) + dt.timedelta(minutes=1)
    alarms = [
        {
            "ts": a.ts.isoformat(),
            "kind": a.kind,
            "lat": a.lat,
            "lon": a.lon,
            "speed_kmh": a.speed_kmh,
        }
        for a in AlarmEvent.objects.for_group(g)
        .filter(vehicle_id=case.vehicle_id, ts__gte=since, ts__lte=until)
        .order_by("ts")[:50]
    ]
    photos = []
    for p in RescuePhoto.objects.for_group(g).filter(case=case).order_by("pk"):
        with p.image.open("rb") as f:
            data = f.read()
        ext = p.image.name.rsplit(".", 1)[-1].lower()
        ctype = {"jpg": "image/jpeg", "png": "image/png", "webp": "image/webp"}.get(ext, "")
        photos.append((f"photo-{p.pk}.{ext}", data, ctype or "application/octet-stream"))
    customer = case.customer
    with override("en"):
        kind = str(Alarm(case.kind).label)
    return NoticeReport(
        case_id=case.pk,
        reference=f"M4S-R{case.pk:06d}",
        insurer=case.insurer.name if case.insurer else "",
        kind=kind,
        alarm_at=case.alarm_at,
        lat=case.lat,
        lon=case.lon,
        speed_kmh=case.speed_kmh,
        plate=case.vehicle.plate,
        vin=getattr(case.vehicle, "vin", "") or "",
        owner_name=customer.name if customer else "",
        owner_phone=customer.phone if customer else "",
        store=case.store.name,
        alarms=alarms,
        photos=photos,
    )


@transaction.atomic
def notify_insurer(actor, case: RescueCase, *, insurer_id: int | None = None) -> RescueCase:
    """Ask for the first notice of loss to the owner's insurer (the one chosen, else the one on
    the case, else the directory's insurer matching the car's). Sent after commit, once: a
    repeat of a notice already asked sends nothing (a notice whose sending failed is tried
    again)."""
    case = _lock(actor, case)
    if insurer_id is not None:
        insurer = (
            Insurer.objects.for_group(case.dealer_group_id)
            .filter(pk=insurer_id, active=True)
            .first()
        )
        if insurer is None:
            raise DomainError("insurer_not_found", _("No such insurer."), status=404)
    else:
        insurer = case.insurer or insurer_for_car(case)
        if insurer is None:
            raise DomainError(
                "insurer_required", _("Choose the owner's insurer first."), status=409
            )
    if case.insurer_asked_at is not None:
        if case.insurer_id != insurer.pk:
            raise DomainError(
                "insurer_already_notified",
                _("Another insurer was already notified for this case."),
                status=409,
            )
        if case.insurer_notified_at is None:
            transaction.on_commit(functools.partial(send_insurer_notice, case.pk))
        return case
    _require_open(case)
    if isinstance(adapter_for(insurer), EmailInsurerAdapter) and not insurer.email:
        raise DomainError("insurer_unreachable", _("This insurer cannot be reached."), status=409)
    now = timezone.now()
    _acknowledge(actor, case, now)
    case.insurer, case.insurer_asked_at = insurer, now
    case.save()
    transaction.on_commit(functools.partial(send_insurer_notice, case.pk))
    return case


def send_insurer_notice(case_id: int) -> bool:
    """Send the case's notice if it was asked and not yet sent; safe to call any number of times
    or at once from two places: a conditional claim lets one send. Returns whether it sent."""
    now = timezone.now()
    claimed = (
        RescueCase.objects.unscoped()
        .filter(pk=case_id, insurer_asked_at__isnull=False, insurer_notified_at__isnull=True)
        .exclude(insurer_sending_at__gt=now - SENDING_STALE)
        .update(insurer_sending_at=now)
    )
    if not claimed:
        return False
    case = (
        RescueCase.objects.unscoped()
        .select_related("vehicle", "customer", "store", "insurer")
        .get(pk=case_id)
    )
    try:
        report = build_report(case)
        reference = adapter_for(case.insurer).send(case.insurer, report)
    except Exception:
        log.exception("rescue case %s: the insurer's notice was not sent", case_id)
        RescueCase.objects.unscoped().filter(pk=case_id).update(insurer_sending_at=None)
        return False
    with transaction.atomic():
        RescueCase.objects.unscoped().filter(pk=case_id).update(
            insurer_notified_at=timezone.now(), insurer_reference=reference[:120]
        )
        add_step(
            case,
            StepKind.INSURER,
            gettext_noop("Insurer notified: %(insurer)s, reference %(reference)s"),
            insurer=case.insurer.name,
            reference=reference,
            photos=len(report.photos),
        )
        _tell_owner(
            case,
            "insurer",
            text(gettext_noop("Your insurer has been notified")),
            text(
                gettext_noop("We sent %(insurer)s the report of your case (reference %(ref)s)."),
                insurer=case.insurer.name,
                ref=reference,
            ),
        )
    return True


# --- the owner's photos ------------------------------------------------------------------------------
def add_case_photo(owner, case: RescueCase, upload) -> RescuePhoto:
    """A photo the owner adds to their case: pictures only (JPEG, PNG, WebP; re-encoded without
    metadata), at most MAX_CASE_PHOTOS; refused on a closed case."""
    image = clean_image(upload)  # invalid_image before anything is stored
    with transaction.atomic():
        case = (
            RescueCase.objects.for_owner(owner)
            .select_for_update(of=("self",))
            .filter(pk=case.pk)
            .first()
        )
        if case is None:
            raise DomainError("not_found", _("No such case."), status=404)
        _require_open(case)
        if RescuePhoto.objects.for_group(case.dealer_group_id).filter(case=case).count() >= (
            MAX_CASE_PHOTOS
        ):
            raise DomainError(
                "too_many_photos",
                _("At most %(n)d photos.") % {"n": MAX_CASE_PHOTOS},
                status=409,
            )
        photo = RescuePhoto(dealer_group_id=case.dealer_group_id, case=case)
        photo.image.save(image.name or "photo", image, save=False)
        photo.save()
        add_step(case, StepKind.PHOTO, gettext_noop("The owner added a photo"))
    return photo


def can_see_rescue_photo(request, photo) -> bool:
    """The case's owner and staff of the group who may open the case."""
    from .selectors import get_case

    staff, owner = requesting_staff(request), requesting_owner(request)
    if staff is not None:
        try:
            get_case(staff, photo.case_id)
            return True
        except DomainError:
            pass
    return (
        owner is not None and RescueCase.objects.for_owner(owner).filter(pk=photo.case_id).exists()
    )


# --- the repair order --------------------------------------------------------------------------------
@transaction.atomic
def open_repair_order(actor, case: RescueCase, *, repair_order_id: int | None = None) -> RescueCase:
    """The case becomes a repair order at its destination store with insurance paying its lines:
    a new one checked in for the car (its first line, the accident assessment, paid by
    insurance), or the car's open one linked (its lines then paid by insurance). Closes the case
    when the car is already delivered to the store."""
    from m4s.service import selectors as service_selectors
    from m4s.service import workshop
    from m4s.service.choices import Payer
    from m4s.service.models import RepairOrder

    case = _lock(actor, case)
    _require_open(case)
    if case.repair_order_id:
        raise DomainError(
            "repair_order_exists", _("This case already has a repair order."), status=409
        )
    if repair_order_id is not None:
        ro = (
            RepairOrder.objects.for_actor(actor)
            .filter(pk=repair_order_id, vehicle_id=case.vehicle_id)
            .first()
        )
        if ro is None:
            raise DomainError("repair_order_not_found", _("No such repair order."), status=404)
        workshop.set_lines_payer(actor, ro, Payer.INSURANCE)
    else:
        if case.customer is None or case.vehicle.current_owner_id != case.customer_id:
            raise DomainError("owner_unknown", _("The car's owner is not known."), status=409)
        store = case.destination or case.store
        state = (
            VehicleState.objects.for_group(case.dealer_group_id)
            .filter(vehicle_id=case.vehicle_id)
            .first()
        )
        odometer = max(
            int(case.vehicle.odometer_km or 0),
            int(state.odometer_km or 0) if state and state.odometer_km else 0,
        )
        fuel = int(state.fuel_pct if state and state.fuel_pct is not None else 0)
        symptoms = _("Rescue case %(n)s: %(kind)s at %(time)s.") % {
            "n": case.pk,
            "kind": Alarm(case.kind).label,
            "time": timezone.localtime(case.alarm_at, store.tz).strftime("%Y-%m-%d %H:%M"),
        }
        try:
            ro = workshop.check_in(
                actor,
                store=store,
                odometer=odometer,
                fuel_pct=max(0, min(100, fuel)),
                symptoms=symptoms,
                customer=case.customer,
                vehicle=case.vehicle,
            )
            op = service_selectors.diagnosis_operation(case.dealer_group_id)
            workshop.add_line(actor, ro, operation_id=op.pk, reason=symptoms, payer=Payer.INSURANCE)
        except DomainError as exc:
            # the workshop's refusal (no diagnosis operation or price, the car already in the
            # workshop...) depends on the state of things, not on this request: a conflict
            if exc.status == 400:
                exc.status = 409
            raise
    case = _lock(actor, case)
    case.repair_order = ro
    case.save()
    now = timezone.now()
    add_step(
        case,
        StepKind.REPAIR_ORDER,
        gettext_noop("Repair order %(number)s at %(store)s, paid by insurance"),
        actor=actor,
        at=now,
        number=ro.number,
        store=ro.store.name,
    )
    if case.tow_status == TowStatus.DELIVERED:
        _close(actor, case, now)
    return case


# --- what the owner sees -----------------------------------------------------------------------------
def owner_progress(case: RescueCase) -> list[dict]:
    """The four milestones the owner follows, each done or not, with its time."""
    steps = list(case.steps.all()) if hasattr(case, "steps") else []

    def first(kind, statuses=None):
        for s in steps:
            if s.kind == kind and (statuses is None or s.status in statuses):
                return s.at
        return None

    on_the_way = first(StepKind.TOW, {"dispatched", "on_the_way"})
    arrived = first(StepKind.TOW, {"delivered"})
    return [
        {"key": "opened", "label": _("Case opened"), "at": case.opened_at, "done": True},
        {
            "key": "tow",
            "label": _("Tow on the way"),
            "at": on_the_way,
            "done": on_the_way is not None and case.tow_status != TowStatus.CANCELLED,
        },
        {
            "key": "insurer",
            "label": _("Insurer notified"),
            "at": case.insurer_notified_at,
            "done": case.insurer_notified_at is not None,
        },
        {
            "key": "store",
            "label": _("Car at the store"),
            "at": arrived,
            "done": arrived is not None,
        },
    ]


def eta_minutes_left(case: RescueCase, now=None) -> int | None:
    if case.tow_status not in ("dispatched", "on_the_way") or case.tow_eta_at is None:
        return None
    now = now or timezone.now()
    return max(0, round((case.tow_eta_at - now).total_seconds() / 60))
