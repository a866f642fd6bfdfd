"""Thin tasks: load by id, call a service. Safe to run twice."""

from django_tasks import task

from . import services


@task(queue_name="notify")
def deliver_message_task(message_id: int) -> str:
    return services.deliver_message(message_id)


@task(queue_name="notify")
def deliver_messages_task(message_ids: list[int]) -> dict[str, int]:
    return services.deliver_messages(message_ids)


@task()
def sweep_outbox_task() -> int:
    return services.sweep_outbox()


@task()
def prune_live_events_task() -> int:
    from . import live

    return live.prune()
