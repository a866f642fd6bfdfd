"""The training tests' world: group A's admin writes a course of four questions (three single
choice, one multiple choice) and a quiz drawing all four, assigned to service advisors; group B
has its own admin and advisor."""

import pytest

from m4s.core.tests.factories import StoreFactory, make_staff
from m4s.staff.choices import Role
from m4s.training import services


def make_course(admin, n_single=3, with_multiple=True, title="Service basics"):
    course = services.save_course(
        admin,
        title=title,
        title_i18n={"zh-hans": "服务基础", "ko": "서비스 기초"},
        body="Greet the owner within a minute.",
        is_published=True,
    )
    for i in range(n_single):
        services.save_question(
            admin,
            course.pk,
            kind="single",
            text=f"Single {i}?",
            options=["right", "wrong", "also wrong"],
            correct=[0],
            explanation=f"Because {i}.",
        )
    if with_multiple:
        services.save_question(
            admin,
            course.pk,
            kind="multiple",
            text="Which are checked at every service?",
            options=["brakes", "tyres", "radio", "seat colour"],
            correct=[0, 1],
            explanation="Brakes and tyres.",
        )
    return course


def answer_key(attempt, wrong: int = 0):
    """Right answers for every drawn question, except `wrong` of them answered wrongly."""
    out = {}
    for i, q in enumerate(attempt.questions):
        if i < wrong:
            bad = next(k for k in range(len(q["options"])) if k not in q["correct"])
            out[str(q["id"])] = [bad]
        else:
            out[str(q["id"])] = list(q["correct"])
    return out


@pytest.fixture
def tw(world):
    w = world
    w.store_a2 = StoreFactory(dealer_group=w.group_a, name="Alpha South")
    w.manager_a = make_staff("manager-a", Role.STORE_MANAGER, w.group_a, [w.store_a])
    w.advisor_a2 = make_staff("advisor-a2", Role.SERVICE_ADVISOR, w.group_a, [w.store_a2])
    w.sales_a = make_staff("sales-a", Role.SALES_CONSULTANT, w.group_a, [w.store_a])
    w.course = make_course(w.admin_a)
    w.quiz = services.save_quiz(
        w.admin_a,
        course_id=w.course.pk,
        title="Service basics quiz",
        questions_drawn=4,
        pass_mark=75,
        max_attempts=2,
        is_published=True,
    )
    w.assignment = services.assign(w.admin_a, w.quiz.pk, role=Role.SERVICE_ADVISOR)
    return w
