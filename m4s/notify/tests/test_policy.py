"""The one contact policy (m4s/notify/policy.py): each rule, and that the old paths pass it."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.notify import policy, services
from m4s.notify.choices import Category, Channel, Outcome, Status, Why
from m4s.notify.models import ContactDecision, ContactRules, Message

# 2026-12-07 is a Monday; 02:00 UTC is 10:00 in Shanghai
DAY = dt.datetime(2026, 12, 7, 2, 0, tzinfo=dt.UTC)


def _compose():
    return text(gettext_noop("Welcome")), text(
        gettext_noop("Book in one tap, at a time that suits you.")
    )


def _contact(owner, category=Category.CARE, reason="care:maintenance:1", cycle="2026-12", **kw):
    kw.setdefault("at", DAY)
    return policy.contact(
        owner=owner,
        category=category,
        kind=kw.pop("kind", f"{category}.test"),
        compose=_compose,
        reason=reason,
        cycle=cycle,
        group=kw.pop("group", None),
        **kw,
    )


@pytest.fixture(autouse=True)
def _deliver_at_once(monkeypatch):
    """Deliveries run when the outbox row is written (the test's transaction never commits)."""
    monkeypatch.setattr("m4s.notify.outbox.transaction.on_commit", lambda f, *a, **k: f())


@pytest.fixture
def owner(world):
    o = world.owner
    o.home_store = world.store_a
    o.save()
    return o


@pytest.mark.django_db
def test_care_message_goes_to_the_inbox_and_the_first_reachable_channel(owner, world, sms_outbox):
    decisions = _contact(owner, group=world.group_a)
    assert [(d.channel, d.outcome, d.why) for d in decisions] == [
        (Channel.INAPP, Outcome.SENT, Why.OK),
        (Channel.SMS, Outcome.SENT, Why.OK),
    ]
    assert all(d.message_id for d in decisions)
    assert {m.channel for m in Message.objects.filter(owner=owner)} == {"inapp", "sms"}
    assert sms_outbox and sms_outbox[0]["to"] == owner.phone
    assert Message.objects.get(channel="inapp").category == Category.CARE


@pytest.mark.django_db
def test_marketing_needs_the_owners_marketing_consent(owner, world, sms_outbox):
    assert not owner.marketing_consent
    decisions = _contact(owner, Category.MARKETING, reason="greeting:spring", group=world.group_a)
    assert [(d.outcome, d.why) for d in decisions] == [(Outcome.DROPPED, Why.NO_MARKETING_CONSENT)]
    assert not Message.objects.exists() and not sms_outbox
    # the same refusal again (a scan rerun) is not written twice
    _contact(owner, Category.MARKETING, reason="greeting:spring", group=world.group_a)
    assert ContactDecision.objects.count() == 1
    owner.marketing_consent = True
    owner.save()
    decisions = _contact(owner, Category.MARKETING, reason="greeting:spring", group=world.group_a)
    assert {d.outcome for d in decisions} == {Outcome.SENT}
    # a marketing message sent straight to the outbox passes the policy too
    owner.marketing_consent = False
    owner.save()
    assert (
        services.send_message(channel=Channel.INAPP, owner=owner, kind="marketing.offer", body="x")
        is None
    )
    assert ContactDecision.objects.filter(kind="marketing.offer", why=Why.NO_MARKETING_CONSENT)


@pytest.mark.django_db
def test_reminders_built_on_vehicle_data_need_the_telematics_consent(owner, world):
    owner.telematics_consent = False
    owner.save()
    [d] = _contact(owner, requires_telematics=True, group=world.group_a)
    assert (d.outcome, d.why) == (Outcome.DROPPED, Why.NO_TELEMATICS_CONSENT)
    owner.telematics_consent = True
    owner.save()
    assert {d.outcome for d in _contact(owner, requires_telematics=True)} == {Outcome.SENT}


@pytest.mark.django_db
def test_quiet_hours_across_midnight_in_the_owners_time_zone_hold_until_they_end(owner, world):
    owner.quiet_hours_start, owner.quiet_hours_end = dt.time(22, 0), dt.time(7, 0)
    owner.time_zone = "Asia/Seoul"  # the store is in Shanghai, the owner in Seoul (+1 h)
    owner.save()
    day = (dt.datetime.now(dt.UTC) + dt.timedelta(days=2)).date()  # a day still to come

    def utc(hour: int, minute: int) -> dt.datetime:
        return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=dt.UTC)

    # 14:30 UTC = 22:30 Shanghai (quiet there too) = 23:30 Seoul
    late = utc(14, 30)
    decisions = _contact(owner, at=late, group=world.group_a)
    by = {d.channel: d for d in decisions}
    # the inbox is silent: delivered now; the SMS waits for 07:00 Seoul = 22:00 UTC
    assert by["inapp"].outcome == Outcome.SENT
    assert by["sms"].outcome == Outcome.HELD and by["sms"].why == Why.QUIET_HOURS
    assert by["sms"].until == utc(22, 0)
    held = by["sms"].message
    assert held.status == Status.PENDING and held.next_attempt_at == by["sms"].until
    # 21:30 UTC is 06:30 in Seoul (still quiet), 22:30 UTC is 07:30 (not)
    assert policy.quiet_hours_end(owner, utc(21, 30))
    assert policy.quiet_hours_end(owner, utc(22, 30)) is None
    # in the owner's zone, not the store's: 13:30 UTC is 21:30 Shanghai, 22:30 Seoul
    assert policy.quiet_hours_end(owner, utc(13, 30))
    owner.time_zone = ""
    assert policy.quiet_hours_end(owner, utc(13, 30)) is None


