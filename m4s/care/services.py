"""Writes of the care area: what owners do with a reminder (snooze, done elsewhere, dismiss, ask
for a quote, have the store clear a violation), what staff do (mark handled, publish weather
warnings), and the pieces the scan's hand-off uses (the one-tap link, the words, a greeting's
gift coupon). The scan itself is in scan.py; rules and templates in rules.py; violations and
integration keys in violations.py."""

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core.errors import DomainError, NotFound
from m4s.core.i18n import name_of, text
from m4s.staff.choices import Perm
from m4s.staff.permissions import check_perm

from .choices import (
    MARKETING_KINDS,
    OPEN_STATUSES,
    SNOOZE_MAX_DAYS,
    InsuranceCover,
    Kind,
    Severity,
    Status,
    ViolationStatus,
    WeatherKind,
)
from .models import (
    DoneElsewhere,
    DrivingLicence,
    InsurancePolicy,
    Reminder,
    ReminderRule,
    Violation,
    WeatherWarning,
)
from .rules import compose

BOOK_URL = "/app/service/book/"
FINE_MAX = Decimal("100000")


# --- the hand-off's pieces ---------------------------------------------------------------------
def reminder_page(reminder: Reminder) -> str:
    return f"/app/care/reminders/{reminder.pk}/"


def link_for(reminder: Reminder) -> str:
    """The one-tap action of a reminder: a booking form filled in for what it is about, else
    the reminder's own page (which carries its action: ask for a quote, have the store clear a
    violation, the check-your-car tips, a greeting's gift)."""
    p = reminder.payload if isinstance(reminder.payload, dict) else {}
    if reminder.kind == Kind.MAINTENANCE and reminder.vehicle_id:
        query: dict[str, Any] = {"vehicle": reminder.vehicle_id}
        if p.get("package"):
            query["package"] = p["package"]
        return f"{BOOK_URL}?{urlencode(query)}"
    if reminder.kind == Kind.DECLINED_REPAIR and reminder.vehicle_id:
        return f"{BOOK_URL}?{urlencode(booking_query_for_line(reminder.vehicle_id, p))}"
    if reminder.kind == Kind.INSPECTION and reminder.vehicle_id:
        problem = (
            _("Inspection-exempt label due on %(date)s")
            if p.get("exempt")
            else _("Annual inspection due on %(date)s")
        ) % {"date": p.get("date", "")}
        query = {"vehicle": reminder.vehicle_id, "service": "problem", "problem": problem}
        return f"{BOOK_URL}?{urlencode(query)}"
    return reminder_page(reminder)


def booking_query_for_line(vehicle_id: int, payload: dict) -> dict[str, Any]:
    """The booking form's query for a declined line: the car, and the job in the problem box
    ("Front brake pads (declined 2026-11-03, 3.5 mm)")."""
    from .rules import _measurement

    item = payload.get("item")
    name = item.get("n", "") if isinstance(item, dict) else str(item or "")
    measured = _measurement(payload)
    detail = _("declined %(date)s") % {"date": payload.get("declined_on", "")}
    if measured:
        detail = f"{detail}, {measured}"
    return {"vehicle": vehicle_id, "service": "problem", "problem": f"{name} ({detail})"[:300]}


def compose_for(reminder: Reminder, rule: ReminderRule | None = None) -> tuple[dict, dict]:
    return compose(rule, reminder.kind, reminder.payload or {})


def greeting_coupons(rows: list[Reminder]) -> dict[int, int]:
    """{reminder id: coupon id} of the greetings among these that carry a gift: the group's
    birthday / anniversary rule's coupon, the greeting day's coupon."""
    from .models import GreetingDay

    wanted = [r for r in rows if r.kind in (Kind.BIRTHDAY, Kind.ANNIVERSARY, Kind.FESTIVAL)]
    if not wanted:
        return {}
    groups = {r.dealer_group_id for r in wanted}
    by_rule = {
        (g, k): c
        for g, k, c in ReminderRule.objects.unscoped()
        .filter(dealer_group_id__in=groups, coupon__isnull=False)
        .values_list("dealer_group_id", "kind", "coupon_id")
    }
    day_ids = {(r.payload or {}).get("greeting") for r in wanted if r.kind == Kind.FESTIVAL} - {
        None
    }
    by_day = dict(
        GreetingDay.objects.unscoped()
        .filter(pk__in=day_ids, coupon__isnull=False)
        .values_list("pk", "coupon_id")
    )
    out = {}
    for r in wanted:
        if r.kind == Kind.FESTIVAL:
            coupon = by_day.get((r.payload or {}).get("greeting"))
        else:
            coupon = by_rule.get((r.dealer_group_id, r.kind))
        if coupon:
            out[r.pk] = coupon
    return out


