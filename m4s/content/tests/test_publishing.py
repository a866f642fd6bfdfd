"""The publishing workflow (draft → review → published → expired, rejection with a reason),
schedule (publish_at in the future, expiry by the periodic task) and the version history."""

import datetime as dt

import pytest
from django.test import TestCase
from django.utils import timezone

from m4s.content import services, tasks
from m4s.content.choices import Module, Status, TargetKind
from m4s.content.models import ContentItem
from m4s.core.errors import DomainError
from m4s.schedule import PERIODIC_JOBS

from .conftest import texts

pytestmark = pytest.mark.django_db


def _published(actor, approver=None, **fields):
    item = services.create_item(actor, module=Module.NEW_CARS, translations=texts(), **fields)
    services.submit(actor, item)
    with TestCase.captureOnCommitCallbacks(execute=True):
        return services.approve(approver or actor, item)


def test_workflow_draft_review_published_expired(pub):
    item = services.create_item(pub.admin_a, module=Module.NEW_CARS, translations=texts())
    assert item.status == Status.DRAFT
    with pytest.raises(DomainError):
        services.approve(pub.admin_a, item)  # not in review yet
    services.submit(pub.admin_a, item)
    item.refresh_from_db()
    assert item.status == Status.REVIEW
    with pytest.raises(DomainError):
        services.submit(pub.admin_a, item)  # already in review
    services.approve(pub.admin_a, item)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED and item.published_at and item.publish_at
    services.expire(pub.admin_a, item)
    item.refresh_from_db()
    assert item.status == Status.EXPIRED
    with pytest.raises(DomainError):
        services.expire(pub.admin_a, item)


def test_reject_needs_a_reason_and_goes_back_to_the_editor(pub):
    item = services.create_item(pub.manager_a, module=Module.SERVICE_NEWS, translations=texts())
    services.submit(pub.manager_a, item)
    with pytest.raises(DomainError) as exc:
        services.reject(pub.admin_a, item, "  ")
    assert exc.value.code == "reason_required"
    with pytest.raises(DomainError):
        services.reject(pub.manager_a, item, "no")  # not an approver
    services.reject(pub.admin_a, item, "Prices are wrong")
    item.refresh_from_db()
    assert item.status == Status.REJECTED and item.reject_reason == "Prices are wrong"
    services.update_item(pub.manager_a, item, translations=texts(title="Fixed"))
    services.submit(pub.manager_a, item)
    item.refresh_from_db()
    assert item.status == Status.REVIEW and item.reject_reason == ""


def test_editing_a_published_item_takes_it_back_to_draft(pub):
    item = _published(pub.admin_a)
    services.update_item(pub.admin_a, item, pinned=True)
    item.refresh_from_db()
    assert item.status == Status.DRAFT and item.pinned


def test_scheduled_publication_waits_for_its_time(pub):
    later = timezone.now() + dt.timedelta(days=2)
    item = _published(pub.admin_a, publish_at=later)
    item.refresh_from_db()
    assert item.status == Status.PUBLISHED
    assert item.publish_at == later and item.published_at == later


def test_schedule_is_validated(pub):
    now = timezone.now()
    with pytest.raises(DomainError) as exc:
        services.create_item(
            pub.admin_a,
            module=Module.NEW_CARS,
            translations=texts(),
            publish_at=now + dt.timedelta(days=2),
            expire_at=now + dt.timedelta(days=1),
        )
    assert exc.value.code == "invalid_schedule"
    item = services.create_item(
        pub.admin_a,
        module=Module.NEW_CARS,
        translations=texts(),
        expire_at=now - dt.timedelta(minutes=1),
    )
    with pytest.raises(DomainError):
        services.submit(pub.admin_a, item)


def test_expiry_task_flips_items_past_their_expiry(pub):
    soon = timezone.now() + dt.timedelta(hours=1)
    item = _published(pub.admin_a, expire_at=soon)
    other = _published(pub.admin_b)
    assert services.expire_due(soon - dt.timedelta(minutes=1)) == 0
    assert services.expire_due(soon + dt.timedelta(minutes=1)) == 1
    assert services.expire_due(soon + dt.timedelta(minutes=2)) == 0  # safe to run twice
    item.refresh_from_db()
    other.refresh_from_db()
    assert item.status == Status.EXPIRED and other.status == Status.PUBLISHED
    assert PERIODIC_JOBS["content.expire_due"][1] == "m4s.content.tasks.expire_due_task"
    tasks.expire_due_task.enqueue()


def test_every_save_is_a_version_and_an_old_one_can_be_restored(pub):
    item = services.create_item(
        pub.admin_a,
        module=Module.NEW_CARS,
        translations=texts(title="First"),
        tags=["suv"],
        targets={TargetKind.BRAND: ["BYD"]},
    )
    services.update_item(pub.admin_a, item, translations=texts(title="Second"), tags=["ev"])
    services.set_targets(pub.admin_a, item, {TargetKind.MODEL: ["Han"]})
    assert list(item.versions.values_list("number", flat=True)) == [3, 2, 1]
    first = item.versions.get(number=1).snapshot
    assert first["translations"]["en"]["title"] == "First" and first["tags"] == ["suv"]
    _published_item = ContentItem.objects.get(pk=item.pk)
    services.submit(pub.admin_a, _published_item)
    services.approve(pub.admin_a, _published_item)
    restored = services.restore_version(pub.admin_a, _published_item, 1)
    restored.refresh_from_db()
    assert restored.status == Status.DRAFT  # restored text needs approval again
    assert restored.version == 4
    assert restored.translations.get(language="en").title == "First"
    assert restored.tags == ["suv"]
    assert set(restored.targets.values_list("kind", "value")) == {
        (TargetKind.BRAND, "byd"),
        (TargetKind.GROUP, str(pub.group_a.pk)),
    }
    assert restored.has_brand_targets and not restored.has_model_targets
    with pytest.raises(DomainError) as exc:
        services.restore_version(pub.admin_a, restored, 99)
    assert exc.value.status == 404


