"""Every write of the training area: courses and their questions, quizzes, assignments, and
attempts (start: draw the questions and keep them; submit: score on the server, once).

Managing needs MANAGE_TRAINING; taking a quiz needs to be assigned it. Another group's course,
quiz or attempt is a 404; a refused state change (no attempts left, cool-down running,
a quiz without enough questions) is a 409 with a machine-readable code."""

import datetime as dt
import random

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError, NotFound, PermissionDenied
from m4s.org.models import Store
from m4s.staff.choices import Perm, Role
from m4s.staff.models import StaffUser
from m4s.staff.permissions import check_perm

from .choices import AttemptStatus, QuestionKind
from .models import (
    BODY_MAX,
    MAX_OPTIONS,
    OPTION_MAX,
    QUESTION_MAX,
    TITLE_MAX,
    Assignment,
    Attempt,
    Course,
    Question,
    Quiz,
)

# a submission arriving this long after the deadline still counts (the network, the click)
GRACE = dt.timedelta(seconds=60)
LANGS = ("zh-hans", "en", "ko")
_rng = random.SystemRandom()


def _invalid(code: str, message: str, **details) -> DomainError:
    return DomainError(code, message, status=422, **details)


def _conflict(code: str, message: str, **details) -> DomainError:
    return DomainError(code, message, status=409, **details)


def _clean_text(value, limit: int, *, required: bool, field: str) -> str:
    value = (value or "").strip()
    if "\x00" in value:
        raise _invalid("invalid_text", _("Text may not contain NUL characters."), field=field)
    if required and not value:
        raise _invalid("required", _("This field is required."), field=field)
    if len(value) > limit:
        raise _invalid("too_long", _("This text is too long."), field=field, max=limit)
    return value


def _clean_i18n(value, limit: int, field: str) -> dict[str, str]:
    out = {}
    for lang, text in (value or {}).items():
        if lang in LANGS and text and str(text).strip():
            out[lang] = _clean_text(str(text), limit, required=False, field=f"{field}.{lang}")
    return out


def _check_manager(actor) -> None:
    """MANAGE_TRAINING, and a group to write into (the platform's own staff have none)."""
    check_perm(actor, Perm.MANAGE_TRAINING)
    if actor.dealer_group_id is None:
        raise PermissionDenied(_("Training belongs to a dealer group."))


def _course(actor, course_id: int) -> Course:
    course = Course.objects.for_group(actor.dealer_group_id).filter(pk=course_id).first()
    if course is None:
        raise NotFound(_("No such course."))
    return course


def _quiz(actor, quiz_id: int) -> Quiz:
    quiz = (
        Quiz.objects.for_group(actor.dealer_group_id)
        .select_related("course")
        .filter(pk=quiz_id)
        .first()
    )
    if quiz is None:
        raise NotFound(_("No such quiz."))
    return quiz


# --- courses -------------------------------------------------------------------------------------
def save_course(
    actor,
    *,
    course_id: int | None = None,
    title: str,
    title_i18n: dict | None = None,
    body: str = "",
    body_i18n: dict | None = None,
    is_published: bool = False,
) -> Course:
    _check_manager(actor)
    fields = {
        "title": _clean_text(title, TITLE_MAX, required=True, field="title"),
        "title_i18n": _clean_i18n(title_i18n, TITLE_MAX, "title_i18n"),
        "body": _clean_text(body, BODY_MAX, required=False, field="body"),
        "body_i18n": _clean_i18n(body_i18n, BODY_MAX, "body_i18n"),
        "is_published": bool(is_published),
    }
    if course_id is None:
        return Course.objects.create(
            dealer_group_id=actor.dealer_group_id,
            created_by=actor,
            created_at=timezone.now(),
            **fields,
        )
    course = _course(actor, course_id)
    for key, value in fields.items():
        setattr(course, key, value)
    course.save(update_fields=list(fields))
    return course


def _clean_options(options) -> list[dict]:
    out = []
    for i, option in enumerate(options or []):
        if isinstance(option, str):
            option = {"text": option}
        text = _clean_text(option.get("text"), OPTION_MAX, required=True, field=f"options.{i}")
        out.append({"text": text, "i18n": _clean_i18n(option.get("i18n"), OPTION_MAX, "option")})
    if not 2 <= len(out) <= MAX_OPTIONS:
        raise _invalid(
            "options_count",
            _("A question has between 2 and %(max)d options.") % {"max": MAX_OPTIONS},
        )
    return out


