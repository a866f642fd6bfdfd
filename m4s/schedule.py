"""Every periodic job of M4S, declared in one place. `m4s worker` runs them when due.

A job is a django_tasks task (dotted path) and an interval. Later areas add their jobs here.
"""

from datetime import timedelta

PERIODIC_JOBS: dict[str, tuple[timedelta, str]] = {
    "notify.sweep_outbox": (timedelta(minutes=1), "m4s.notify.tasks.sweep_outbox_task"),
    # the console's live channel keeps a day of events for pages that reconnect
    "notify.live_prune": (timedelta(hours=1), "m4s.notify.tasks.prune_live_events_task"),
    "core.sweep_hooks": (timedelta(minutes=1), "m4s.core.tasks.sweep_hooks_task"),
    "identity.purge_expired_otps": (
        timedelta(hours=1),
        "m4s.identity.tasks.purge_expired_otps_task",
    ),
    "service.appointment_reminders": (
        timedelta(minutes=15),
        "m4s.service.tasks.send_appointment_reminders_task",
    ),
    "service.no_shows": (timedelta(minutes=30), "m4s.service.tasks.mark_no_shows_task"),
    "service.surveys": (timedelta(minutes=15), "m4s.service.tasks.open_due_surveys_task"),
    "loyalty.expire_and_warn": (timedelta(hours=1), "m4s.loyalty.tasks.expire_and_warn_task"),
    "loyalty.review_tiers": (timedelta(hours=24), "m4s.loyalty.tasks.review_tiers_task"),
    # the earn's batched follow-up ("+N points" message, tier, missions): enqueued after each
    # earn; this sweep catches up when an enqueue was lost (idempotent)
    "loyalty.earn_follow_up": (timedelta(minutes=1), "m4s.loyalty.tasks.follow_up_task"),
    "telematics.forecasts": (timedelta(hours=6), "m4s.telematics.tasks.recompute_forecasts_task"),
    "telematics.purge": (timedelta(hours=24), "m4s.telematics.tasks.purge_telemetry_task"),
    # new telemetry cut into trips with their driving score (incremental, idempotent)
    "driving.cut_trips": (timedelta(minutes=2), "m4s.driving.tasks.cut_trips_task"),
    # owners' data rights: erasures past their cooling-off period; retention per data kind
    "privacy.erasures": (timedelta(hours=1), "m4s.privacy.tasks.erase_due_task"),
    "privacy.retention": (timedelta(hours=24), "m4s.privacy.tasks.enforce_retention_task"),
    "complaints.breach_scan": (
        timedelta(minutes=5),
        "m4s.complaints.tasks.scan_complaints_task",
    ),
    # conversations whose first-response clock ran out are offered one stage on (business time)
    "conversations.offer_overdue": (
        timedelta(minutes=1),
        "m4s.conversations.tasks.offer_overdue_task",
    ),
    # every reminder kind (the mileage chain's maintenance reminders included), set-based, then
    # handed to the contact policy; safe to run twice or on parallel workers
    "care.daily_scan": (timedelta(hours=24), "m4s.care.tasks.daily_scan_task"),
    # content items past their expiry → expired (owners' reads filter by time meanwhile)
    "content.expire_due": (timedelta(minutes=5), "m4s.content.tasks.expire_due_task"),
    # car-pal events: the day-before reminders (one per sign-up), ended events marked done
    "events.reminders": (timedelta(minutes=15), "m4s.events.tasks.event_reminders_task"),
    # insight: yesterday's per-store facts, customers' features and RFM (re-running replaces);
    # each group's churn model retrained when a month old, then every customer scored; on the
    # 1st, last month's service report per store to its managers (each sent once)
    "insights.nightly_facts": (timedelta(hours=24), "m4s.insights.tasks.nightly_facts_task"),
    "insights.churn": (timedelta(hours=24), "m4s.insights.tasks.churn_monthly_task"),
    "insights.monthly_reports": (timedelta(hours=6), "m4s.insights.tasks.monthly_reports_task"),
    "insights.finish_campaigns": (
        timedelta(hours=24),
        "m4s.insights.tasks.finish_campaigns_task",
    ),
}
