"""The insight area's jobs (thin: call a service; each safe to run twice)."""

from django_tasks import task


@task()
def nightly_facts_task() -> None:
    """Yesterday's per-store facts, every customer's features and RFM (re-running replaces)."""
    from . import facts

    facts.nightly()


@task()
def churn_monthly_task() -> None:
    """Retrain each group's churn model on its own history, then score every active customer."""
    from . import churn

    churn.retrain_all()


@task()
def monthly_reports_task() -> None:
    """On the 1st: last month's service report per store, sent to its managers (once)."""
    from . import reports

    reports.send_due()


@task()
def finish_campaigns_task() -> None:
    """Campaigns whose 90-day result window has passed are finished (their result is final)."""
    from . import campaigns

    campaigns.finish_due()
