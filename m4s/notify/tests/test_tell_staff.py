"""The one "tell the staff" function: each person once, in their language, per-person dedupe;
the on-duty variant resolves who works now from the roster and falls back to the store's staff."""

import datetime as dt

import pytest
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.core.tests.factories import make_staff
from m4s.notify import services
from m4s.notify.models import Message
from m4s.staff.choices import Role
from m4s.staff.models import Shift


def _compose():
    return text(gettext_noop("New car binding")), text(
        gettext_noop("%(name)s bound %(plate)s."), name="Li", plate="A1"
    )


@pytest.mark.django_db
def test_tell_staff_writes_one_message_per_person_in_their_language_once(world):
    world.advisor_a.language = "en"
    world.advisor_a.save(update_fields=["language"])
    world.admin_a.language = "zh-hans"
    world.admin_a.save(update_fields=["language"])
    people = [world.advisor_a, world.admin_a, world.advisor_a]
    for _ in range(2):  # a retried operation does not double-notify
        services.tell_staff(
            people, "binding", _compose, group_id=world.group_a.pk, link="/x/", dedupe="b:1"
        )
    rows = {m.staff_id: m for m in Message.objects.all()}
    assert set(rows) == {world.advisor_a.pk, world.admin_a.pk}
    assert Message.objects.count() == 2
    assert rows[world.advisor_a.pk].dedupe_key == f"b:1:{world.advisor_a.pk}"
    assert rows[world.advisor_a.pk].subject == "New car binding"
    assert rows[world.admin_a.pk].subject != "New car binding"  # rendered in Chinese
    assert rows[world.admin_a.pk].texts["subject"] == {"t": "New car binding"}  # source kept
    assert all(m.dealer_group_id == world.group_a.pk and m.link == "/x/" for m in rows.values())


@pytest.mark.django_db
def test_tell_on_duty_prefers_the_roster_then_falls_back_to_the_store(world):
    manager = make_staff("mgr-a", Role.STORE_MANAGER, world.group_a, [world.store_a])
    roles = (Role.SERVICE_ADVISOR, Role.STORE_MANAGER)
    # nobody rostered: the store's staff of those roles (not the technician, not group B)
    services.tell_on_duty(world.store_a, roles, "alarm", _compose, dedupe="a:1")
    assert set(Message.objects.values_list("staff_id", flat=True)) == {
        world.advisor_a.pk,
        manager.pk,
    }
    # the manager is on shift now: only they are told
    now = timezone.now().astimezone(world.store_a.tz)
    Shift.objects.create(
        dealer_group=world.group_a,
        staff=manager,
        store=world.store_a,
        date=now.date(),
        starts_at=dt.time(0, 0),
        ends_at=dt.time.max,
    )
    services.tell_on_duty(world.store_a, roles, "alarm", _compose, dedupe="a:2")
    assert list(
        Message.objects.filter(dedupe_key__startswith="a:2:").values_list("staff_id", flat=True)
    ) == [manager.pk]
    assert services.tell_on_duty(None, roles, "alarm", _compose, dedupe="a:3") == []
