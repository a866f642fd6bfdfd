"""Training services: scoring (single and multiple choice, all or nothing), the pass mark,
retake limits and cool-down, idempotent submit, the drawn questions kept and checked on the
server, assignment by role (and store), isolation and capabilities."""

import datetime as dt

import pytest
from django.utils import timezone

from m4s.core.errors import DomainError, NotFound, PermissionDenied
from m4s.staff.choices import Role
from m4s.training import selectors, services
from m4s.training.models import Attempt, Question

from .conftest import answer_key, make_course

pytestmark = pytest.mark.django_db


def test_scoring_single_and_multiple_choice(tw):
    attempt = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    assert len(attempt.questions) == 4
    multi = next(q for q in attempt.questions if q["kind"] == "multiple")
    answers = answer_key(attempt)
    answers[str(multi["id"])] = [0]  # half of a multiple-choice question: wrong
    done = services.submit_attempt(tw.advisor_a, attempt.pk, answers)
    assert (done.correct_count, done.score, done.passed) == (3, 75, True)  # pass mark 75


def test_below_the_pass_mark_fails_and_a_retake_is_a_new_attempt(tw):
    first = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    first = services.submit_attempt(tw.advisor_a, first.pk, answer_key(first, wrong=2))
    assert (first.score, first.passed) == (50, False)
    second = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    assert second.pk != first.pk and second.number == 2
    services.submit_attempt(tw.advisor_a, second.pk, answer_key(second, wrong=4))
    with pytest.raises(DomainError) as err:  # max 2 attempts
        services.start_attempt(tw.advisor_a, tw.quiz.pk)
    assert err.value.code == "no_attempts_left" and err.value.status == 409
    first.refresh_from_db()
    assert first.score == 50  # append-only: the first sitting is unchanged
    assert Attempt.objects.for_group(tw.group_a).filter(staff=tw.advisor_a).count() == 2


def test_passed_quiz_cannot_be_started_again(tw):
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    services.submit_attempt(tw.advisor_a, a.pk, answer_key(a))
    with pytest.raises(DomainError) as err:
        services.start_attempt(tw.advisor_a, tw.quiz.pk)
    assert err.value.code == "already_passed"


def test_cool_down_between_attempts(tw):
    services.save_quiz(
        tw.admin_a,
        quiz_id=tw.quiz.pk,
        course_id=tw.course.pk,
        title="Service basics quiz",
        questions_drawn=4,
        pass_mark=75,
        retake_after_minutes=60,
        is_published=True,
    )
    now = timezone.now()
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk, now=now)
    services.submit_attempt(tw.advisor_a, a.pk, {}, now=now)
    with pytest.raises(DomainError) as err:
        services.start_attempt(tw.advisor_a, tw.quiz.pk, now=now + dt.timedelta(minutes=30))
    assert err.value.code == "retake_cool_down"
    b = services.start_attempt(tw.advisor_a, tw.quiz.pk, now=now + dt.timedelta(minutes=61))
    assert b.number == 2


def test_open_attempt_is_resumed_not_drawn_again(tw):
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    b = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    assert a.pk == b.pk and a.questions == b.questions


def test_submit_twice_is_idempotent(tw):
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    done = services.submit_attempt(tw.advisor_a, a.pk, answer_key(a))
    again = services.submit_attempt(tw.advisor_a, a.pk, answer_key(a, wrong=4))
    assert again.score == done.score == 100 and again.finished_at == done.finished_at


def test_answers_checked_against_the_stored_questions(tw):
    """Editing the bank after the draw changes nothing; the client cannot name new questions
    or options."""
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    single = next(q for q in a.questions if q["kind"] == "single")
    Question.objects.for_group(tw.group_a).filter(pk=single["id"]).update(correct=[1])
    with pytest.raises(DomainError) as err:
        services.submit_attempt(tw.advisor_a, a.pk, {"999999": [0]})
    assert err.value.code == "unknown_question"
    with pytest.raises(DomainError) as err:
        services.submit_attempt(tw.advisor_a, a.pk, {str(single["id"]): [7]})
    assert err.value.code == "unknown_option"
    with pytest.raises(DomainError) as err:
        services.submit_attempt(tw.advisor_a, a.pk, {str(single["id"]): [0, 1]})
    assert err.value.code == "one_option_only"
    done = services.submit_attempt(tw.advisor_a, a.pk, answer_key(a))
    assert done.score == 100  # scored on the snapshot (correct = [0]), not the edited bank