def attach_coupon(reminder: Reminder, coupon_id: int, now: dt.datetime) -> bool:
    """Issue the gift through loyalty and note it in the reminder (its words mention it). A
    greeting the owner has no consent for is not given a coupon."""
    from m4s.loyalty.rewards import issue_coupon

    if (reminder.payload or {}).get("coupon_code"):
        return False
    customer = reminder.customer
    if reminder.kind in MARKETING_KINDS:
        owner = customer.owner
        if not (customer.marketing_consent or (owner is not None and owner.marketing_consent)):
            return False
    code = issue_coupon(customer, coupon_id, today=timezone.localdate(now))
    if code is None:
        return False
    payload = dict(reminder.payload or {})
    payload["coupon"] = name_of(code.coupon)
    payload["coupon_code"] = code.code
    payload["coupon_id"] = code.coupon_id
    reminder.payload = payload
    return True


# --- owners -------------------------------------------------------------------------------------
def get_owner_reminder(owner, reminder_id: int) -> Reminder:
    """One of the owner's reminders (another owner's, or an unknown id: 404)."""
    found = (
        Reminder.objects.for_owner(owner)
        .select_related("customer", "vehicle")
        .filter(pk=reminder_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such reminder."))
    return found


def _lock(reminder: Reminder) -> Reminder:
    return (
        Reminder.objects.for_group(reminder.dealer_group_id)
        .select_for_update(of=("self",))
        .select_related("customer", "vehicle")
        .get(pk=reminder.pk)
    )


def _open(reminder: Reminder) -> None:
    if reminder.status not in OPEN_STATUSES:
        raise DomainError("reminder_closed", _("This reminder is already closed."), status=409)


@transaction.atomic
def snooze(owner, reminder: Reminder, days: int, *, now: dt.datetime | None = None) -> Reminder:
    """Put the reminder away for `days` days: it comes back (and is sent again) then."""
    now = now or timezone.now()
    if not isinstance(days, int) or isinstance(days, bool) or not 1 <= days <= SNOOZE_MAX_DAYS:
        raise DomainError(
            "invalid_days",
            _("Snooze for 1 to %(max)d days.") % {"max": SNOOZE_MAX_DAYS},
            status=422,
        )
    reminder = _lock(get_owner_reminder(owner, reminder.pk))
    _open(reminder)
    reminder.status = Status.SNOOZED
    reminder.snoozed_until = timezone.localdate(now) + dt.timedelta(days=days)
    reminder.save(update_fields=["status", "snoozed_until"])
    return reminder


@transaction.atomic
def dismiss(owner, reminder: Reminder, *, now: dt.datetime | None = None) -> Reminder:
    now = now or timezone.now()
    reminder = _lock(get_owner_reminder(owner, reminder.pk))
    _open(reminder)
    reminder.status, reminder.closed_at = Status.DISMISSED, now
    reminder.save(update_fields=["status", "closed_at"])
    return reminder


DONE_ELSEWHERE_KINDS = (Kind.MAINTENANCE, Kind.DECLINED_REPAIR, Kind.INSPECTION, Kind.INSURANCE)


@transaction.atomic
def done_elsewhere(
    owner,
    reminder: Reminder,
    *,
    done_on: dt.date,
    odometer_km: int | None = None,
    now: dt.datetime | None = None,
) -> DoneElsewhere:
    """The owner had it done at another garage: the reminder closes, the service is recorded
    (a maintenance item moves the car's schedule: it counts from then), and the fact is kept as
    a retention signal on the customer's timeline."""
    from m4s.customers.choices import TimelineKind
    from m4s.customers.services import record_timeline
    from m4s.service.workshop import record_done_elsewhere

    now = now or timezone.now()
    today = timezone.localdate(now)
    reminder = _lock(get_owner_reminder(owner, reminder.pk))
    _open(reminder)
    if reminder.kind not in DONE_ELSEWHERE_KINDS:
        raise DomainError("not_a_service", _("Only a service can be done elsewhere."), status=400)
    if not isinstance(done_on, dt.date) or done_on > today:
        raise DomainError("invalid_date", _("The date cannot be in the future."), status=400)
    if done_on < today - dt.timedelta(days=366):
        raise DomainError("invalid_date", _("The date cannot be more than a year ago."), status=400)
    if odometer_km is not None and not 0 <= odometer_km <= 2_000_000:
        raise DomainError("invalid_odometer", _("Enter the odometer in km."), status=422)
    p = reminder.payload if isinstance(reminder.payload, dict) else {}
    if reminder.vehicle is not None:
        items = []
        if reminder.kind == Kind.MAINTENANCE and p.get("item_id"):
            items = [int(p["item_id"])]
        operation = p.get("operation") if reminder.kind == Kind.DECLINED_REPAIR else None
        record_done_elsewhere(
            reminder.vehicle,
            item_ids=items,
            operation_id=int(operation) if operation else None,
            done_on=done_on,
            done_km=odometer_km,
        )
    record = DoneElsewhere.objects.create(
        dealer_group_id=reminder.dealer_group_id,
        reminder=reminder,
        customer=reminder.customer,
        vehicle=reminder.vehicle,
        kind=reminder.kind,
        done_on=done_on,
        odometer_km=odometer_km,
        created_at=now,
    )
    reminder.status, reminder.closed_at = Status.DONE_ELSEWHERE, now
    reminder.save(update_fields=["status", "closed_at"])
    record_timeline(
        reminder.customer,
        TimelineKind.NOTE,
        gettext_noop("Had %(what)s done at another garage on %(date)s"),
        params={"what": _label(Kind(reminder.kind).label), "date": done_on.isoformat()},
        data={"care": "done_elsewhere", "reminder": reminder.pk},
        at=now,
    )
    return record


def _label(label: Any) -> Any:
    """A choice label (gettext_lazy) stored as system text: translated when read."""
    args = getattr(label, "_args", ())
    return {"t": args[0]} if len(args) == 1 and isinstance(args[0], str) else str(label)


@transaction.atomic
def request_quote(owner, reminder: Reminder, *, now: dt.datetime | None = None) -> Reminder:
    """One tap on an insurance reminder: the store's staff are asked for a renewal quote."""
    now = now or timezone.now()
    reminder = _lock(get_owner_reminder(owner, reminder.pk))
    if reminder.kind != Kind.INSURANCE:
        raise DomainError("wrong_kind", _("This reminder has no quote to ask for."), status=422)
    _tell_store(
        reminder,
        "care.quote_request",
        lambda: (
            text(gettext_noop("Insurance renewal quote asked for")),
            text(
                gettext_noop("%(name)s, %(plate)s: policy ends %(date)s."),
                name=reminder.customer.name,
                plate=(reminder.payload or {}).get("plate", ""),
                date=(reminder.payload or {}).get("date", ""),
            ),
        ),
        dedupe=f"care:quote:{reminder.pk}",
    )
    if reminder.status in OPEN_STATUSES:
        reminder.status, reminder.closed_at = Status.DONE, now
        reminder.save(update_fields=["status", "closed_at"])
    return reminder


def _tell_store(reminder: Reminder, kind: str, compose, *, dedupe: str) -> None:
    from m4s.notify.services import tell_on_duty
    from m4s.staff.choices import Role

    tell_on_duty(
        reminder.customer.store,
        (Role.SERVICE_ADVISOR, Role.CUSTOMER_SERVICE, Role.STORE_MANAGER),
        kind,
        compose,
        dedupe=dedupe,
        link=f"/console/customers/{reminder.customer_id}/",
    )


def get_owner_violation(owner, violation_id: int) -> Violation:
    found = (
        Violation.objects.for_owner(owner)
        .select_related("vehicle", "customer__store")
        .filter(pk=violation_id)
        .first()
    )
    if found is None:
        raise NotFound(_("No such violation."))
    return found


@transaction.atomic
def request_clearing(owner, violation: Violation) -> Violation:
    """ "Have the store clear it": the violation is marked as being cleared and the store told."""
    from m4s.notify.services import tell_on_duty
    from m4s.staff.choices import Role

    violation = get_owner_violation(owner, violation.pk)
    if violation.status == ViolationStatus.CLEARED:
        raise DomainError("violation_cleared", _("This violation is already cleared."), status=409)
    if violation.status == ViolationStatus.OPEN:
        Violation.objects.for_group(violation.dealer_group_id).filter(
            pk=violation.pk, status=ViolationStatus.OPEN
        ).update(status=ViolationStatus.CLEARING)
        violation.status = ViolationStatus.CLEARING
        tell_on_duty(
            violation.customer.store if violation.customer else None,
            (Role.SERVICE_ADVISOR, Role.CUSTOMER_SERVICE, Role.STORE_MANAGER),
            "care.clear_violation",
            lambda: (
                text(gettext_noop("Clear a traffic violation")),
                text(
                    gettext_noop("%(plate)s, %(when)s: %(what)s (fine %(fine)s CNY)."),
                    plate=violation.vehicle.plate,
                    when=timezone.localtime(violation.occurred_at).strftime("%Y-%m-%d %H:%M"),
                    what=violation.description,
                    fine=str(violation.fine_cny),
                ),
            ),
            dedupe=f"care:clear:{violation.pk}",
            link=f"/console/customers/{violation.customer_id}/",
        )
    return violation


@transaction.atomic
def set_licence(customer, expires_on: dt.date, licence_class: str = "") -> DrivingLicence:
    """The customer's driving licence expiry (entered by the owner or the desk)."""
    if not isinstance(expires_on, dt.date):
        raise DomainError("invalid_date", _("Enter a date."), status=422)
    today = timezone.localdate()
    if not today - dt.timedelta(days=366 * 2) <= expires_on <= today.replace(year=today.year + 12):
        raise DomainError("invalid_date", _("This expiry date is not plausible."), status=422)
    lic, _created = DrivingLicence.objects.for_group(customer.dealer_group_id).update_or_create(
        customer=customer,
        defaults={
            "dealer_group_id": customer.dealer_group_id,
            "expires_on": expires_on,
            "licence_class": (licence_class or "")[:8],
        },
    )
    return lic


@transaction.atomic
def upsert_insurance_policy(
    customer,
    vehicle,
    *,
    insurer: str,
    ends_on: dt.date,
    starts_on: dt.date | None = None,
    cover: str = InsuranceCover.COMMERCIAL,
    policy_number: str = "",
) -> InsurancePolicy:
    """A policy bought or renewed through the store (an accepted insurance quote): the policy
    for this car and cover ending on `ends_on` is written once (a retry updates it), and the car's
    own expiry moves forward, so the renewal reminders follow the new end date and the policy it
    replaces is reminded no more (the scan reminds only the latest policy of a car and cover)."""
    group = customer.dealer_group_id
    if vehicle.dealer_group_id != group:
        raise NotFound(_("No such car."))
    if not isinstance(ends_on, dt.date) or (starts_on and starts_on >= ends_on):
        raise DomainError("invalid_date", _("The policy must end after it starts."), status=422)
    if cover not in InsuranceCover.values:
        raise DomainError("invalid_cover", _("Unknown insurance cover."), status=422)
    policy, _created = InsurancePolicy.objects.for_group(group).update_or_create(
        vehicle=vehicle,
        customer=customer,
        cover=cover,
        ends_on=ends_on,
        defaults={
            "dealer_group_id": group,
            "insurer": (insurer or "")[:60],
            "policy_number": (policy_number or "")[:40],
            "starts_on": starts_on,
        },
    )
    from m4s.vehicles.models import Vehicle

    Vehicle.objects.for_group(group).filter(pk=vehicle.pk).filter(
        Q(insurance_expiry__isnull=True) | Q(insurance_expiry__lt=ends_on)
    ).update(insurance_expiry=ends_on, insurer=(insurer or "")[:60])
    return policy


# --- staff --------------------------------------------------------------------------------------
def get_staff_reminder(actor, reminder_id: int) -> Reminder:
    from m4s.customers.selectors import customers_for

    check_perm(actor, Perm.HANDLE_CARE)
    found = (
        Reminder.objects.for_actor(actor)
        .filter(pk=reminder_id, customer__in=customers_for(actor))
        .select_related("customer", "vehicle")
        .first()
    )
    if found is None:
        raise NotFound(_("No such reminder."))
    return found


@transaction.atomic
def mark_handled(actor, reminder: Reminder, *, now: dt.datetime | None = None) -> Reminder:
    """The advisor has followed it up (called, booked ...): off the care list."""
    reminder = get_staff_reminder(actor, reminder.pk)
    now = now or timezone.now()
    Reminder.objects.for_group(reminder.dealer_group_id).filter(pk=reminder.pk).update(
        handled_at=now, handled_by=actor
    )
    reminder.handled_at, reminder.handled_by = now, actor
    return reminder


def _aware(value: Any, field: str) -> dt.datetime:
    if isinstance(value, str):
        value = parse_datetime(value.strip()) or (
            dt.datetime.combine(d, dt.time(12)) if (d := parse_date(value.strip())) else None
        )
    elif isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime.combine(value, dt.time(12))
    if not isinstance(value, dt.datetime):
        raise DomainError(
            "invalid_date", _("%(field)s: enter a date and time.") % {"field": field}, status=422
        )
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


# --- weather ------------------------------------------------------------------------------------
def publish_warning(
    actor,
    *,
    city: str,
    kind: str,
    severity: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    advice: str = "",
    advice_i18n: dict | None = None,
    latitude: Any = None,
    longitude: Any = None,
    radius_km: int = 60,
    now: dt.datetime | None = None,
) -> WeatherWarning:
    """A warning for a city, from the actor's local organisation (a local-life editor: every
    group of it) or dealer group. Owners near the city are told at once (the scan's weather
    pass runs after commit)."""
    now = now or timezone.now()
    check_perm(actor, Perm.PUBLISH_WEATHER)
    city = (city or "").strip()
    if not city or len(city) > 80:
        raise DomainError("invalid_city", _("Name the city."), status=422)
    if kind not in WeatherKind.values:
        raise DomainError("invalid_kind", _("Unknown warning type."), status=422)
    if severity not in Severity.values:
        raise DomainError("invalid_severity", _("Unknown severity."), status=422)
    starts_at, ends_at = _aware(starts_at, "starts_at"), _aware(ends_at, "ends_at")
    if ends_at <= starts_at or ends_at <= now:
        raise DomainError(
            "invalid_period", _("The warning must end after it starts, in the future."), status=422
        )
    if starts_at > now + dt.timedelta(days=14) or ends_at - starts_at > dt.timedelta(days=14):
        raise DomainError(
            "invalid_period", _("A warning covers at most the next 14 days."), status=422
        )
    if not 1 <= int(radius_km) <= 500:
        raise DomainError("invalid_radius", _("The radius is 1 to 500 km."), status=422)
    coords = [latitude, longitude]
    if (latitude is None) != (longitude is None):
        raise DomainError("invalid_position", _("Give both latitude and longitude."), status=422)
    if latitude is not None:
        try:
            coords = [Decimal(str(latitude)), Decimal(str(longitude))]
        except InvalidOperation:
            raise DomainError("invalid_position", _("Not a position."), status=422) from None
        if not (-90 <= coords[0] <= 90 and -180 <= coords[1] <= 180):
            raise DomainError("invalid_position", _("Not a position."), status=422)
        coords = [c.quantize(Decimal("0.000001")) for c in coords]
    if len(advice or "") > 300:
        raise DomainError("invalid_advice", _("The advice is too long."), status=422)
    group_id = actor.dealer_group_id
    local_org_id = None
    if not group_id:
        local_org_id = getattr(actor, "local_org_id", None)
        if not local_org_id:
            raise DomainError("no_publisher", _("You publish for no group or city."), status=403)
    warning = WeatherWarning.objects.create(
        dealer_group_id=group_id or None,
        local_org_id=local_org_id,
        city=city,
        latitude=coords[0],
        longitude=coords[1],
        radius_km=int(radius_km),
        kind=kind,
        severity=severity,
        starts_at=starts_at,
        ends_at=ends_at,
        advice=advice or "",
        advice_i18n={k: v for k, v in (advice_i18n or {}).items() if isinstance(v, str)},
        published_by=actor,
        created_at=now,
    )
    _scan_after_commit([Kind.WEATHER], group_id or None)
    return warning


def _scan_after_commit(kinds: list[str], group_id: int | None) -> None:
    def run() -> None:
        from .tasks import scan_kinds_task

        scan_kinds_task.enqueue(
            kinds=[str(k) for k in kinds], group_ids=[group_id] if group_id else None
        )

    transaction.on_commit(run)
