"""The past of the service demo: six months of visits at Chaoyang, planned day by day and
written in bulk in foreign-key order, as the services would have left them (see `service`)."""

import datetime as dt
from collections import defaultdict
from decimal import Decimal

from django.db.models import CharField, F, OuterRef, Subquery, Value
from django.db.models.functions import Cast, Concat, LPad
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.customers.choices import TimelineKind
from m4s.customers.models import TimelineEvent
from m4s.customers.services import timeline_event
from m4s.service import selectors
from m4s.service.choices import (
    CSI_WEIGHTS,
    UNHAPPY_AT_OR_BELOW,
    AppointmentStatus,
    Approval,
    ApprovalChannel,
    Channel,
    LineSource,
    Payer,
    Rating,
    RepairOrderStatus,
    SkillLine,
    SurveyStatus,
    VisitMode,
    WorkStatus,
)
from m4s.service.models import (
    Appointment,
    InspectionResult,
    Invoice,
    MaintenanceRecord,
    PartReservation,
    PriceOverride,
    RepairLine,
    RepairLinePart,
    RepairOrder,
    Survey,
    TimeEntry,
)
from m4s.staff.choices import Role

from .service_base import (
    BOOKING_LEADS,
    DISCOUNT_REASONS,
    FOLLOW_UP_NOTES,
    HAPPY_COMMENTS,
    MEASURES,
    NOTES,
    PAST_DAYS,
    UNHAPPY_COMMENTS,
    VERBAL,
    VISITS_PER_WEEKDAY,
    WEAR,
    Car,
    Workshop,
    _choose_service,
    _local,
)

# --- the past: six months of visits at one store ----------------------------------------------
# Fixed visits of the demo owners (index in the owner list): days ago, "package" or "diagnosis".
DEMO_VISITS = {
    0: [(68, "diagnosis")],
    1: [(96, "diagnosis"), (41, "package")],
    2: [(47, "package"), (2, "package")],  # the last one's survey is opened right now
    3: [(33, "package")],  # an unhappy answer nobody has followed up yet
    4: [(61, "package")],
}
UNHAPPY_DEMO_OWNER = 3


def _number_by_id(model, group_id, rows, prefix):
    """RO00000123 / INV00000123 from the id, as the services number them."""
    model.objects.for_group(group_id).filter(pk__in=[r.pk for r in rows]).update(
        number=Concat(Value(prefix), LPad(Cast("id", CharField()), 8, Value("0")))
    )
    for r in rows:
        r.number = f"{prefix}{r.pk:08d}"


