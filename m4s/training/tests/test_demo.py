"""The demo training data: courses, questions in three languages, quizzes assigned per role and
attempts by the demo staff; a second run changes nothing."""

import pytest

from m4s.core.tests.factories import make_staff
from m4s.demo.training import build_training_demo
from m4s.staff.choices import Role
from m4s.training.models import Attempt, Course, Question

pytestmark = pytest.mark.django_db


def test_demo_training(world):
    people = [world.admin_a, world.advisor_a, world.tech_a, world.admin_b, world.advisor_b]
    people += [
        make_staff(f"demo-adv-{i}", Role.SERVICE_ADVISOR, world.group_a, [world.store_a])
        for i in range(4)
    ]
    made = build_training_demo({p.username: p for p in people}, [world.group_a, world.group_b])
    assert made == Attempt.objects.unscoped().count() > 0
    assert Course.objects.for_group(world.group_a).count() == 3
    q = Question.objects.for_group(world.group_b).first()
    assert set(q.text_i18n) == {"zh-hans", "en", "ko"}
    assert all(a.finished_at and a.score is not None for a in Attempt.objects.unscoped())
    assert build_training_demo(people, [world.group_a, world.group_b]) == 0
    assert Course.objects.for_group(world.group_a).count() == 3
