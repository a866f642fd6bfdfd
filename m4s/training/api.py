"""Training API (transport only): my assignments, start an attempt (questions drawn and kept on
the server, without their answers), submit answers (scored on the server; a second submit
returns the first result), read an attempt, and the results per store and role for managers."""

import datetime as dt
from typing import Annotated

from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema, Status

from m4s.core.api import errors
from m4s.core.auth import staff_auth
from m4s.core.errors import NotFound
from m4s.core.i18n import pick
from m4s.core.types import DbId
from m4s.staff.choices import Perm, Role
from m4s.staff.permissions import check_perm

from . import selectors, services
from .choices import AssignmentState, AttemptStatus, QuestionKind
from .models import MAX_OPTIONS, Attempt

router = Router(tags=["staff: training"], auth=staff_auth)


class AssignmentOut(Schema):
    quiz_id: int
    title: str
    course: str
    due_on: dt.date | None
    overdue: bool
    attempts: int
    attempts_left: int | None
    best_score: int | None
    passed: bool
    state: AssignmentState
    pass_mark: int
    questions: int
    time_limit_minutes: int | None
    open_attempt_id: int | None
    can_start: bool
    retake_at: dt.datetime | None


class OptionOut(Schema):
    index: int
    text: str


class QuestionOut(Schema):
    id: int
    kind: QuestionKind
    text: str
    options: list[OptionOut]
    chosen: list[int]
    correct: list[int] | None = Field(None, description="Only once the attempt is finished.")
    explanation: str | None = Field(None, description="Only once the attempt is finished.")
    right: bool | None = None


class AttemptOut(Schema):
    id: int
    quiz_id: int
    number: int
    status: AttemptStatus
    started_at: dt.datetime
    deadline: dt.datetime | None
    finished_at: dt.datetime | None
    score: int | None
    correct_count: int
    passed: bool | None
    pass_mark: int
    questions: list[QuestionOut]


Choice = Annotated[int, Field(ge=0, le=MAX_OPTIONS - 1)]


class SubmitIn(Schema):
    """`answers`: question id (as a string) → the option indexes chosen. A question not drawn
    in this attempt, or an option it does not have, is a 409 (`unknown_question`,
    `unknown_option`, `one_option_only`)."""

    answers: dict[str, Annotated[list[Choice], Field(max_length=MAX_OPTIONS)]] = Field(
        default_factory=dict, max_length=50
    )


class ResultCellOut(Schema):
    quiz_id: int
    best: int | None
    attempts: int
    passed: bool


class ResultRowOut(Schema):
    staff_id: int
    name: str
    role: str
    assigned: int
    passed: int
    pass_rate: int | None
    quizzes: list[ResultCellOut]


def attempt_out(attempt: Attempt) -> dict:
    done = attempt.status != AttemptStatus.OPEN
    questions = []
    for q in attempt.questions:
        chosen = list((attempt.answers or {}).get(str(q["id"]), []))
        questions.append(
            {
                "id": q["id"],
                "kind": q["kind"],
                "text": pick(q.get("text_i18n"), q["text"]),
                "options": [
                    {"index": i, "text": pick(o.get("i18n"), o["text"])}
                    for i, o in enumerate(q["options"])
                ],
                "chosen": chosen,
                "correct": list(q["correct"]) if done else None,
                "explanation": pick(q.get("explanation_i18n"), q["explanation"]) if done else None,
                "right": (bool(chosen) and set(chosen) == set(q["correct"])) if done else None,
            }
        )
    return {
        "id": attempt.pk,
        "quiz_id": attempt.quiz_id,
        "number": attempt.number,
        "status": attempt.status,
        "started_at": attempt.started_at,
        "deadline": attempt.deadline,
        "finished_at": attempt.finished_at,
        "score": attempt.score,
        "correct_count": attempt.correct_count,
        "passed": attempt.passed,
        "pass_mark": attempt.quiz.pass_mark,
        "questions": questions,
    }