def test_time_limit(tw):
    services.save_quiz(
        tw.admin_a,
        quiz_id=tw.quiz.pk,
        course_id=tw.course.pk,
        title="Timed",
        questions_drawn=4,
        time_limit_minutes=10,
        is_published=True,
    )
    now = timezone.now()
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk, now=now)
    late = services.submit_attempt(
        tw.advisor_a, a.pk, answer_key(a), now=now + dt.timedelta(minutes=12)
    )
    assert late.status == "expired" and late.score == 0 and late.passed is False


def test_assignment_by_role_and_store(tw):
    assert tw.quiz.pk in {r["quiz"].pk for r in selectors.my_assignments(tw.advisor_a)}
    assert tw.quiz.pk in {r["quiz"].pk for r in selectors.my_assignments(tw.advisor_a2)}
    assert selectors.my_assignments(tw.sales_a) == []
    with pytest.raises(NotFound):  # not assigned: not found
        services.start_attempt(tw.sales_a, tw.quiz.pk)
    # a role in one store only
    course = make_course(tw.admin_a, title="Sales")
    quiz = services.save_quiz(
        tw.admin_a, course_id=course.pk, title="Sales quiz", questions_drawn=2, is_published=True
    )
    services.assign(tw.admin_a, quiz.pk, role=Role.SERVICE_ADVISOR, store_id=tw.store_a2.pk)
    services.assign(tw.admin_a, quiz.pk, staff_id=tw.sales_a.pk, due_on=dt.date(2030, 1, 1))
    assert quiz.pk not in {r["quiz"].pk for r in selectors.my_assignments(tw.advisor_a)}
    assert quiz.pk in {r["quiz"].pk for r in selectors.my_assignments(tw.advisor_a2)}
    mine = selectors.my_assignments(tw.sales_a)
    assert [(r["quiz"].pk, r["due_on"], r["state"]) for r in mine] == [
        (quiz.pk, dt.date(2030, 1, 1), "todo")
    ]


def test_publishing_needs_enough_questions(tw):
    with pytest.raises(DomainError) as err:
        services.save_quiz(
            tw.admin_a, course_id=tw.course.pk, title="Big", questions_drawn=10, is_published=True
        )
    assert err.value.code == "not_enough_questions"


def test_question_rules(tw):
    with pytest.raises(DomainError) as err:
        services.save_question(
            tw.admin_a, tw.course.pk, kind="single", text="?", options=["a", "b"], correct=[0, 1]
        )
    assert err.value.code == "invalid_correct"
    with pytest.raises(DomainError):
        services.save_question(tw.admin_a, tw.course.pk, text="?", options=["a"], correct=[0])


def test_isolation_and_capability(tw):
    with pytest.raises(PermissionDenied):
        services.save_course(tw.advisor_a, title="Mine")
    with pytest.raises(NotFound):  # another group's course
        services.save_quiz(tw.admin_b, course_id=tw.course.pk, title="x", questions_drawn=1)
    with pytest.raises(NotFound):
        services.assign(tw.admin_b, tw.quiz.pk, role=Role.SERVICE_ADVISOR)
    with pytest.raises(NotFound):
        services.start_attempt(tw.advisor_b, tw.quiz.pk)
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    with pytest.raises(NotFound):  # someone else's attempt
        services.submit_attempt(tw.advisor_a2, a.pk, {})
    with pytest.raises(NotFound):
        services.submit_attempt(tw.advisor_b, a.pk, {})


def test_results_for_managers(tw):
    a = services.start_attempt(tw.advisor_a, tw.quiz.pk)
    services.submit_attempt(tw.advisor_a, a.pk, answer_key(a, wrong=1))
    group = selectors.results(tw.admin_a)
    rows = {r["staff"].pk: r for r in group["rows"]}
    assert rows[tw.advisor_a.pk]["line"][0] == {"best": 75, "attempts": 1, "passed": True}
    assert rows[tw.advisor_a2.pk]["line"][0] == {"best": None, "attempts": 0, "passed": False}
    own = selectors.results(tw.manager_a)  # a store manager: their own store's staff only
    assert tw.advisor_a2.pk not in {r["staff"].pk for r in own["rows"]}
    scores = selectors.quiz_scores(tw.group_a.pk, [tw.advisor_a.pk, tw.advisor_a2.pk])
    assert scores[tw.advisor_a.pk]["pass_rate"] == 100
    assert scores[tw.advisor_a2.pk]["mean_best"] == 0