class History:
    """Plans Chaoyang's past visits day by day, then writes them in bulk, in foreign-key order."""

    def __init__(self, w: Workshop):
        self.w, self.rng = w, w.rng
        self.taken = set()  # (advisor id, starts_at, mode)
        self.appointments, self.reservations = [], []
        self.orders, self.results, self.lines, self.line_parts = [], [], [], []
        self.entries, self.overrides, self.invoices, self.records = [], [], [], []
        self.surveys, self.events = [], []
        self.last_survey = {}  # owner id -> available_at of their latest survey
        self.tech_free = {}  # technician id -> when they can start the next job
        self.open_survey_owner = None

    # planning -----------------------------------------------------------------------------
    def plan(self, cars: list[Car]) -> None:
        w, rng = self.w, self.rng
        fixed = defaultdict(list)  # day -> [(car, kind, flags)]
        for i, visits in DEMO_VISITS.items():
            for days_ago, kind in visits:
                day = w.today - dt.timedelta(days=days_ago)
                while not w.is_open(day):  # a holiday: the day before
                    day -= dt.timedelta(days=1)
                fixed[day].append((cars[i], kind, i))
        pool = [c for c in cars if not c.demo]
        comebacks = defaultdict(list)
        for k in range(PAST_DAYS, 0, -1):
            day = w.today - dt.timedelta(days=k)
            if not w.is_open(day):
                continue
            self.tech_free = {}
            todo = [(car, kind, i) for car, kind, i in fixed.pop(day, [])]
            todo += [(car, "comeback", None) for car in comebacks.pop(day, [])]
            n = max(1, VISITS_PER_WEEKDAY[day.weekday()] + rng.choice((-1, 0, 0, 1)))
            for _ in range(n):
                car = self._pick_car(pool, day)
                if car is not None:
                    car.last_visit = day
                    todo.append((car, "any", None))
            visits = []
            for car, kind, demo_index in todo:
                slot = self._slot(day)
                if slot is not None:
                    car.last_visit = day
                    visits.append((slot, car, kind, demo_index))
            for (starts_at, advisor, mode), car, kind, demo_index in sorted(
                visits, key=lambda v: v[0][0]
            ):
                again = self._visit(day, starts_at, advisor, mode, car, kind, demo_index)
                if again:
                    back = day + dt.timedelta(days=rng.randint(6, 20))
                    if back < w.today:
                        comebacks[back].append(car)

    def _pick_car(self, pool, day):
        for _ in range(30):
            car = self.rng.choice(pool)
            if car.bought <= day - dt.timedelta(days=30) and (
                car.last_visit is None or (day - car.last_visit).days > 25
            ):
                return car
        return None

    def _slot(self, day):
        """A free (time, advisor, mode), mornings busier than afternoons."""
        w, rng = self.w, self.rng
        times = w.slot_times(day)
        advisors = [s for s, _line in w.on_duty(day, Role.SERVICE_ADVISOR)]
        if not times or not advisors:
            return None
        for _ in range(40):
            t = times[min(int(rng.expovariate(3 / len(times))), len(times) - 1)]
            advisor = rng.choice(advisors)
            mode = VisitMode.WAITING if rng.random() < 0.6 else VisitMode.DROP_OFF
            if (advisor.pk, t, mode) not in self.taken:
                self.taken.add((advisor.pk, t, mode))
                return t, advisor, mode
        return None

    def _visit(self, day, starts_at, advisor, mode, car, kind, demo_index) -> bool:
        """Plan one booked visit; True if the car will come back with the same problem."""
        w, rng = self.w, self.rng
        package, problem = _choose_service(rng, car, kind)
        if kind == "comeback":
            text = "上次修过的问题又出现了 The same problem is back"
        else:
            text = problem[0] if problem else ""
        ops = w.package_ops[package] if package else [w.catalogue.operations["DIAG"]]
        lead = rng.randrange(len(BOOKING_LEADS))
        booked_at = starts_at - BOOKING_LEADS[lead]
        channel = rng.choices([Channel.APP, Channel.PHONE, Channel.CONSOLE], [6, 3, 1])[0]
        if car.owner_id is None and channel == Channel.APP:
            channel = Channel.PHONE
        appt = Appointment(
            dealer_group_id=w.group_id,
            store=w.store,
            customer=car.customer,
            vehicle=car.vehicle,
            owner_id=car.owner_id,
            advisor=advisor,
            starts_at=starts_at,
            date=day,
            mode=mode,
            package=w.catalogue.packages[package] if package else None,
            problem=text,
            status=AppointmentStatus.CHECKED_IN,
            channel=channel,
            booked_by=None if channel == Channel.APP else advisor,
            estimated_minutes=sum(op.minutes for op in ops),
        )
        appt.lead = BOOKING_LEADS[lead]
        self.appointments.append(appt)
        self._event(
            car,
            booked_at,
            gettext_noop("Booked a service visit for %(when)s"),
            {"when": _local(w.tz, starts_at)},
            appointment=appt,
        )
        roll = rng.random() if demo_index is None else 1.0
        parts = w.package_parts[package] if package else []
        if roll < 0.06:  # cancelled by the owner a few hours to days before
            appt.status = AppointmentStatus.CANCELLED
            appt.cancelled_at = starts_at - dt.timedelta(hours=rng.randint(3, 60))
            appt.cancelled_at = max(appt.cancelled_at, booked_at + dt.timedelta(hours=1))
            self._reserve(appt, parts, PartReservation.RELEASED)
            self._event(
                car,
                appt.cancelled_at,
                gettext_noop("Cancelled the visit of %(when)s"),
                {"when": _local(w.tz, starts_at)},
                appointment=appt,
                reason="",
            )
            return False
        if roll < 0.06 + 0.08:  # no-show: the job marks it, the parts go back
            appt.status = AppointmentStatus.NO_SHOW
            self._reserve(appt, parts, PartReservation.RELEASED)
            return False
        self._reserve(appt, parts, PartReservation.CONSUMED)
        self._repair_order(appt, car, ops, parts, package, text, problem, demo_index)
        return bool(problem) and rng.random() < 0.1

    def _reserve(self, appt, parts, status):
        for part, qty in parts:
            self.reservations.append(
                PartReservation(
                    dealer_group_id=self.w.group_id,
                    appointment=appt,
                    store=self.w.store,
                    part=part,
                    quantity=qty,
                    status=status,
                )
            )

    def _event(self, car, at, title, params, *, actor=None, appointment=None, **data):
        event = timeline_event(
            group_id=self.w.group_id,
            customer_id=car.customer.pk,
            kind=TimelineKind.VISIT,
            title=title,
            params=params,
            data=data,
            actor=actor,
            at=at,
        )
        event.refs = {
            "appointment": appointment,
            **{k: v for k, v in data.items() if hasattr(v, "_meta")},
        }
        self.events.append(event)
        return event

    def _inspector(self, day):
        techs = self.w.on_duty(day, Role.TECHNICIAN)
        return self.rng.choice(
            [s for s, ln in techs if ln == SkillLine.QUICK] or [s for s, _ln in techs]
        )

    def _technician(self, day, line: str, ready: dt.datetime, minutes: int):
        """The technician of the skill line who is free first; (staff, start, end)."""
        techs = [s for s, ln in self.w.on_duty(day, Role.TECHNICIAN) if ln == line] or [
            s for s, _ln in self.w.on_duty(day, Role.TECHNICIAN)
        ]
        tech = min(techs, key=lambda s: self.tech_free.get(s.pk, ready))
        start = max(ready, self.tech_free.get(tech.pk, ready)) + dt.timedelta(minutes=2)
        end = start + dt.timedelta(minutes=max(6, int(minutes * self.rng.uniform(0.8, 1.25))))
        self.tech_free[tech.pk] = end
        return tech, start, end

    def _line(
        self,
        ro,
        op,
        *,
        source,
        reason,
        at,
        advisor,
        parts=(),
        result=None,
        payer=Payer.CUSTOMER,
        reason_i18n=None,
    ):
        w = self.w
        price = w.prices[("op", op.pk)]
        line = RepairLine(
            dealer_group_id=w.group_id,
            repair_order=ro,
            operation=op,
            description=op.name,
            description_i18n=dict(op.name_i18n or {}),
            reason=reason[:300],
            reason_i18n={k: v[:300] for k, v in (reason_i18n or {}).items()},
            labour_list_price=price,
            labour_price=price,
            payer=payer,
            source=source,
            result=result,
            added_by=advisor,
        )
        line.at = at
        line.part_rows = [
            RepairLinePart(
                dealer_group_id=w.group_id,
                line=line,
                part=part,
                quantity=qty,
                list_price=w.prices[("part", part.pk)],
                unit_price=w.prices[("part", part.pk)],
            )
            for part, qty in parts
        ]
        self.lines.append(line)
        self.line_parts += line.part_rows
        return line

    def _decide(self, line, approve, at, advisor, car):
        line.approval = Approval.APPROVED if approve else Approval.DECLINED
        line.decided_at = at
        if car.owner_id and self.rng.random() < 0.7:
            line.approval_channel = ApprovalChannel.APP
        else:
            line.approval_channel = ApprovalChannel.VERBAL
            line.approval_reason = self.rng.choice(VERBAL).format(t=_local(self.w.tz, at)[-5:])
            line.approval_staff = advisor

    def _repair_order(self, appt, car, ops, parts, package, text, problem, demo_index):
        w, rng = self.w, self.rng
        day, advisor = appt.date, appt.advisor
        arrived = appt.starts_at + dt.timedelta(minutes=rng.randint(-10, 12))
        km = car.odometer_on(day)
        ro = RepairOrder(
            dealer_group_id=w.group_id,
            number=f"RO-DEMO-{len(self.orders)}",  # RO<id> once it has an id
            store=w.store,
            customer=car.customer,
            vehicle=car.vehicle,
            appointment=appt,
            advisor=advisor,
            status=RepairOrderStatus.DELIVERED,
            odometer_in=km,
            fuel_pct=rng.randint(15, 95),
            symptoms=text,
            belongings=rng.choice(["", "", "", "儿童座椅 child seat", "行车记录仪 dash cam"]),
            checked_in_at=arrived,
        )
        self.orders.append(ro)
        self._event(
            car,
            arrived,
            gettext_noop("Checked in at %(store)s (%(km)d km)"),
            {"store": w.store.name, "km": km},
            actor=advisor,
            repair_order=ro,
        )
        reason = w.catalogue.packages[package].name if package else text
        reason_i18n = w.catalogue.packages[package].name_i18n if package else None
        lines = []
        jobs = w.package_jobs[package] if package else [(op, []) for op in ops]
        for op, op_parts in jobs:
            line = self._line(
                ro,
                op,
                source=LineSource.BOOKING,
                reason=reason,
                reason_i18n=reason_i18n,
                at=arrived,
                advisor=advisor,
                parts=op_parts,
            )
            line.approval, line.approval_channel, line.decided_at = (
                Approval.APPROVED,
                ApprovalChannel.AT_BOOKING,
                arrived,
            )
            lines.append(line)
        inspected = arrived + dt.timedelta(minutes=rng.randint(25, 50))
        if package:  # the multi-point inspection: amber and red items become recommendations
            inspector = self._inspector(day)
            for point in w.points:
                amber, red = WEAR[point.name]
                roll = rng.random()
                rating = (
                    Rating.RED
                    if roll < red
                    else Rating.AMBER
                    if roll < red + amber
                    else Rating.GREEN
                )
                if rating == Rating.RED and point.name not in NOTES[Rating.RED]:
                    rating = Rating.AMBER
                note = NOTES.get(rating, {}).get(point.name, "")
                measurement = None
                if point.measure:
                    band = MEASURES[point.measure][
                        [Rating.GREEN, Rating.AMBER, Rating.RED].index(rating)
                    ]
                    measurement = Decimal(f"{rng.uniform(*band):.1f}")
                result = InspectionResult(
                    dealer_group_id=w.group_id,
                    repair_order=ro,
                    point=point,
                    rating=rating,
                    note=note,
                    measurement=measurement,
                    inspected_by=inspector,
                    at=inspected,
                )
                self.results.append(result)
                if rating == Rating.GREEN:
                    continue
                part_rows = [(point.part, point.part_quantity)] if point.part_id else []
                line = self._line(
                    ro,
                    point.operation,
                    source=LineSource.INSPECTION,
                    reason=f"{point.name}: {note}".strip(": "),
                    reason_i18n={
                        lang: f"{name}: {note}".strip(": ")
                        for lang, name in (point.name_i18n or {}).items()
                    },
                    at=inspected,
                    advisor=advisor,
                    parts=part_rows,
                    result=result,
                )
                approve = rng.random() < (0.8 if rating == Rating.RED else 0.45)
                self._decide(
                    line,
                    approve,
                    inspected + dt.timedelta(minutes=rng.randint(15, 80)),
                    advisor,
                    car,
                )
                lines.append(line)
        if problem and problem[1]:  # the diagnosis found the cause: a repair to approve
            _text, code, number, qty = problem
            op = w.catalogue.operations[code]
            under_warranty = car.vehicle.warranty_end and car.vehicle.warranty_end >= day
            line = self._line(
                ro,
                op,
                source=LineSource.ADDED,
                reason=f"诊断 Diagnosis: {text}",
                at=inspected,
                advisor=advisor,
                parts=[(w.catalogue.parts[number], qty)] if number else [],
                payer=Payer.WARRANTY if code == "BATT" and under_warranty else Payer.CUSTOMER,
            )
            self._decide(
                line,
                rng.random() < 0.85,
                inspected + dt.timedelta(minutes=rng.randint(20, 90)),
                advisor,
                car,
            )
            lines.append(line)
        if rng.random() < 0.025:  # body work on an insurance claim
            line = self._line(
                ro,
                w.catalogue.operations["DENT"],
                source=LineSource.ADDED,
                reason="后保险杠刮擦 Scratch on the rear bumper (insurance claim)",
                at=arrived,
                advisor=advisor,
                payer=Payer.INSURANCE,
            )
            self._decide(line, True, arrived + dt.timedelta(minutes=30), advisor, car)
            lines.append(line)

        # Work: approved lines, each by the first free technician of its skill line.
        finished = arrived + dt.timedelta(minutes=20)
        for line in lines:
            if line.approval != Approval.APPROVED:
                continue
            ready = max(line.decided_at, arrived + dt.timedelta(minutes=10))
            tech, start, end = self._technician(
                day, line.operation.skill_line, ready, line.operation.minutes
            )
            self.entries.append(
                TimeEntry(
                    dealer_group_id=w.group_id,
                    line=line,
                    technician=tech,
                    started_at=start,
                    ended_at=end,
                )
            )
            line.work_status, line.completed_at = WorkStatus.DONE, end
            finished = max(finished, end)
        settled = finished + dt.timedelta(minutes=rng.randint(10, 25))
        if appt.mode == VisitMode.DROP_OFF:  # picked up after work
            settled = max(settled, w.at(day, 16, rng.randint(0, 50)))
        delivered = settled + dt.timedelta(minutes=rng.randint(5, 20))
        ro.settled_at, ro.delivered_at = settled, delivered
        ro.odometer_out = min(km + rng.choice((0, 1, 2, 3)), max(car.km_now, km))
        self._invoice(ro, lines, advisor, settled)
        done_ops = {ln.operation.pk for ln in lines if ln.approval == Approval.APPROVED}
        local_day = timezone.localtime(delivered, w.tz).date()
        for item in car.items:
            if item.operation_id in done_ops:
                self.records.append(
                    MaintenanceRecord(
                        dealer_group_id=w.group_id,
                        vehicle=car.vehicle,
                        item=item,
                        done_on=local_day,
                        done_km=ro.odometer_out,
                        repair_order=ro,
                    )
                )
        self._event(
            car,
            delivered,
            gettext_noop("Car delivered (%(km)d km)"),
            {"km": ro.odometer_out},
            actor=advisor,
            repair_order=ro,
        )
        self._survey(
            ro,
            car,
            delivered,
            demo_index,
            unhappy_bias=appt.problem.startswith("上次")
            or any(
                ln.approval == Approval.DECLINED
                and ln.result is not None
                and ln.result.rating == Rating.RED
                for ln in lines
            ),
        )

    def _invoice(self, ro, lines, advisor, at):
        """The arithmetic of billing.settle, at the published prices (a few goodwill discounts)."""
        w, rng = self.w, self.rng
        approved = [ln for ln in lines if ln.approval == Approval.APPROVED]
        if rng.random() < 0.06:
            line = next((ln for ln in approved if ln.labour_list_price > 0), None)
            if line is not None:
                line.labour_price = (
                    line.labour_list_price * Decimal(rng.choice(("0.8", "0.9")))
                ).quantize(Decimal("1.00"))
                self.overrides.append(
                    PriceOverride(
                        dealer_group_id=w.group_id,
                        repair_order=ro,
                        line=line,
                        item=line.description[:200],
                        list_amount=line.labour_list_price,
                        charged_amount=line.labour_price,
                        reason=rng.choice(DISCOUNT_REASONS),
                        by=advisor,
                        at=at,
                    )
                )
        by_payer: dict[str, Decimal] = {}
        tax_by_payer: dict[str, Decimal] = {}
        rate = w.conf.tax_rate
        labour = parts = discount = Decimal("0")
        for line in approved:
            line_tax = selectors.tax_on(line.labour_price, rate) + sum(
                (selectors.tax_on(lp.unit_price * lp.quantity, rate) for lp in line.part_rows),
                Decimal("0"),
            )
            tax_by_payer[line.payer] = tax_by_payer.get(line.payer, Decimal("0")) + line_tax
            amount = line.labour_price
            labour += line.labour_list_price
            discount += line.labour_list_price - line.labour_price
            for lp in line.part_rows:
                amount += lp.unit_price * lp.quantity
                parts += lp.list_price * lp.quantity
                discount += (lp.list_price - lp.unit_price) * lp.quantity
            by_payer[line.payer] = by_payer.get(line.payer, Decimal("0")) + amount
        net = labour + parts - discount
        tax = sum(tax_by_payer.values(), Decimal("0"))  # each line's, as billing.settle
        customer_net = by_payer.get(Payer.CUSTOMER, Decimal("0"))
        self.invoices.append(
            Invoice(
                dealer_group_id=w.group_id,
                repair_order=ro,
                number=f"INV-DEMO-{len(self.invoices)}",
                issued_at=at,
                issued_by=advisor,
                labour_total=labour,
                parts_total=parts,
                discount_total=discount,
                net_total=net,
                tax_rate=rate,
                tax=tax,
                total=net + tax,
                customer_pay_net=customer_net,
                customer_pay_total=customer_net + tax_by_payer.get(Payer.CUSTOMER, Decimal("0")),
                by_payer={k: str(v) for k, v in by_payer.items()},
            )
        )

    def _survey(self, ro, car, delivered, demo_index, *, unhappy_bias: bool):
        """As deliver() schedules it (one per owner per 30 days), then as owners answered."""
        w, rng = self.w, self.rng
        if car.owner_id is None:
            return
        last = self.last_survey.get(car.owner_id)
        if last is not None and last > delivered - dt.timedelta(days=w.conf.survey_quiet_days):
            return
        available = delivered + dt.timedelta(days=w.conf.survey_delay_days)
        self.last_survey[car.owner_id] = available
        survey = Survey(
            dealer_group_id=w.group_id,
            repair_order=ro,
            store=w.store,
            customer=car.customer,
            owner_id=car.owner_id,
            advisor=ro.advisor,
            available_at=available,
            expires_at=available + dt.timedelta(days=w.conf.survey_expiry_days),
        )
        self.surveys.append(survey)
        if available > w.now:
            return  # still scheduled
        if demo_index == 2 and delivered > w.now - dt.timedelta(days=7):
            self.open_survey_owner = car.owner_id
            return  # scheduled and due: the survey job opens it below, and tells the owner
        answered = available + dt.timedelta(minutes=rng.randint(30, 60 * 60))
        answers = demo_index is not None or rng.random() < 0.68
        if not answers or answered > w.now:
            survey.status = (
                SurveyStatus.EXPIRED if survey.expires_at <= w.now else SurveyStatus.OPEN
            )
            return
        profile = rng.random()
        if demo_index == UNHAPPY_DEMO_OWNER or (
            demo_index is None and profile < (0.3 if unhappy_bias else 0.09)
        ):
            scores = {f: rng.randint(6, 8) for f in CSI_WEIGHTS}
            for f in rng.sample(list(CSI_WEIGHTS), rng.randint(1, 2)):
                scores[f] = rng.randint(3, 6)
            nps, comment = rng.randint(2, 6), rng.choice(UNHAPPY_COMMENTS)
        elif profile < 0.3:
            scores = {f: rng.randint(7, 9) for f in CSI_WEIGHTS}
            nps, comment = rng.randint(7, 8), ""
        else:
            scores = {f: rng.choice((8, 9, 9, 10, 10, 10)) for f in CSI_WEIGHTS}
            nps, comment = rng.choice((9, 10, 10)), rng.choice(HAPPY_COMMENTS)
        survey.status, survey.answered_at = SurveyStatus.ANSWERED, answered
        survey.initiation, survey.advisor_score = scores["initiation"], scores["advisor"]
        survey.facility, survey.pickup, survey.quality = (
            scores["facility"],
            scores["pickup"],
            scores["quality"],
        )
        survey.nps, survey.comment = nps, comment
        survey.needs_follow_up = (
            min(scores.values()) <= UNHAPPY_AT_OR_BELOW or nps <= UNHAPPY_AT_OR_BELOW
        )
        if (
            survey.needs_follow_up
            and demo_index != UNHAPPY_DEMO_OWNER
            and answered < w.now - dt.timedelta(days=2)
            and rng.random() < 0.75
        ):
            survey.followed_up_at = answered + dt.timedelta(hours=rng.randint(2, 30))
            survey.followed_up_by = w.manager
            survey.follow_up_note = rng.choice(FOLLOW_UP_NOTES)
        self._event(
            car,
            answered,
            gettext_noop("Answered the revisit survey (NPS %(nps)d)"),
            {"nps": nps},
            survey=survey,
            follow_up=survey.needs_follow_up,
        )

    # writing ------------------------------------------------------------------------------
    def write(self) -> None:
        g = self.w.group_id
        Appointment.objects.bulk_create(self.appointments, batch_size=500)
        by_lead = defaultdict(list)  # booked days before the visit, not today
        for appt in self.appointments:
            by_lead[appt.lead].append(appt.pk)
        for lead, pks in by_lead.items():
            Appointment.objects.for_group(g).filter(pk__in=pks).update(
                created_at=F("starts_at") - lead
            )
        PartReservation.objects.bulk_create(self.reservations, batch_size=1000)
        RepairOrder.objects.bulk_create(self.orders, batch_size=500)
        _number_by_id(RepairOrder, g, self.orders, "RO")
        InspectionResult.objects.bulk_create(self.results, batch_size=1000)
        RepairLine.objects.bulk_create(self.lines, batch_size=1000)
        # Lines were added at check-in, or by the inspection whose result they fix.
        lines = RepairLine.objects.for_group(g).filter(pk__in=[ln.pk for ln in self.lines])
        lines.filter(result__isnull=True).update(
            created_at=Subquery(
                RepairOrder.objects.unscoped()
                .filter(pk=OuterRef("repair_order_id"))
                .values("checked_in_at")[:1]
            )
        )
        lines.filter(result__isnull=False).update(
            created_at=Subquery(
                InspectionResult.objects.unscoped()
                .filter(pk=OuterRef("result_id"))
                .values("at")[:1]
            )
        )
        RepairLinePart.objects.bulk_create(self.line_parts, batch_size=1000)
        TimeEntry.objects.bulk_create(self.entries, batch_size=1000)
        PriceOverride.objects.bulk_create(self.overrides)
        Invoice.objects.bulk_create(self.invoices, batch_size=500)
        _number_by_id(Invoice, g, self.invoices, "INV")
        MaintenanceRecord.objects.bulk_create(self.records, batch_size=1000)
        Survey.objects.bulk_create(self.surveys, batch_size=500)
        invoices = {inv.repair_order.pk: inv for inv in self.invoices}
        settled = [
            timeline_event(
                group_id=g,
                customer_id=ro.customer.pk,
                kind=TimelineKind.VISIT,
                title=gettext_noop("Settled %(number)s: %(total)s"),
                params={"number": ro.number, "total": str(invoices[ro.pk].total)},
                data={"repair_order": ro.pk, "invoice": invoices[ro.pk].pk},
                actor=ro.advisor,
                at=ro.settled_at,
            )
            for ro in self.orders
        ]
        for event in self.events:  # ids of the rows the line is about, now that they exist
            for key, obj in event.refs.items():
                if obj is not None:
                    event.data[key] = obj.pk
        TimelineEvent.objects.bulk_create(self.events + settled, batch_size=1000)
