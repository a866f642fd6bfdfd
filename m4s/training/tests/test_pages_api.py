"""Training pages and API: take a quiz in the console (result with explanations), managers'
pages (create course, question, quiz, assign, results), the API (my assignments, start, submit
twice, read, results), isolation (another group 404, no capability 403) and query counts."""

import pytest
from django.test import Client

from m4s.core.tests.factories import staff_token
from m4s.staff.choices import Role
from m4s.training import services
from m4s.training.models import Attempt, Course, Quiz

from .conftest import answer_key

pytestmark = pytest.mark.django_db


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_take_a_quiz_in_the_console(tw, django_assert_max_num_queries):
    c = _client(tw.advisor_a)
    with django_assert_max_num_queries(15):
        r = c.get("/console/training/")
    assert r.status_code == 200 and b'data-state="todo"' in r.content
    r = c.post(f"/console/training/quiz/{tw.quiz.pk}/start/")
    assert r.status_code == 302
    attempt = Attempt.objects.for_group(tw.group_a).get(staff=tw.advisor_a)
    assert r["Location"].endswith(f"/attempt/{attempt.pk}/")
    page = c.get(r["Location"])
    assert page.content.count(b'data-testid="question"') == 4
    assert b"Because" not in page.content  # no explanations while it is open
    data = {f"q{k}": v for k, v in answer_key(attempt).items()}
    assert c.post(r["Location"], data).status_code == 302
    page = c.get(r["Location"])
    assert b'data-testid="result"' in page.content and b"100%" in page.content
    assert b'data-testid="explanation"' in page.content
    assert c.get("/console/training/").content.count(b'data-state="passed"') == 1
    assert _client(tw.advisor_a2).get(r["Location"]).status_code == 404  # not theirs
    assert (
        _client(tw.advisor_b).post(f"/console/training/quiz/{tw.quiz.pk}/start/").status_code == 404
    )


def test_managers_pages(tw, django_assert_max_num_queries):
    c = _client(tw.admin_a)
    r = c.post(
        "/console/training/manage/", {"action": "course", "title": "Tyres", "title_ko": "타이어"}
    )
    course = Course.objects.for_group(tw.group_a).get(title="Tyres")
    assert r.status_code == 302 and course.title_i18n == {"ko": "타이어"}
    r = c.post(
        f"/console/training/manage/courses/{course.pk}/",
        {
            "action": "question",
            "kind": "multiple",
            "text": "Check?",
            "options": "* tread\n* pressure\ncolour",
        },
    )
    assert course.questions.get().correct == [0, 1]
    c.post(
        "/console/training/manage/",
        {
            "action": "quiz",
            "course": course.pk,
            "title": "Tyre quiz",
            "questions_drawn": "1",
            "pass_mark": "100",
        },
    )
    quiz = Quiz.objects.for_group(tw.group_a).get(title="Tyre quiz")
    c.post(
        f"/console/training/manage/quizzes/{quiz.pk}/",
        {
            "action": "quiz",
            "course": course.pk,
            "title": "Tyre quiz",
            "questions_drawn": "1",
            "pass_mark": "100",
            "is_published": "on",
        },
    )
    c.post(
        f"/console/training/manage/quizzes/{quiz.pk}/",
        {"action": "assign", "role": Role.SALES_CONSULTANT},
    )
    assert quiz.assignments.count() == 1
    with django_assert_max_num_queries(20):
        assert c.get("/console/training/manage/").status_code == 200
    with django_assert_max_num_queries(20):
        r = c.get("/console/training/results/")
    assert r.status_code == 200 and r.content.count(b'data-testid="result-row"') == 3
    assert c.get(f"/console/training/results/?store={tw.store_b.pk}").status_code == 404
    assert _client(tw.advisor_a).get("/console/training/manage/").status_code == 403
    assert _client(tw.advisor_a).get("/console/training/results/").status_code == 403
    assert (
        _client(tw.admin_b).get(f"/console/training/manage/courses/{course.pk}/").status_code == 404
    )
    assert (
        _client(tw.admin_b).get(f"/console/training/manage/quizzes/{quiz.pk}/").status_code == 404
    )


def test_api(tw, api_client):
    token = staff_token(tw.advisor_a)
    r = api_client.get("/api/v1/staff/training/assignments", token=token)
    assert r.status_code == 200 and [a["quiz_id"] for a in r.json_body] == [tw.quiz.pk]
    r = api_client.post(f"/api/v1/staff/training/quizzes/{tw.quiz.pk}/attempts", token=token)
    assert r.status_code == 201
    body = r.json_body
    assert len(body["questions"]) == 4 and all(q["correct"] is None for q in body["questions"])
    again = api_client.post(f"/api/v1/staff/training/quizzes/{tw.quiz.pk}/attempts", token=token)
    assert again.status_code == 200 and again.json_body["id"] == body["id"]
    answers = {str(q["id"]): [0] for q in body["questions"]}
    url = f"/api/v1/staff/training/attempts/{body['id']}/submit"
    bad = api_client.post(url, {"answers": {"999999": [0]}}, token=token)
    assert bad.status_code == 409 and bad.json_body["code"] == "unknown_question"
    assert api_client.post(url, {"answers": {"1": [99]}}, token=token).status_code == 422
    first = api_client.post(url, {"answers": answers}, token=token)
    assert first.status_code == 200 and first.json_body["status"] == "finished"
    assert all(q["correct"] is not None for q in first.json_body["questions"])
    second = api_client.post(url, {"answers": {}}, token=token)  # idempotent
    assert second.json_body["score"] == first.json_body["score"]
    assert (
        api_client.get(f"/api/v1/staff/training/attempts/{body['id']}", token=token).status_code
        == 200
    )
    other = staff_token(tw.advisor_b)
    assert (
        api_client.get(f"/api/v1/staff/training/attempts/{body['id']}", token=other).status_code
        == 404
    )
    assert api_client.post(url, {"answers": {}}, token=other).status_code == 404
    assert (
        api_client.post(
            f"/api/v1/staff/training/quizzes/{tw.quiz.pk}/attempts", token=other
        ).status_code
        == 404
    )
    r = api_client.get("/api/v1/staff/training/results", token=staff_token(tw.admin_a))
    rows = {row["staff_id"]: row for row in r.json_body}
    assert rows[tw.advisor_a.pk]["quizzes"][0]["attempts"] == 1
    assert api_client.get("/api/v1/staff/training/results", token=token).status_code == 403
    r = api_client.get(
        "/api/v1/staff/training/results",
        token=staff_token(tw.manager_a),
        params={"store": tw.store_a2.pk},
    )
    assert r.status_code == 404


def test_cool_down_refusal_is_409(tw, api_client):
    services.save_quiz(
        tw.admin_a,
        quiz_id=tw.quiz.pk,
        course_id=tw.course.pk,
        title="Q",
        questions_drawn=4,
        retake_after_minutes=60,
        is_published=True,
    )
    token = staff_token(tw.advisor_a)
    a = api_client.post(
        f"/api/v1/staff/training/quizzes/{tw.quiz.pk}/attempts", token=token
    ).json_body
    api_client.post(
        f"/api/v1/staff/training/attempts/{a['id']}/submit", {"answers": {}}, token=token
    )
    r = api_client.post(f"/api/v1/staff/training/quizzes/{tw.quiz.pk}/attempts", token=token)
    assert r.status_code == 409 and r.json_body["code"] == "retake_cool_down"
