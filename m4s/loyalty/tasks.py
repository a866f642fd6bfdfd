"""Thin periodic tasks: each calls one idempotent service function."""

from django_tasks import task

from . import services


@task()
def expire_and_warn_task():
    return services.expire_and_warn()


@task()
def review_tiers_task():
    return services.review_tiers()


@task()
def follow_up_task():
    """The batched follow-up of earns (message, tier, missions): enqueued after earns commit
    and by the periodic sweep; idempotent (m4s/loyalty/earning.py)."""
    from .earning import follow_up_pending

    return follow_up_pending()
