"""The service area's revisit survey: scheduled at delivery, opened when due, answered by the
owner (CSI five factors + NPS), followed up by the manager."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from m4s.core import hooks
from m4s.core.errors import DomainError
from m4s.core.i18n import text
from m4s.customers.choices import TimelineKind
from m4s.customers.services import record_timeline
from m4s.owners.selectors import in_quiet_hours
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm

from . import selectors
from ._common import (
    ServiceEvent,
    _tell_owner,
    _tell_staff,
)
from .choices import (
    CSI_WEIGHTS,
    UNHAPPY_AT_OR_BELOW,
    SurveyStatus,
)
from .models import (
    RepairOrder,
    Survey,
)


def schedule_survey(ro: RepairOrder, now: dt.datetime) -> Survey | None:
    owner = ro.customer.owner
    if owner is None:
        return None
    conf = selectors.settings_for(ro.store)
    recent = Survey.objects.for_group(ro.dealer_group_id).filter(
        owner=owner, available_at__gt=now - dt.timedelta(days=conf.survey_quiet_days)
    )
    if recent.exists():
        return None  # no repeat survey to the same owner within the quiet period
    available = now + dt.timedelta(days=conf.survey_delay_days)
    return Survey.objects.create(
        dealer_group_id=ro.dealer_group_id,
        repair_order=ro,
        store=ro.store,
        customer=ro.customer,
        owner=owner,
        advisor=ro.advisor,
        available_at=available,
        expires_at=available + dt.timedelta(days=conf.survey_expiry_days),
    )


def open_due_surveys(now: dt.datetime | None = None) -> int:
    """Scheduled job: surveys whose day has come are opened and the owner is asked, outside
    quiet hours; surveys past their expiry are closed."""
    now = now or timezone.now()
    Survey.objects.unscoped().filter(
        status__in=[SurveyStatus.OPEN, SurveyStatus.SCHEDULED], expires_at__lte=now
    ).update(status=SurveyStatus.EXPIRED)
    opened = 0
    for survey in (
        Survey.objects.unscoped()
        .filter(status=SurveyStatus.SCHEDULED, available_at__lte=now)
        .select_related("owner", "customer", "store", "repair_order__vehicle")
    ):
        if in_quiet_hours(survey.owner, now):
            continue
        with transaction.atomic():
            if (
                not Survey.objects.unscoped()
                .filter(pk=survey.pk, status=SurveyStatus.SCHEDULED)
                .update(status=SurveyStatus.OPEN)
            ):
                continue
            _tell_owner(
                survey.customer,
                "service.survey",
                lambda s=survey: (
                    text(gettext_noop("How was your visit?")),
                    text(
                        gettext_noop(
                            "Five quick questions about your visit to %(store)s. Every answer counts."
                        ),
                        store=s.store.display_title,
                    ),
                ),
                link=f"/app/service/surveys/{survey.pk}/",
                dedupe=f"survey:{survey.pk}:open",
            )
            opened += 1
    return opened


def _score(value, low: int, high: int, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise DomainError(
            "invalid_score",
            _("Each score is a whole number from %(low)d to %(high)d.")
            % {"low": low, "high": high},
            field=name,
        )
    return value


@transaction.atomic
def answer_survey(owner, survey_id: int, *, scores: dict, nps, comment: str = "") -> Survey:
    survey = (
        Survey.objects.unscoped()
        .select_for_update(of=("self",))
        .filter(owner=owner, pk=survey_id)
        .first()
    )
    if survey is None:
        raise DomainError("not_found", _("No such survey."), status=404)
    if survey.status == SurveyStatus.ANSWERED:
        raise DomainError(
            "already_answered", _("You already answered this survey. Thank you!"), status=409
        )
    if survey.status == SurveyStatus.EXPIRED or survey.expires_at <= timezone.now():
        raise DomainError("survey_expired", _("This survey has closed."), status=410)
    if survey.status != SurveyStatus.OPEN:
        raise DomainError("not_found", _("No such survey."), status=404)
    values = {f: _score(scores.get(f), 1, 10, f) for f in CSI_WEIGHTS}
    nps = _score(nps, 0, 10, "nps")
    if len(comment) > 2000:
        raise DomainError("comment_too_long", _("Please keep the comment under 2000 characters."))
    survey.initiation, survey.advisor_score, survey.facility = (
        values["initiation"],
        values["advisor"],
        values["facility"],
    )
    survey.pickup, survey.quality, survey.nps = values["pickup"], values["quality"], nps
    survey.comment = comment.strip()
    survey.status, survey.answered_at = SurveyStatus.ANSWERED, timezone.now()
    survey.needs_follow_up = (
        min(values.values()) <= UNHAPPY_AT_OR_BELOW or nps <= UNHAPPY_AT_OR_BELOW
    )
    survey.save()
    hooks.after_commit(
        "service.survey_answered",
        ServiceEvent(
            survey.dealer_group_id,
            survey.store_id,
            survey.customer_id,
            f"survey:{survey.pk}",
            survey.answered_at,
        ),
    )
    record_timeline(
        survey.customer,
        TimelineKind.VISIT,
        gettext_noop("Answered the revisit survey (NPS %(nps)d)"),
        params={"nps": nps},
        data={"survey": survey.pk, "follow_up": survey.needs_follow_up},
    )
    if survey.needs_follow_up:
        for manager in StaffUser.objects.filter(
            dealer_group_id=survey.dealer_group_id,
            role=Role.STORE_MANAGER,
            is_active=True,
            stores=survey.store_id,
        ).order_by("pk"):
            _tell_staff(
                manager,
                survey.dealer_group_id,
                "service.unhappy",
                lambda: (
                    text(gettext_noop("Unhappy customer: %(name)s"), name=survey.customer.name),
                    survey.comment or text(gettext_noop("Low score in the revisit survey.")),
                ),
                link="/console/service/figures/",
                dedupe=f"survey:{survey.pk}:unhappy:{manager.pk}",
            )
    return survey


@transaction.atomic
def record_follow_up(actor, survey: Survey, note: str) -> Survey:
    check_perm(actor, Perm.VIEW_SERVICE_FIGURES)
    if not note.strip():
        raise DomainError("note_required", _("Write what was done."))
    survey = Survey.objects.for_actor(actor).select_for_update(of=("self",)).get(pk=survey.pk)
    survey.followed_up_at, survey.followed_up_by, survey.follow_up_note = (
        timezone.now(),
        actor,
        note.strip()[:300],
    )
    survey.save(update_fields=["followed_up_at", "followed_up_by", "follow_up_note"])
    return survey
