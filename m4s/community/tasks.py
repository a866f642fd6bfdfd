"""Thin tasks of the community area: the points of an approved story and of a like, after
commit. Safe to run twice: loyalty records each source once."""

from django_tasks import task

from . import services


@task()
def award_story_points_task(story_id: int) -> int:
    return services.award_story_points(story_id)


@task()
def award_like_points_task(story_id: int, liker_customer_id: int) -> int:
    return services.award_like_points(story_id, liker_customer_id)