def save_question(
    actor,
    course_id: int,
    *,
    question_id: int | None = None,
    kind: str = QuestionKind.SINGLE,
    text: str,
    text_i18n: dict | None = None,
    options: list,
    correct: list[int],
    explanation: str = "",
    explanation_i18n: dict | None = None,
    is_active: bool = True,
) -> Question:
    """A question of the bank under a course: a single-choice question has exactly one correct
    option, a multiple-choice one at least one."""
    _check_manager(actor)
    course = _course(actor, course_id)
    if kind not in QuestionKind.values:
        raise _invalid("invalid_kind", _("Unknown question kind."))
    clean_options = _clean_options(options)
    right = sorted({int(c) for c in correct or []})
    if not right or any(not 0 <= c < len(clean_options) for c in right):
        raise _invalid("invalid_correct", _("Mark the correct options among the options given."))
    if kind == QuestionKind.SINGLE and len(right) != 1:
        raise _invalid("invalid_correct", _("A single-choice question has one correct option."))
    fields = {
        "course": course,
        "kind": kind,
        "text": _clean_text(text, QUESTION_MAX, required=True, field="text"),
        "text_i18n": _clean_i18n(text_i18n, QUESTION_MAX, "text_i18n"),
        "options": clean_options,
        "correct": right,
        "explanation": _clean_text(explanation, QUESTION_MAX, required=False, field="explanation"),
        "explanation_i18n": _clean_i18n(explanation_i18n, QUESTION_MAX, "explanation_i18n"),
        "is_active": bool(is_active),
    }
    if question_id is None:
        return Question.objects.create(dealer_group_id=actor.dealer_group_id, **fields)
    question = Question.objects.for_group(actor.dealer_group_id).filter(pk=question_id).first()
    if question is None:
        raise NotFound(_("No such question."))
    for key, value in fields.items():
        setattr(question, key, value)
    question.save()
    return question


# --- quizzes -------------------------------------------------------------------------------------
def save_quiz(
    actor,
    *,
    quiz_id: int | None = None,
    course_id: int,
    title: str,
    title_i18n: dict | None = None,
    questions_drawn: int = 5,
    pass_mark: int = 80,
    max_attempts: int | None = None,
    retake_after_minutes: int = 0,
    time_limit_minutes: int | None = None,
    is_published: bool = False,
) -> Quiz:
    """Publishing needs at least as many active questions under the course as are drawn."""
    _check_manager(actor)
    course = _course(actor, course_id)
    if not 1 <= int(questions_drawn) <= 50:
        raise _invalid("invalid_drawn", _("Draw between 1 and 50 questions."))
    if not 0 <= int(pass_mark) <= 100:
        raise _invalid("invalid_pass_mark", _("The pass mark is a percentage (0–100)."))
    if max_attempts is not None and not 1 <= int(max_attempts) <= 20:
        raise _invalid("invalid_attempts", _("Allow between 1 and 20 attempts, or leave empty."))
    if not 0 <= int(retake_after_minutes) <= 60 * 24 * 30:
        raise _invalid("invalid_cool_down", _("The cool-down is at most 30 days."))
    if time_limit_minutes is not None and not 1 <= int(time_limit_minutes) <= 240:
        raise _invalid("invalid_time_limit", _("The time limit is 1 to 240 minutes, or empty."))
    if is_published:
        available = (
            Question.objects.for_group(actor.dealer_group_id)
            .filter(course=course, is_active=True)
            .count()
        )
        if available < int(questions_drawn):
            raise _conflict(
                "not_enough_questions",
                _("The course has %(n)d active questions; the quiz draws %(m)d.")
                % {"n": available, "m": int(questions_drawn)},
            )
    fields = {
        "course": course,
        "title": _clean_text(title, TITLE_MAX, required=True, field="title"),
        "title_i18n": _clean_i18n(title_i18n, TITLE_MAX, "title_i18n"),
        "questions_drawn": int(questions_drawn),
        "pass_mark": int(pass_mark),
        "max_attempts": None if max_attempts is None else int(max_attempts),
        "retake_after_minutes": int(retake_after_minutes),
        "time_limit_minutes": None if time_limit_minutes is None else int(time_limit_minutes),
        "is_published": bool(is_published),
    }
    if quiz_id is None:
        return Quiz.objects.create(
            dealer_group_id=actor.dealer_group_id, created_at=timezone.now(), **fields
        )
    quiz = _quiz(actor, quiz_id)
    for key, value in fields.items():
        setattr(quiz, key, value)
    quiz.save()
    return quiz