def test_other_groups_items_are_not_found(pub):
    item = services.create_item(pub.admin_a, module=Module.NEW_CARS, translations=texts())
    for call in (
        lambda: services.update_item(pub.admin_b, item, pinned=True),
        lambda: services.submit(pub.admin_b, item),
        lambda: services.set_targets(pub.admin_b, item, {}),
        lambda: services.restore_version(pub.admin_b, item, 1),
        lambda: services.expire(pub.admin_b, item),
        lambda: services.update_item(pub.editor_bj, item, pinned=True),
    ):
        with pytest.raises(DomainError) as exc:
            call()
        assert exc.value.status == 404


def test_bad_input_changes_nothing(pub):
    for bad in (
        {"translations": {"xx": {"title": "T"}}},
        {"translations": {"en": {"title": ""}, "ko": {"summary": "no title"}}},
        {"translations": {"en": {"title": "x" * 201}}},
        {"translations": texts(), "action_kind": "link", "action_target": "javascript:alert(1)"},
        {"translations": texts(), "action_kind": "event", "action_target": "abc"},
        {"translations": texts(), "tags": ["x" * 31]},
        {"translations": texts(), "places": [{"name": "A", "lat": 200}]},
        {"translations": texts(), "targets": {"planet": ["Mars"]}},
        {"translations": texts(), "targets": {"store": ["abc"]}},
        {"translations": texts(), "store_id": 999999},
    ):
        with pytest.raises(DomainError):
            services.create_item(pub.admin_a, module=Module.NEW_CARS, **bad)
    assert not ContentItem.objects.exists()


def test_violation_areas_keep_their_places(pub):
    item = services.create_item(
        pub.editor_bj,
        module=Module.VIOLATION_AREAS,
        translations=texts(),
        places=[{"name": "East 3rd Ring", "address": "Chaoyang", "lat": "39.9", "lon": 116.46}],
    )
    assert item.places == [
        {"name": "East 3rd Ring", "address": "Chaoyang", "lat": 39.9, "lon": 116.46}
    ]


def test_headquarters_keeps_the_catalogues(pub):
    category = services.create_category(pub.hq, name="Tyres", name_i18n={"zh-hans": "轮胎"})
    issue = services.create_issue(pub.hq, title="Spring", number=1)
    assert category.name_i18n == {"zh-hans": "轮胎"} and issue.number == 1
    for actor in (pub.admin_a, pub.editor_bj):
        with pytest.raises(DomainError):
            services.create_category(actor, name="X")
        with pytest.raises(DomainError):
            services.create_issue(actor, title="X", number=2)
    with pytest.raises(DomainError):
        services.create_issue(pub.hq, title="X", number=0)


def test_owners_see_an_item_only_inside_its_schedule(pub):
    from m4s.content import selectors

    now = timezone.now()
    start, end = now + dt.timedelta(days=1), now + dt.timedelta(days=3)
    item = services.create_item(
        pub.hq, module=Module.KNOWLEDGE, translations=texts(), publish_at=start, expire_at=end
    )
    services.submit(pub.hq, item)
    services.approve(pub.hq, item)

    def visible(at):
        return selectors.visible_items(pub.owner, now=at).filter(pk=item.pk).exists()

    assert not visible(now)  # scheduled: approved, not yet live
    assert visible(start + dt.timedelta(minutes=1))
    assert not visible(end + dt.timedelta(minutes=1))  # past expiry, even before the task runs
    services.expire_due(end + dt.timedelta(minutes=1))
    assert not visible(start + dt.timedelta(minutes=1))  # expired for good
    draft = services.create_item(pub.hq, module=Module.GUIDE, translations=texts())
    assert not selectors.visible_items(pub.owner).filter(pk=draft.pk).exists()


def test_workflow_steps_of_a_groups_item_are_in_its_audit_log(pub):
    from m4s.core.models import AuditEntry

    item = services.create_item(pub.admin_a, module=Module.NEW_CARS, translations=texts())
    services.submit(pub.admin_a, item)
    services.reject(pub.admin_a, item, "Wrong price")
    services.submit(pub.admin_a, item)
    services.approve(pub.admin_a, item)
    services.expire(pub.admin_a, item)
    steps = list(
        AuditEntry.objects.for_group(pub.group_a)
        .filter(object_type="content.contentitem", object_id=str(item.pk))
        .order_by("id")
        .values_list("changes", flat=True)
    )
    assert [c["status"] for c in steps] == [
        ["draft", "review"],
        ["review", "rejected"],
        ["rejected", "review"],
        ["review", "published"],
        ["published", "expired"],
    ]
    assert steps[1]["reason"] == [None, "Wrong price"]
    assert not AuditEntry.objects.for_group(pub.group_b).exists()