@router.get("/training/assignments", response=list[AssignmentOut], openapi_extra=errors(403))
def my_assignments(request):
    """The quizzes assigned to me (by role, store or name), with my state in each."""
    check_perm(request.user, Perm.USE_CONSOLE)
    return [
        {
            "quiz_id": r["quiz"].pk,
            "title": r["quiz"].t("title"),
            "course": r["quiz"].course.t("title"),
            "due_on": r["due_on"],
            "overdue": r["overdue"],
            "attempts": r["attempts"],
            "attempts_left": r["attempts_left"],
            "best_score": r["best_score"],
            "passed": r["passed"],
            "state": r["state"],
            "pass_mark": r["quiz"].pass_mark,
            "questions": r["quiz"].questions_drawn,
            "time_limit_minutes": r["quiz"].time_limit_minutes,
            "open_attempt_id": r["open_attempt_id"],
            "can_start": r["can_start"],
            "retake_at": r["retake_at"],
        }
        for r in selectors.my_assignments(request.user)
    ]


@router.post(
    "/training/quizzes/{quiz_id}/attempts",
    response={200: AttemptOut, 201: AttemptOut},
    openapi_extra=errors(403, 404, 409),
)
def start_attempt(request, quiz_id: DbId):
    """Start an attempt of an assigned quiz (or resume the open one): 201 for a new attempt,
    200 for the open one. 409: passed already, no attempts left, cool-down running."""
    check_perm(request.user, Perm.USE_CONSOLE)
    before = selectors.my_assignments(request.user)
    open_ids = {r["open_attempt_id"] for r in before}
    attempt = services.start_attempt(request.user, quiz_id)
    return Status(200 if attempt.pk in open_ids else 201, attempt_out(attempt))


@router.get("/training/attempts/{attempt_id}", response=AttemptOut, openapi_extra=errors(403, 404))
def get_attempt(request, attempt_id: DbId):
    """One of my attempts: the questions drawn; correct options and explanations once it is
    finished."""
    check_perm(request.user, Perm.USE_CONSOLE)
    attempt = selectors.get_my_attempt(request.user, attempt_id)
    if attempt is None:
        raise NotFound(_("No such attempt."))
    return attempt_out(attempt)


@router.post(
    "/training/attempts/{attempt_id}/submit",
    response=AttemptOut,
    openapi_extra=errors(403, 404, 409, 422),
)
def submit_attempt(request, attempt_id: DbId, payload: SubmitIn):
    """My answers: `{"answers": {"<question id>": [option index, ...]}}`. Scored on the server
    against the questions kept with the attempt; submitting again returns the first result."""
    check_perm(request.user, Perm.USE_CONSOLE)
    attempt = services.submit_attempt(request.user, attempt_id, payload.answers)
    return attempt_out(attempt)


@router.get("/training/results", response=list[ResultRowOut], openapi_extra=errors(403, 404))
def results(
    request,
    store: DbId | None = None,
    role: Role | None = Query(None),  # noqa: B008
):
    """Managers (MANAGE_TRAINING or VIEW_INSIGHTS): per staff member of the stores I see, each
    assigned quiz's best score, attempts and whether passed. Another group's store: 404."""
    user = request.user
    if not (user.has_perm_m4s(Perm.MANAGE_TRAINING) or user.has_perm_m4s(Perm.VIEW_INSIGHTS)):
        check_perm(user, Perm.MANAGE_TRAINING)
    if store is not None and store not in {s.pk for s in selectors.visible_stores(user)}:
        raise NotFound(_("No such store."))
    data = selectors.results(user, store_id=store, role=role or "")
    return [
        {
            "staff_id": r["staff"].pk,
            "name": str(r["staff"]),
            "role": r["staff"].role,
            "assigned": r["assigned"],
            "passed": r["passed"],
            "pass_rate": r["pass_rate"],
            "quizzes": [
                {"quiz_id": q.pk, **cell}
                for q, cell in zip(data["quizzes"], r["line"], strict=True)
                if cell is not None
            ],
        }
        for r in data["rows"]
    ]