# --- assignments ---------------------------------------------------------------------------------
def assign(
    actor,
    quiz_id: int,
    *,
    role: str = "",
    store_id: int | None = None,
    staff_id: int | None = None,
    due_on: dt.date | None = None,
) -> Assignment:
    """Assign a quiz to every staff member of a role (optionally of one store) or to one person
    of the group."""
    _check_manager(actor)
    quiz = _quiz(actor, quiz_id)
    group_id = actor.dealer_group_id
    role = role or ""
    if role and role not in Role.values:
        raise _invalid("invalid_role", _("Unknown role."))
    if bool(role) == bool(staff_id):
        raise _invalid("invalid_audience", _("Assign to a role or to one staff member."))
    store = None
    if store_id is not None:
        store = Store.objects.for_group(group_id).filter(pk=store_id).first()
        if store is None:
            raise NotFound(_("No such store."))
    staff = None
    if staff_id is not None:
        staff = StaffUser.objects.filter(pk=staff_id, dealer_group_id=group_id).first()
        if staff is None:
            raise NotFound(_("No such staff member."))
    if not quiz.is_published:
        raise _conflict("quiz_not_published", _("Publish the quiz before assigning it."))
    return Assignment.objects.create(
        dealer_group_id=group_id,
        quiz=quiz,
        role=role,
        store=store,
        staff=staff,
        due_on=due_on,
        created_by=actor,
        created_at=timezone.now(),
    )


def remove_assignment(actor, assignment_id: int) -> None:
    _check_manager(actor)
    deleted, _rows = (
        Assignment.objects.for_group(actor.dealer_group_id).filter(pk=assignment_id).delete()
    )
    if not deleted:
        raise NotFound(_("No such assignment."))


# --- attempts ------------------------------------------------------------------------------------
def _snapshot(q: Question) -> dict:
    return {
        "id": q.pk,
        "kind": q.kind,
        "text": q.text,
        "text_i18n": q.text_i18n or {},
        "options": q.options,
        "correct": q.correct,
        "explanation": q.explanation,
        "explanation_i18n": q.explanation_i18n or {},
    }


def _expire(attempt: Attempt, now) -> None:
    """An open attempt whose time ran out: finished with what was saved, scored zero."""
    attempt.status = AttemptStatus.EXPIRED
    attempt.score = 0
    attempt.correct_count = 0
    attempt.passed = False
    attempt.finished_at = now
    attempt.save(update_fields=["status", "score", "correct_count", "passed", "finished_at"])


