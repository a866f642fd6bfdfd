"""Level → module rights: each level may publish in its own modules only; a local organisation
cannot publish in a dealer module nor to another city's owners."""

import pytest

from m4s.content import rights, services
from m4s.content.choices import DEFAULT_RIGHTS, Level, Module, TargetKind
from m4s.content.models import ContentTarget, ModuleRight
from m4s.core.errors import DomainError

from .conftest import texts

pytestmark = pytest.mark.django_db


def test_default_split_is_seeded_as_data():
    for level, modules in DEFAULT_RIGHTS.items():
        assert set(ModuleRight.objects.filter(level=level).values_list("module", flat=True)) == set(
            modules
        )
    assert ModuleRight.objects.count() == 16


def test_publisher_of_each_role(pub):
    assert rights.publisher_for(pub.hq).level == Level.HEADQUARTERS
    assert rights.publisher_for(pub.editor_bj).level == Level.LOCAL_ORG
    assert rights.publisher_for(pub.editor_bj).city == "Beijing"
    assert rights.publisher_for(pub.admin_a).level == Level.DEALER
    assert rights.publisher_for(pub.admin_a).store_ids is None
    assert rights.publisher_for(pub.manager_a).store_ids == {pub.store_a.pk}
    assert rights.publisher_for(pub.advisor_a) is None
    assert rights.publisher_for(pub.tech_a) is None


@pytest.mark.parametrize(
    ("who", "allowed", "refused"),
    [
        ("hq", Module.KNOWLEDGE, Module.CITY_FOOD),
        ("hq", Module.MAGAZINES, Module.NEW_CARS),
        ("editor_bj", Module.CITY_FOOD, Module.NEW_CARS),
        ("editor_bj", Module.VIOLATION_AREAS, Module.KNOWLEDGE),
        ("admin_a", Module.NEW_CARS, Module.CITY_FOOD),
        ("admin_a", Module.INSURANCE, Module.GUIDE),
        ("manager_a", Module.SERVICE_NEWS, Module.NIGHTLIFE),
    ],
)
def test_each_level_publishes_in_its_modules_only(pub, who, allowed, refused):
    actor = getattr(pub, who)
    item = services.create_item(actor, module=allowed, translations=texts())
    assert item.module == allowed
    with pytest.raises(DomainError) as exc:
        services.create_item(actor, module=refused, translations=texts())
    assert exc.value.code == "module_not_allowed"
    with pytest.raises(DomainError):
        services.update_item(actor, item, module=refused)


def test_rights_are_data(pub):
    ModuleRight.objects.create(level=Level.LOCAL_ORG, module=Module.INSURANCE)
    assert rights.can_publish(pub.editor_bj, Level.LOCAL_ORG, Module.INSURANCE)
    ModuleRight.objects.filter(level=Level.DEALER, module=Module.NEW_CARS).delete()
    assert not rights.can_publish(pub.admin_a, Level.DEALER, Module.NEW_CARS)


def test_staff_without_publishing_rights_are_refused(pub):
    for actor in (pub.advisor_a, pub.tech_a):
        with pytest.raises(DomainError):
            services.create_item(actor, module=Module.NEW_CARS, translations=texts())


def test_local_org_cannot_target_another_city(pub):
    item = services.create_item(pub.editor_bj, module=Module.CITY_FOOD, translations=texts())
    # its city is always a target
    assert list(item.targets.values_list("kind", "value")) == [(TargetKind.CITY, "Beijing")]
    with pytest.raises(DomainError) as exc:
        services.set_targets(pub.editor_bj, item, {TargetKind.CITY: ["Shanghai"]})
    assert exc.value.code == "target_outside_city"
    with pytest.raises(DomainError):
        services.create_item(
            pub.editor_bj,
            module=Module.CITY_FOOD,
            translations=texts(),
            targets={TargetKind.CITY: ["Beijing", "Shanghai"]},
        )
    # another organisation's groups and stores are out of reach too
    with pytest.raises(DomainError):
        services.set_targets(pub.editor_bj, item, {TargetKind.GROUP: [str(pub.group_b.pk)]})
    with pytest.raises(DomainError):
        services.set_targets(pub.editor_bj, item, {TargetKind.STORE: [str(pub.store_b.pk)]})
    services.set_targets(pub.editor_bj, item, {TargetKind.GROUP: [str(pub.group_a.pk)]})
    assert ContentTarget.objects.filter(item=item, kind=TargetKind.CITY, value="Beijing").exists()


def test_dealer_targets_only_its_own_customers(pub):
    item = services.create_item(pub.admin_a, module=Module.NEW_CARS, translations=texts())
    assert (TargetKind.GROUP, str(pub.group_a.pk)) in item.targets.values_list("kind", "value")
    with pytest.raises(DomainError):
        services.set_targets(pub.admin_a, item, {TargetKind.GROUP: [str(pub.group_b.pk)]})
    with pytest.raises(DomainError):
        services.set_targets(pub.admin_a, item, {TargetKind.STORE: [str(pub.store_b.pk)]})
    services.set_targets(
        pub.admin_a,
        item,
        {TargetKind.BRAND: [" BYD "], TargetKind.TIER: ["Gold"], TargetKind.CITY: ["Beijing"]},
        bound_car=True,
    )
    item.refresh_from_db()
    assert item.has_brand_targets and item.has_tier_targets and item.has_group_targets
    assert not item.has_model_targets
    assert item.target_bound_car is True
    values = set(item.targets.values_list("kind", "value"))
    assert (TargetKind.BRAND, "byd") in values and (TargetKind.TIER, "gold") in values


def test_store_manager_publishes_for_their_store(pub):
    item = services.create_item(pub.manager_a, module=Module.SERVICE_NEWS, translations=texts())
    assert item.store_id == pub.store_a.pk
    assert (TargetKind.STORE, str(pub.store_a.pk)) in item.targets.values_list("kind", "value")
    # the store manager cannot approve (no APPROVE_CONTENT); the group admin can
    services.submit(pub.manager_a, item)
    with pytest.raises(DomainError):
        services.approve(pub.manager_a, item)
    services.approve(pub.admin_a, item)


def test_approvers_per_level(pub):
    local = services.create_item(pub.editor_bj, module=Module.NIGHTLIFE, translations=texts())
    hq = services.create_item(pub.hq, module=Module.GUIDE, translations=texts())
    services.submit(pub.editor_bj, local)
    services.submit(pub.hq, hq)
    # another city's editor and a dealer admin do not even find the local item
    for outsider in (pub.editor_sh, pub.admin_a):
        with pytest.raises(DomainError) as exc:
            services.approve(outsider, local)
        assert exc.value.status == 404
    assert services.approve(pub.editor_bj, local).status == "published"
    with pytest.raises(DomainError):
        services.approve(pub.admin_a, hq)
    assert services.approve(pub.hq, hq).status == "published"


def test_an_empty_rights_table_gets_the_papers_split_back(db):
    from m4s.content import rights
    from m4s.content.choices import DEFAULT_RIGHTS, Level
    from m4s.content.models import ModuleRight

    ModuleRight.objects.all().delete()  # e.g. a test database flushed after its migrations
    assert rights.allowed_modules(Level.LOCAL_ORG) == sorted(DEFAULT_RIGHTS[Level.LOCAL_ORG])
    assert ModuleRight.objects.count() == sum(len(m) for m in DEFAULT_RIGHTS.values())
