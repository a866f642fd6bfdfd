from django_tasks import task

from . import services


@task()
def purge_expired_otps_task() -> int:
    return services.purge_expired_otps()