@pytest.mark.django_db
def test_held_message_is_delivered_by_the_sweep_when_quiet_hours_end(owner, world, sms_outbox):
    from unittest import mock

    owner.quiet_hours_start, owner.quiet_hours_end = dt.time(22, 0), dt.time(7, 0)
    owner.save()
    late = dt.datetime(2026, 12, 7, 15, 0, tzinfo=dt.UTC)  # 23:00 Shanghai
    with mock.patch("django.utils.timezone.now", return_value=late):
        decisions = _contact(owner, at=late)
        assert services.sweep_outbox() == 0
    assert not sms_outbox  # never sent during quiet hours, never dropped
    sms = next(d for d in decisions if d.channel == "sms")
    with mock.patch("django.utils.timezone.now", return_value=sms.until + dt.timedelta(minutes=1)):
        assert services.sweep_outbox() == 1
    assert len(sms_outbox) == 1
    assert Message.objects.get(pk=sms.message_id).status == Status.SENT


@pytest.mark.django_db
def test_transactional_messages_are_never_held_or_capped(owner, world, sms_outbox):
    owner.quiet_hours_start, owner.quiet_hours_end = dt.time(0, 0), dt.time(23, 59)
    owner.save()
    for i in range(5):
        msg = services.send_message(
            channel=Channel.SMS, owner=owner, kind="otp", body=f"code {i}", dedupe_key=f"otp:{i}"
        )
        assert msg is not None
        msg.refresh_from_db()
        assert msg.status == Status.SENT
    assert len(sms_outbox) == 5
    assert policy.category_for("otp") == Category.TRANSACTIONAL
    assert policy.category_for("car.theft") == Category.TRANSACTIONAL
    assert policy.category_for("care.insurance") == Category.CARE
    assert policy.category_for("something.new") == Category.SERVICE


@pytest.mark.django_db
def test_frequency_cap_per_owner_and_group(owner, world):
    for i in range(2):
        assert _contact(owner, reason=f"care:x:{i}", group=world.group_a)[0].outcome == "sent"
    [d] = _contact(owner, reason="care:x:2", group=world.group_a)
    assert (d.outcome, d.why) == (Outcome.DROPPED, Why.CAPPED)
    # marketing counts together with care
    owner.marketing_consent = True
    owner.save()
    [d] = _contact(owner, Category.MARKETING, reason="m:1", group=world.group_a)
    assert d.why == Why.CAPPED
    # service messages are not capped
    assert _contact(owner, Category.SERVICE, reason="s:1", group=world.group_a)[0].outcome == "sent"
    # a week later there is room again
    later = DAY + dt.timedelta(days=7, minutes=1)
    assert _contact(owner, reason="care:x:3", group=world.group_a, at=later)[0].outcome == "sent"
    # the group's own rule
    ContactRules.objects.create(dealer_group=world.group_a, cap_count=5, cap_days=7)
    assert _contact(owner, reason="care:x:4", group=world.group_a)[0].outcome == "sent"


@pytest.mark.django_db
def test_dedupe_per_owner_reason_and_cycle(owner, world, sms_outbox):
    first = _contact(owner, reason="care:maintenance:9", cycle="2026-12-20")
    again = _contact(owner, reason="care:maintenance:9", cycle="2026-12-20")
    assert sorted(d.pk for d in again) == sorted(d.pk for d in first)
    assert Message.objects.count() == 2 and len(sms_outbox) == 1
    # the next cycle is a new message
    nxt = _contact(owner, reason="care:maintenance:9", cycle="2027-06-20", at=DAY)
    assert {d.outcome for d in nxt} == {"sent"} and Message.objects.count() == 4


