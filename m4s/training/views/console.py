"""Training pages of the staff console: "My training" for everyone (assigned quizzes, take one,
see the result with explanations) and, with MANAGE_TRAINING, courses and their questions,
quizzes and their assignments, and the results per store and role. Thin: the same services and
selectors as the API."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from m4s.core.errors import DomainError
from m4s.core.i18n import pick
from m4s.notify import selectors as inbox
from m4s.staff.choices import Perm, Role
from m4s.staff.permissions import staff_page
from m4s.training import selectors, services
from m4s.training.choices import AttemptStatus, QuestionKind

LANGS = (("zh-hans", "中文"), ("en", "English"), ("ko", "한국어"))


def _ctx(request, **extra):
    return {"unread": inbox.count_unread(staff=request.user), "nav": "training", **extra}


def _int(raw, *, default=None, low=0, high=10**9):
    raw = (raw or "").strip()
    if not (raw.isascii() and raw.isdigit() and len(raw) < 10):
        return default
    value = int(raw)
    return value if low <= value <= high else default


def _i18n(post, field: str) -> dict:
    return {code: post.get(f"{field}_{code}", "").strip() for code, _label in LANGS}


def _fail(request, exc: DomainError):
    messages.error(request, exc.message)


# --- everyone ------------------------------------------------------------------------------------
@staff_page(Perm.USE_CONSOLE)
def my_training(request):
    rows = selectors.my_assignments(request.user)
    return render(request, "training/console/mine.html", _ctx(request, tab="mine", rows=rows))


@require_POST
@staff_page(Perm.USE_CONSOLE)
def start(request, quiz_id: int):
    try:
        attempt = services.start_attempt(request.user, quiz_id)
    except DomainError as exc:
        if exc.status == 404:
            raise Http404 from exc
        _fail(request, exc)
        return redirect("console-training")
    return redirect("console-training-attempt", attempt_id=attempt.pk)


def _questions(attempt) -> list[dict]:
    done = attempt.status != AttemptStatus.OPEN
    out = []
    for q in attempt.questions:
        chosen = set((attempt.answers or {}).get(str(q["id"]), []))
        out.append(
            {
                "id": q["id"],
                "multiple": q["kind"] == QuestionKind.MULTIPLE,
                "text": pick(q.get("text_i18n"), q["text"]),
                "options": [
                    {
                        "index": i,
                        "text": pick(o.get("i18n"), o["text"]),
                        "chosen": i in chosen,
                        "correct": done and i in q["correct"],
                    }
                    for i, o in enumerate(q["options"])
                ],
                "right": done and bool(chosen) and chosen == set(q["correct"]),
                "explanation": pick(q.get("explanation_i18n"), q["explanation"]) if done else "",
            }
        )
    return out


@require_http_methods(["GET", "POST"])
@staff_page(Perm.USE_CONSOLE)
def attempt(request, attempt_id: int):
    found = selectors.get_my_attempt(request.user, attempt_id)
    if found is None:
        raise Http404
    if request.method == "POST":
        answers = {}
        for q in found.questions:
            picks = [_int(v, low=0, high=20) for v in request.POST.getlist(f"q{q['id']}")]
            answers[str(q["id"])] = [p for p in picks if p is not None]
        try:
            services.submit_attempt(request.user, found.pk, answers)
        except DomainError as exc:
            _fail(request, exc)
        return redirect("console-training-attempt", attempt_id=found.pk)
    return render(
        request,
        "training/console/attempt.html",
        _ctx(request, tab="mine", attempt=found, quiz=found.quiz, questions=_questions(found)),
    )


# --- managers ------------------------------------------------------------------------------------
def _course_fields(post) -> dict:
    return {
        "title": post.get("title", ""),
        "title_i18n": _i18n(post, "title"),
        "body": post.get("body", ""),
        "body_i18n": _i18n(post, "body"),
        "is_published": post.get("is_published") == "on",
    }


def _quiz_fields(post) -> dict:
    return {
        "course_id": _int(post.get("course"), default=0),
        "title": post.get("title", ""),
        "title_i18n": _i18n(post, "title"),
        "questions_drawn": _int(post.get("questions_drawn"), default=5, low=1, high=50),
        "pass_mark": _int(post.get("pass_mark"), default=80, low=0, high=100),
        "max_attempts": _int(post.get("max_attempts"), low=1, high=20),
        "retake_after_minutes": _int(
            post.get("retake_after_minutes"), default=0, high=60 * 24 * 30
        ),
        "time_limit_minutes": _int(post.get("time_limit_minutes"), low=1, high=240),
        "is_published": post.get("is_published") == "on",
    }


@require_http_methods(["GET", "POST"])
@staff_page(Perm.MANAGE_TRAINING)
def manage(request):
    user = request.user
    if request.method == "POST":
        try:
            if request.POST.get("action") == "quiz":
                quiz = services.save_quiz(user, **_quiz_fields(request.POST))
                return redirect("console-training-quiz", quiz_id=quiz.pk)
            course = services.save_course(user, **_course_fields(request.POST))
            return redirect("console-training-course", course_id=course.pk)
        except DomainError as exc:
            _fail(request, exc)
            return redirect("console-training-manage")
    return render(
        request,
        "training/console/manage.html",
        _ctx(
            request,
            tab="manage",
            courses=selectors.list_courses(user),
            quizzes=selectors.list_quizzes(user),
            langs=LANGS,
        ),
    )


def _parse_options(raw: str) -> tuple[list[str], list[int]]:
    """One option a line; a line starting with `*` is a correct one."""
    options, correct = [], []
    for line in (raw or "").splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("*"):
            correct.append(len(options))
            line = line[1:].strip()
        options.append(line)
    return options, correct


@require_http_methods(["GET", "POST"])
@staff_page(Perm.MANAGE_TRAINING)
def course(request, course_id: int):
    user = request.user
    found = selectors.get_course(user, course_id)
    if found is None:
        raise Http404
    if request.method == "POST":
        try:
            if request.POST.get("action") == "question":
                options, correct = _parse_options(request.POST.get("options", ""))
                services.save_question(
                    user,
                    found.pk,
                    kind=request.POST.get("kind", QuestionKind.SINGLE),
                    text=request.POST.get("text", ""),
                    text_i18n=_i18n(request.POST, "text"),
                    options=options,
                    correct=correct,
                    explanation=request.POST.get("explanation", ""),
                )
                messages.success(request, _("Question added."))
            else:
                services.save_course(user, course_id=found.pk, **_course_fields(request.POST))
                messages.success(request, _("Saved."))
        except DomainError as exc:
            _fail(request, exc)
        return redirect("console-training-course", course_id=found.pk)
    return render(
        request,
        "training/console/course.html",
        _ctx(
            request,
            tab="manage",
            course=found,
            questions=selectors.list_questions(user, found),
            langs=LANGS,
            kinds=QuestionKind.choices,
        ),
    )


@require_http_methods(["GET", "POST"])
@staff_page(Perm.MANAGE_TRAINING)
def quiz(request, quiz_id: int):
    user = request.user
    found = selectors.get_quiz(user, quiz_id)
    if found is None:
        raise Http404
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "assign":
                target = request.POST.get("staff", "")
                raw_due = request.POST.get("due_on", "").strip()
                try:
                    due = dt.date.fromisoformat(raw_due) if raw_due else None
                except ValueError:
                    due = None
                services.assign(
                    user,
                    found.pk,
                    role="" if target else request.POST.get("role", ""),
                    staff_id=_int(target, low=1),
                    store_id=_int(request.POST.get("store"), low=1),
                    due_on=due,
                )
                messages.success(request, _("Assigned."))
            elif action == "unassign":
                services.remove_assignment(user, _int(request.POST.get("assignment"), default=0))
            else:
                services.save_quiz(user, quiz_id=found.pk, **_quiz_fields(request.POST))
                messages.success(request, _("Saved."))
        except DomainError as exc:
            _fail(request, exc)
        return redirect("console-training-quiz", quiz_id=found.pk)
    stores = selectors.visible_stores(user)
    return render(
        request,
        "training/console/quiz.html",
        _ctx(
            request,
            tab="manage",
            quiz=found,
            courses=selectors.list_courses(user),
            assignments=selectors.list_assignments(user, found),
            roles=[
                (v, label)
                for v, label in Role.choices
                if v not in ("platform_admin", "local_org_editor")
            ],
            stores=stores,
            people=selectors.staff_of_stores(user, [s.pk for s in stores]),
            langs=LANGS,
        ),
    )


@staff_page(Perm.USE_CONSOLE)
def results(request):
    user = request.user
    if not (user.has_perm_m4s(Perm.MANAGE_TRAINING) or user.has_perm_m4s(Perm.VIEW_INSIGHTS)):
        raise DjangoPermissionDenied
    stores = selectors.visible_stores(user)
    store_id = None
    raw = request.GET.get("store", "")
    if raw:
        store_id = _int(raw, low=1)
        if store_id is None or store_id not in {s.pk for s in stores}:
            raise Http404
    role = request.GET.get("role", "")
    if role not in Role.values:
        role = ""
    data = selectors.results(user, store_id=store_id, role=role)
    return render(
        request,
        "training/console/results.html",
        _ctx(request, tab="results", data=data, store_id=store_id, role=role, roles=Role.choices),
    )
