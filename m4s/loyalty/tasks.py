"""Thin periodic tasks: each calls one idempotent service function."""

from django_tasks import task

from . import services


@task()
def expire_and_warn_task():
    return services.expire_and_warn()


@task()
def review_tiers_task():
    return services.review_tiers()