@pytest.mark.django_db
def test_unsubscribe_link_switches_a_category_off_without_signing_in(owner, world, client):
    url = policy.unsubscribe_url(owner, Category.CARE, world.group_a)
    page = client.get(url)
    assert page.status_code == 200 and b"unsubscribe-confirm" in page.content
    owner.refresh_from_db()
    assert policy.category_enabled(owner, "care")  # looking is not unsubscribing
    done = client.post(url)
    assert done.status_code == 200 and b"unsubscribed" in done.content
    owner.refresh_from_db()
    assert not policy.category_enabled(owner, "care")
    [d] = _contact(owner)
    assert (d.outcome, d.why) == (Outcome.DROPPED, Why.UNSUBSCRIBED)
    from m4s.notify.models import Unsubscribe

    assert Unsubscribe.objects.get().dealer_group == world.group_a


@pytest.mark.django_db
def test_forged_unsubscribe_link_is_refused_and_changes_nothing(owner, world, client):
    good = policy.unsubscribe_url(owner, Category.MARKETING)
    token = good.rstrip("/").rsplit("/", 1)[1]
    forged = good.replace(token, token[:-3] + ("aaa" if not token.endswith("aaa") else "bbb"))
    # another owner's id with this owner's signature
    other = policy.unsubscribe_url(world.owner_b, Category.MARKETING)
    spliced = other.rstrip("/").rsplit("/", 1)[1].split(":")[0] + ":" + token.split(":", 1)[1]
    for url in (
        forged,
        f"/app/notifications/unsubscribe/{spliced}/",
        "/app/notifications/unsubscribe/x/",
    ):
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
    # transactional messages cannot be unsubscribed: no such link exists
    from django.core import signing

    t = signing.dumps({"o": owner.pk, "c": "transactional"}, salt=policy.UNSUBSCRIBE_SALT)
    assert client.post(f"/app/notifications/unsubscribe/{t}/").status_code == 404
    owner.refresh_from_db()
    assert owner.notification_prefs == {}
    world.owner_b.refresh_from_db()
    assert world.owner_b.notification_prefs == {}


@pytest.mark.django_db
def test_old_paths_pass_the_policy(cars, world, sms_outbox):
    """tell_customer (service, complaints, telematics) and send_message record decisions."""
    customer = cars.known  # imported, never signed in: SMS to the customer's phone
    services.tell_customer(customer, "service.ready", _compose, dedupe="ro:1:ready")
    d = ContactDecision.objects.get()
    assert (d.channel, d.outcome, d.customer_id) == ("sms", "sent", customer.pk)
    assert sms_outbox[0]["to"] == customer.phone
    # marketing to a customer without consent: dropped
    services.tell_customer(customer, "marketing.offer", _compose, dedupe="offer:1")
    assert ContactDecision.objects.filter(why=Why.NO_MARKETING_CONSENT, customer_id=customer.pk)
    assert len(sms_outbox) == 1


def _owners(n, world, start=0):
    from m4s.owners.models import Owner

    return [
        Owner.objects.create(phone=f"+8613755{i:06d}", home_store=world.store_a, language="en")
        for i in range(start, start + n)
    ]


def _requests(owners, world, category=Category.CARE, prefix="care:batch"):
    return [
        dict(
            owner=o,
            category=category,
            kind="care.batch",
            compose=_compose,
            reason=f"{prefix}:{o.pk}",
            cycle="2027",
            group=world.group_a,
        )
        for o in owners
    ]