def start_attempt(user, quiz_id: int, *, now=None) -> Attempt:
    """Start (or resume) a sitting of an assigned quiz: the questions are drawn at random from
    the course's active questions and kept with the attempt. An open attempt is resumed, not
    drawn again; no attempts left or the cool-down running is a 409."""
    from .selectors import is_assigned

    now = now or timezone.now()
    quiz = _quiz(user, quiz_id)
    if not quiz.is_published or not is_assigned(user, quiz):
        raise NotFound(_("No such quiz."))
    with transaction.atomic():
        # one sitter at a time per person: lock the person's row
        StaffUser.objects.select_for_update().filter(pk=user.pk).first()
        attempts = list(
            Attempt.objects.for_group(user.dealer_group_id)
            .filter(quiz=quiz, staff=user)
            .order_by("number")
        )
        last = attempts[-1] if attempts else None
        if last is not None and last.status == AttemptStatus.OPEN:
            if last.deadline is None or now <= last.deadline + GRACE:
                return last
            _expire(last, now)
        if any(a.passed for a in attempts):
            raise _conflict("already_passed", _("You have passed this quiz already."))
        if quiz.max_attempts is not None and len(attempts) >= quiz.max_attempts:
            raise _conflict("no_attempts_left", _("No attempts left for this quiz."))
        if last is not None and quiz.retake_after_minutes:
            ready = (last.finished_at or last.started_at) + dt.timedelta(
                minutes=quiz.retake_after_minutes
            )
            if now < ready:
                raise _conflict(
                    "retake_cool_down",
                    _("You can retake this quiz from %(when)s.")
                    % {"when": timezone.localtime(ready).strftime("%Y-%m-%d %H:%M")},
                    retry_at=ready.isoformat(),
                )
        pool = list(
            Question.objects.for_group(user.dealer_group_id).filter(
                course_id=quiz.course_id, is_active=True
            )
        )
        if len(pool) < quiz.questions_drawn:
            raise _conflict("not_enough_questions", _("This quiz has not enough questions yet."))
        drawn = _rng.sample(pool, quiz.questions_drawn)
        try:
            with transaction.atomic():
                return Attempt.objects.create(
                    dealer_group_id=user.dealer_group_id,
                    quiz=quiz,
                    staff=user,
                    number=(last.number + 1) if last else 1,
                    questions=[_snapshot(q) for q in drawn],
                    started_at=now,
                    deadline=(
                        now + dt.timedelta(minutes=quiz.time_limit_minutes)
                        if quiz.time_limit_minutes
                        else None
                    ),
                )
        except IntegrityError as exc:  # a parallel start won the race
            raise _conflict("attempt_in_progress", _("An attempt is already running.")) from exc


def score_answers(questions: list[dict], answers: dict[str, list[int]]) -> int:
    """How many questions were answered exactly right: the set of options chosen equals the
    set of correct ones (a multiple-choice question is all or nothing)."""
    right = 0
    for q in questions:
        chosen = set(answers.get(str(q["id"]), []))
        if chosen and chosen == set(q["correct"]):
            right += 1
    return right


def _clean_answers(questions: list[dict], answers: dict) -> dict[str, list[int]]:
    by_id = {str(q["id"]): q for q in questions}
    out: dict[str, list[int]] = {}
    for key, chosen in (answers or {}).items():
        q = by_id.get(str(key))
        if q is None:
            raise _conflict("unknown_question", _("An answer names a question not drawn."))
        picks = sorted({int(c) for c in chosen or []})
        if any(not 0 <= c < len(q["options"]) for c in picks):
            raise _conflict("unknown_option", _("An answer names an option that does not exist."))
        if q["kind"] == QuestionKind.SINGLE and len(picks) > 1:
            raise _conflict("one_option_only", _("Choose one option for a single-choice question."))
        out[str(key)] = picks
    return out


def submit_attempt(user, attempt_id: int, answers: dict, *, now=None) -> Attempt:
    """Score the answers against the questions kept with the attempt (never what the client
    says is right). Submitting a finished attempt again returns it unchanged (idempotent);
    after the deadline (plus a minute's grace) the attempt counts as run out of time."""
    now = now or timezone.now()
    with transaction.atomic():
        attempt = (
            Attempt.objects.for_group(user.dealer_group_id)
            .select_for_update()
            .select_related("quiz")
            .filter(pk=attempt_id, staff=user)
            .first()
        )
        if attempt is None:
            raise NotFound(_("No such attempt."))
        if attempt.status != AttemptStatus.OPEN:
            return attempt
        clean = _clean_answers(attempt.questions, answers)
        if attempt.deadline is not None and now > attempt.deadline + GRACE:
            attempt.answers = clean
            attempt.save(update_fields=["answers"])
            _expire(attempt, now)
            return attempt
        right = score_answers(attempt.questions, clean)
        total = len(attempt.questions) or 1
        score = round(100 * right / total)
        attempt.answers = clean
        attempt.correct_count = right
        attempt.score = score
        attempt.passed = score >= attempt.quiz.pass_mark
        attempt.status = AttemptStatus.FINISHED
        attempt.finished_at = now
        attempt.save(
            update_fields=["answers", "correct_count", "score", "passed", "status", "finished_at"]
        )
        return attempt
