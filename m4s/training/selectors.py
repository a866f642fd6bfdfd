"""Reads of the training area, scoped to the reader's group: what a staff member has to take
(and how they are doing), courses and quizzes for managers, and the results per store and role
(a store manager sees their own stores' staff; a group admin every store's). A handful of
queries per page, never one per person or quiz."""

import datetime as dt
from collections import defaultdict

from django.db.models import Count, Max, Q
from django.utils import timezone

from m4s.org.models import Store
from m4s.staff.choices import Perm
from m4s.staff.models import StaffUser

from .choices import AssignmentState, AttemptStatus
from .models import Assignment, Attempt, Course, Question, Quiz


def visible_stores(user) -> list[Store]:
    """Every active store of the group for those who see all stores; else the reader's own."""
    qs = Store.objects.for_group(user.dealer_group_id).filter(is_active=True).order_by("name")
    if not (user.has_perm_m4s(Perm.VIEW_ALL_STORES) or user.is_platform_admin):
        qs = qs.filter(pk__in=user.store_ids())
    return list(qs)


def _applies(assignment: Assignment, person, store_ids: set[int]) -> bool:
    if assignment.staff_id is not None:
        return assignment.staff_id == person.pk
    if assignment.role != person.role:
        return False
    return assignment.store_id is None or assignment.store_id in store_ids


def is_assigned(user, quiz: Quiz) -> bool:
    rows = Assignment.objects.for_group(user.dealer_group_id).filter(
        Q(staff=user) | Q(role=user.role), quiz=quiz
    )
    ids = user.store_ids()
    return any(_applies(a, user, ids) for a in rows)


def _assigned_quizzes(assignments, person, store_ids) -> dict[int, dt.date | None]:
    """quiz id → the earliest due date among the person's assignments of it."""
    out: dict[int, dt.date | None] = {}
    for a in assignments:
        if not _applies(a, person, store_ids):
            continue
        current = out.get(a.quiz_id)
        if a.quiz_id not in out or (a.due_on and (current is None or a.due_on < current)):
            out[a.quiz_id] = a.due_on
    return out


def my_assignments(user, *, now=None) -> list[dict]:
    """The reader's quizzes: due date, attempts, best score, state and whether they may start."""
    now = now or timezone.now()
    group_id = user.dealer_group_id
    assignments = list(
        Assignment.objects.for_group(group_id)
        .filter(Q(staff=user) | Q(role=user.role), quiz__is_published=True)
        .select_related("quiz", "quiz__course")
    )
    due = _assigned_quizzes(assignments, user, user.store_ids())
    quizzes = {a.quiz_id: a.quiz for a in assignments}
    attempts: dict[int, list[Attempt]] = defaultdict(list)
    for a in (
        Attempt.objects.for_group(group_id)
        .filter(staff=user, quiz_id__in=list(due))
        .defer("questions", "answers")
        .order_by("number")
    ):
        attempts[a.quiz_id].append(a)
    today = timezone.localdate(now)
    rows = []
    for quiz_id, due_on in due.items():
        quiz = quizzes[quiz_id]
        mine = attempts.get(quiz_id, [])
        finished = [a for a in mine if a.status != AttemptStatus.OPEN]
        open_attempt = next((a for a in mine if a.status == AttemptStatus.OPEN), None)
        best = max((a.score or 0 for a in finished), default=None)
        passed = any(a.passed for a in finished)
        left = None if quiz.max_attempts is None else max(quiz.max_attempts - len(mine), 0)
        if passed:
            state = AssignmentState.PASSED
        elif open_attempt is not None:
            state = AssignmentState.IN_PROGRESS
        elif left == 0:
            state = AssignmentState.LOCKED
        elif finished:
            state = AssignmentState.FAILED
        else:
            state = AssignmentState.TODO
        ready_at = None
        if finished and quiz.retake_after_minutes and not passed:
            last = finished[-1]
            ready_at = (last.finished_at or last.started_at) + dt.timedelta(
                minutes=quiz.retake_after_minutes
            )
            if ready_at <= now:
                ready_at = None
        rows.append(
            {
                "quiz": quiz,
                "due_on": due_on,
                "overdue": bool(due_on and due_on < today and not passed),
                "attempts": len(mine),
                "attempts_left": left,
                "best_score": best,
                "passed": passed,
                "state": state,
                "state_label": AssignmentState(state).label,
                "open_attempt_id": open_attempt.pk if open_attempt else None,
                "last_attempt_id": finished[-1].pk if finished else None,
                "retake_at": ready_at,
                "can_start": state in (AssignmentState.TODO, AssignmentState.FAILED)
                and ready_at is None,
            }
        )
    rows.sort(key=lambda r: (r["passed"], r["due_on"] or dt.date.max, r["quiz"].title))
    return rows


def get_my_attempt(user, attempt_id: int) -> Attempt | None:
    return (
        Attempt.objects.for_group(user.dealer_group_id)
        .select_related("quiz", "quiz__course")
        .filter(pk=attempt_id, staff=user)
        .first()
    )


def list_courses(user) -> list[Course]:
    return list(
        Course.objects.for_group(user.dealer_group_id).annotate(
            n_questions=Count("questions", filter=Q(questions__is_active=True), distinct=True),
            n_quizzes=Count("quizzes", distinct=True),
        )
    )


def get_course(user, course_id: int) -> Course | None:
    return Course.objects.for_group(user.dealer_group_id).filter(pk=course_id).first()