@pytest.mark.django_db
def test_contact_many_applies_every_rule_like_contact(world, sms_outbox):
    # a day still to come (10:00 in Shanghai tomorrow): b's held SMS must still be waiting when
    # the deliveries run after commit, whenever the suite runs
    day = (timezone.now().astimezone(dt.UTC) + dt.timedelta(days=1)).replace(
        hour=2, minute=0, second=0, microsecond=0
    )
    owners = _owners(5, world)
    a, b, c, d, e = owners
    b.quiet_hours_start, b.quiet_hours_end = dt.time(0, 0), dt.time(23, 59)
    b.save()
    # c has used its cap this week already
    for i in range(2):
        _contact(c, reason=f"care:earlier:{i}", group=world.group_a, at=day)
    # d unsubscribed from care
    d.notification_prefs = {"care": {"enabled": False}}
    d.save()
    requests = _requests(owners, world)
    requests.append(dict(requests[0]))  # the same reminder twice in one batch
    requests.append(
        dict(
            owner=e,
            category=Category.MARKETING,
            kind="greeting.birthday",
            compose=_compose,
            reason="greeting:e",
            group=world.group_a,
        )
    )
    results = policy.contact_many(requests, at=day)
    outcome = [[(r.channel, r.outcome, r.why) for r in rows] for rows in results]
    assert outcome[0] == [("inapp", "sent", "ok"), ("sms", "sent", "ok")]
    assert outcome[1] == [("inapp", "sent", "ok"), ("sms", "held", "quiet_hours")]
    assert outcome[2] == [("", "dropped", "capped")]
    assert outcome[3] == [("", "dropped", "unsubscribed")]
    assert outcome[4] == [("inapp", "sent", "ok"), ("sms", "sent", "ok")]
    assert [r.pk for r in results[5]] == [r.pk for r in results[0]]  # the duplicate
    assert outcome[6] == [("", "dropped", "no_marketing_consent")]
    assert all(r.pk for rows in results for r in rows)
    assert Message.objects.filter(kind="care.batch").count() == 6
    # sent now: a, e by SMS; b's SMS waits for its quiet hours
    assert {s["to"] for s in sms_outbox} >= {a.phone, e.phone} and b.phone not in {
        s["to"] for s in sms_outbox
    }
    # run again (a scan rerun): nothing new
    before = (Message.objects.count(), ContactDecision.objects.count())
    again = policy.contact_many(_requests(owners, world), at=day)
    assert (Message.objects.count(), ContactDecision.objects.count()) == before
    assert [sorted(r.pk for r in rows) for rows in again] == [
        sorted(r.pk for r in rows) for rows in results[:5]
    ]


@pytest.mark.django_db
def test_contact_many_reads_and_writes_a_batch_in_a_fixed_number_of_queries(world, monkeypatch):
    """10 statements for 5 owners, hardly more for 40 (SQLite splits a long INSERT into a few);
    deliveries, after commit, are not counted."""
    monkeypatch.setattr("m4s.notify.outbox.transaction.on_commit", lambda f, *a, **k: None)
    small, large = _owners(5, world), _owners(40, world, start=100)
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        policy.contact_many(_requests(small, world), at=DAY)
    with CaptureQueriesContext(connection) as many:
        policy.contact_many(_requests(large, world), at=DAY)
    assert len(few.captured_queries) <= 10 and len(many.captured_queries) <= 14
    assert ContactDecision.objects.filter(outcome="sent").count() == 2 * 45


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("category", [Category.CARE, Category.SERVICE])
def test_parallel_workers_contact_an_owner_once(world, settings, category):
    """Four workers hand the same reminder (care: capped, owner locked) or service message (no
    lock: the unique constraint decides) to the policy at once: one delivery, one set of rows."""
    import threading

    from django.db import connection, transaction

    if connection.vendor == "sqlite":
        pytest.skip("SQLite serialises writers; the race is meaningful on PostgreSQL")
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "notify"]}
    }
    owner = world.owner
    barrier, results, errors = threading.Barrier(4), [], []

    def worker():
        barrier.wait()
        try:
            with transaction.atomic():
                rows = _contact(owner, category, reason="care:race:1", group=world.group_a)
                results.append(sorted(r.pk for r in rows))
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({tuple(r) for r in results}) == 1  # every worker got the same decisions
    assert ContactDecision.objects.filter(reason="care:race:1").count() == len(results[0])
    assert Message.objects.filter(owner=owner).count() == len(results[0])


@pytest.mark.django_db
def test_a_batch_is_handed_off_in_a_few_delivery_tasks_and_each_message_sent_once(
    world, sms_outbox, monkeypatch
):
    """contact_many queues one delivery task per DELIVERY_BATCH messages due at the same moment
    (not one per message); running those tasks again sends nothing twice."""
    from m4s.notify import outbox

    monkeypatch.setattr(outbox, "DELIVERY_BATCH", 4)
    queued: list[list[int]] = []
    monkeypatch.setattr(outbox, "enqueue_deliveries", lambda ids, run_after: queued.append(ids))
    owners = _owners(5, world, start=300)
    policy.contact_many(_requests(owners, world), at=DAY)
    written = list(Message.objects.filter(kind="care.batch").values_list("pk", flat=True))
    assert len(written) == 10  # in-app and SMS for each of 5 owners
    assert [len(ids) for ids in queued] == [4, 4, 2]
    assert sorted(i for ids in queued for i in ids) == sorted(written)
    for ids in queued:
        services.deliver_messages(ids)
    first = len(sms_outbox)
    assert first == 5 and {s["to"] for s in sms_outbox} == {o.phone for o in owners}
    for ids in queued:  # a retried or duplicated task
        assert services.deliver_messages(ids) == {"skipped": len(ids)}
    assert len(sms_outbox) == first
    assert set(Message.objects.filter(pk__in=written).values_list("status", flat=True)) == {
        Status.SENT
    }