def list_questions(user, course: Course) -> list[Question]:
    return list(Question.objects.for_group(user.dealer_group_id).filter(course=course))


def list_quizzes(user) -> list[Quiz]:
    return list(
        Quiz.objects.for_group(user.dealer_group_id)
        .select_related("course")
        .annotate(
            n_assignments=Count("assignments", distinct=True),
            n_attempts=Count("attempts", distinct=True),
        )
    )


def get_quiz(user, quiz_id: int) -> Quiz | None:
    return (
        Quiz.objects.for_group(user.dealer_group_id)
        .select_related("course")
        .filter(pk=quiz_id)
        .first()
    )


def list_assignments(user, quiz: Quiz | None = None) -> list[Assignment]:
    qs = Assignment.objects.for_group(user.dealer_group_id).select_related("quiz", "store", "staff")
    if quiz is not None:
        qs = qs.filter(quiz=quiz)
    return list(qs)


def staff_of_stores(user, store_ids: list[int]) -> list[StaffUser]:
    return list(
        StaffUser.objects.filter(
            dealer_group_id=user.dealer_group_id, is_active=True, stores__in=store_ids
        )
        .prefetch_related("stores")
        .distinct()
        .order_by("display_name", "username")
    )


def quiz_scores(group_id: int, staff_ids: list[int], *, until=None) -> dict[int, dict]:
    """Per staff member: their assigned quizzes' best scores and pass rate, read in three
    queries (assignments, attempts aggregated per person and quiz, staff rows).
    `{staff id: {"assigned": n, "passed": n, "pass_rate": % or None, "mean_best": % or None,
    "best": {quiz id: score}}}`; `until` counts only assignments made and attempts finished
    before it."""
    people = list(
        StaffUser.objects.filter(pk__in=staff_ids, dealer_group_id=group_id).prefetch_related(
            "stores"
        )
    )
    assigned_qs = Assignment.objects.for_group(group_id).filter(quiz__is_published=True)
    if until is not None:
        assigned_qs = assigned_qs.filter(created_at__lt=until)
    assignments = list(assigned_qs)
    attempts = Attempt.objects.for_group(group_id).filter(
        staff_id__in=staff_ids, status__in=[AttemptStatus.FINISHED, AttemptStatus.EXPIRED]
    )
    if until is not None:
        attempts = attempts.filter(finished_at__lt=until)
    best: dict[tuple[int, int], dict] = {
        (r["staff_id"], r["quiz_id"]): r
        for r in attempts.values("staff_id", "quiz_id").annotate(
            best=Max("score"), n=Count("id"), passed=Count("id", filter=Q(passed=True))
        )
    }
    out = {}
    for person in people:
        assigned = _assigned_quizzes(assignments, person, person.store_ids())
        scores = {q: best[(person.pk, q)]["best"] for q in assigned if (person.pk, q) in best}
        passed = sum(
            1 for q in assigned if (person.pk, q) in best and best[(person.pk, q)]["passed"]
        )
        out[person.pk] = {
            "assigned": len(assigned),
            "passed": passed,
            "pass_rate": round(100 * passed / len(assigned)) if assigned else None,
            "mean_best": (
                round(sum(scores.get(q, 0) for q in assigned) / len(assigned)) if assigned else None
            ),
            "best": scores,
        }
    return out


def results(user, *, store_id: int | None = None, role: str = "") -> dict:
    """The results table for managers: one row per staff member of the visible stores (or one
    store), one column per quiz assigned to any of them: best score, attempts, passed."""
    stores = visible_stores(user)
    store_ids = [s.pk for s in stores if store_id is None or s.pk == store_id]
    people = staff_of_stores(user, store_ids)
    if role:
        people = [p for p in people if p.role == role]
    group_id = user.dealer_group_id
    assignments = list(
        Assignment.objects.for_group(group_id)
        .filter(quiz__is_published=True)
        .select_related("quiz")
    )
    stats = {
        (r["staff_id"], r["quiz_id"]): r
        for r in Attempt.objects.for_group(group_id)
        .filter(staff_id__in=[p.pk for p in people])
        .exclude(status=AttemptStatus.OPEN)
        .values("staff_id", "quiz_id")
        .annotate(best=Max("score"), n=Count("id"), passed=Count("id", filter=Q(passed=True)))
    }
    quizzes: dict[int, Quiz] = {}
    rows = []
    for p in people:
        assigned = _assigned_quizzes(assignments, p, p.store_ids())
        cells = {}
        for quiz_id in assigned:
            quizzes.setdefault(quiz_id, next(a.quiz for a in assignments if a.quiz_id == quiz_id))
            s = stats.get((p.pk, quiz_id))
            cells[quiz_id] = {
                "best": s["best"] if s else None,
                "attempts": s["n"] if s else 0,
                "passed": bool(s and s["passed"]),
            }
        if not cells:
            continue  # nothing assigned to this person
        done = sum(1 for c in cells.values() if c["passed"])
        rows.append(
            {
                "staff": p,
                "cells": cells,
                "assigned": len(cells),
                "passed": done,
                "pass_rate": round(100 * done / len(cells)),
            }
        )
    ordered = sorted(quizzes.values(), key=lambda q: (q.title, q.pk))
    for row in rows:
        row["line"] = [row["cells"].get(q.pk) for q in ordered]
    return {"stores": stores, "quizzes": ordered, "rows": rows}
