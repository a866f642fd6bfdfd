"""Who publishes content as which level, in which modules, to whom, and who approves it.

* A platform admin (MANAGE_PLATFORM) publishes as headquarters and approves headquarters items.
* A local-organisation editor (PUBLISH_LOCAL_CONTENT with a local organisation) publishes as
  that organisation, only to owners of its city (the city is always a target of its items), and
  approves its organisation's items.
* Group staff with PUBLISH_CONTENT publish as their dealer group (staff who do not see every
  store: as one of their stores); APPROVE_CONTENT approves the group's items.

The module split between levels is data (`ModuleRight`). Staff see and change only their own
publisher's items: another group's or organisation's item is "not found"."""

from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from m4s.core.errors import DomainError, NotFound, PermissionDenied
from m4s.core.uploads import requesting_owner, requesting_staff
from m4s.staff.choices import Perm

from .choices import DEFAULT_RIGHTS, Level, Status, TargetKind
from .models import ContentImage, ContentItem, ModuleRight

CONSOLE_PERMS = (
    Perm.PUBLISH_CONTENT,
    Perm.APPROVE_CONTENT,
    Perm.PUBLISH_LOCAL_CONTENT,
    Perm.MANAGE_PLATFORM,
)


@dataclass(frozen=True)
class Publisher:
    """The level and organisation a staff member publishes as."""

    level: str
    headquarters_id: int | None = None
    local_org_id: int | None = None
    city: str = ""
    dealer_group_id: int | None = None
    # None: the whole group; else the only stores this staff member publishes for
    store_ids: frozenset[int] | None = None

    @property
    def store_limited(self) -> bool:
        return self.store_ids is not None


def _perm(actor: Any, perm: str) -> bool:
    return bool(actor is not None and getattr(actor, "is_authenticated", False)) and bool(
        actor.has_perm_m4s(perm)
    )


def uses_content_console(actor: Any) -> bool:
    return publisher_for(actor) is not None


def publisher_for(actor: Any) -> Publisher | None:
    """What `actor` publishes as, or None when they take no part in publishing."""
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        return None
    if _perm(actor, Perm.MANAGE_PLATFORM):
        from m4s.org.models import Headquarters

        hq_id = Headquarters.objects.order_by("id").values_list("id", flat=True).first()
        return Publisher(Level.HEADQUARTERS, headquarters_id=hq_id) if hq_id else None
    if getattr(actor, "local_org_id", None) and _perm(actor, Perm.PUBLISH_LOCAL_CONTENT):
        org = actor.local_org
        return Publisher(Level.LOCAL_ORG, local_org_id=org.pk, city=org.city)
    if getattr(actor, "dealer_group_id", None) and (
        _perm(actor, Perm.PUBLISH_CONTENT) or _perm(actor, Perm.APPROVE_CONTENT)
    ):
        stores: frozenset[int] | None = None
        if not _perm(actor, Perm.VIEW_ALL_STORES):
            stores = frozenset(actor.store_ids())
        return Publisher(Level.DEALER, dealer_group_id=actor.dealer_group_id, store_ids=stores)
    return None


def module_rights():
    """The level → module rights; an empty table (a new database whose data migration rows were
    flushed, or a platform that removed every row) gets the paper's split back, so that no
    level is left with nothing to publish."""
    if not ModuleRight.objects.exists():
        ModuleRight.objects.bulk_create(
            [
                ModuleRight(level=lv, module=m)
                for lv, modules in DEFAULT_RIGHTS.items()
                for m in modules
            ],
            ignore_conflicts=True,
        )
    return ModuleRight.objects.all()


def allowed_modules(level: str) -> list[str]:
    return sorted(module_rights().filter(level=level).values_list("module", flat=True))


def can_publish(actor: Any, level: str, module: str) -> bool:
    """`actor` may write items of `level` in `module` (their own level, and the level's right)."""
    publisher = publisher_for(actor)
    if publisher is None or publisher.level != level:
        return False
    if publisher.level == Level.DEALER and not _perm(actor, Perm.PUBLISH_CONTENT):
        return False
    return module_rights().filter(level=level, module=module).exists()


def require_publish(actor: Any, level: str, module: str) -> None:
    if not can_publish(actor, level, module):
        raise DomainError(
            "module_not_allowed",
            _("Your level may not publish in this module."),
            status=403,
        )


def can_approve(actor: Any, item: ContentItem) -> bool:
    publisher = publisher_for(actor)
    if publisher is None or not owns(publisher, item):
        return False
    if item.level == Level.HEADQUARTERS:
        return _perm(actor, Perm.MANAGE_PLATFORM)
    if item.level == Level.LOCAL_ORG:
        return _perm(actor, Perm.PUBLISH_LOCAL_CONTENT)
    return _perm(actor, Perm.APPROVE_CONTENT)


def owns(publisher: Publisher, item: ContentItem) -> bool:
    if item.level != publisher.level:
        return False
    if item.level == Level.HEADQUARTERS:
        return item.headquarters_id == publisher.headquarters_id
    if item.level == Level.LOCAL_ORG:
        return item.local_org_id == publisher.local_org_id
    if item.dealer_group_id != publisher.dealer_group_id:
        return False
    return publisher.store_ids is None or item.store_id in publisher.store_ids


def console_items(actor: Any) -> QuerySet[ContentItem]:
    """The items `actor` sees in the content console: their own publisher's, nothing else."""
    publisher = publisher_for(actor)
    qs = ContentItem.objects.all()
    if publisher is None:
        return qs.none()
    if publisher.level == Level.HEADQUARTERS:
        return qs.filter(level=Level.HEADQUARTERS, headquarters_id=publisher.headquarters_id)
    if publisher.level == Level.LOCAL_ORG:
        return qs.filter(level=Level.LOCAL_ORG, local_org_id=publisher.local_org_id)
    qs = qs.filter(level=Level.DEALER, dealer_group_id=publisher.dealer_group_id)
    if publisher.store_ids is not None:
        qs = qs.filter(store_id__in=publisher.store_ids)
    return qs


def get_console_item(actor: Any, item_id: int) -> ContentItem:
    """One of `actor`'s items, or NotFound (another group's item is not found, not forbidden)."""
    item = console_items(actor).filter(pk=item_id).first()
    if item is None:
        raise NotFound()
    return item


def require_approver(actor: Any, item: ContentItem) -> None:
    if not can_approve(actor, item):
        raise PermissionDenied(_("Only an approver of this level may approve or reject."))


def check_targets(publisher: Publisher, targets: dict[str, list[str]]) -> None:
    """Refuse targets outside the publisher's reach: a local organisation only its own city and
    its own groups and stores; a dealer group only its own stores (and no other group)."""
    from m4s.org.models import DealerGroup, Store

    cities = targets.get(TargetKind.CITY, [])
    groups = targets.get(TargetKind.GROUP, [])
    stores = targets.get(TargetKind.STORE, [])
    if publisher.level == Level.LOCAL_ORG:
        if any(c.strip().lower() != publisher.city.strip().lower() for c in cities):
            raise DomainError(
                "target_outside_city",
                _("A local organisation publishes only to owners of its own city."),
                status=403,
            )
        allowed_groups = {
            str(pk)
            for pk in DealerGroup.objects.filter(local_org_id=publisher.local_org_id).values_list(
                "id", flat=True
            )
        }
        if not set(groups) <= allowed_groups:
            raise DomainError(
                "target_outside_reach",
                _("One of the dealer groups is not in your city."),
                status=403,
            )
        if stores:
            allowed_stores = {
                str(pk)
                for pk in Store.objects.unscoped()
                .filter(dealer_group__local_org_id=publisher.local_org_id)
                .values_list("id", flat=True)
            }
            if not set(stores) <= allowed_stores:
                raise DomainError(
                    "target_outside_reach", _("One of the stores is not in your city."), status=403
                )
    elif publisher.level == Level.DEALER:
        if set(groups) - {str(publisher.dealer_group_id)}:
            raise DomainError(
                "target_outside_reach",
                _("A dealer group publishes only to its own customers."),
                status=403,
            )
        if stores:
            allowed = (
                publisher.store_ids
                if publisher.store_ids is not None
                else set(
                    Store.objects.for_group(publisher.dealer_group_id).values_list("id", flat=True)
                )
            )
            if not set(stores) <= {str(pk) for pk in allowed}:
                raise DomainError(
                    "target_outside_reach", _("One of the stores is not yours."), status=403
                )


def can_see_picture(request: Any, obj: Any) -> bool:
    """A cover or gallery picture: anyone signed in once the item is published; before, only the
    staff who work on the item."""
    item = obj.item if isinstance(obj, ContentImage) else obj
    staff = requesting_staff(request)
    if item.status == Status.PUBLISHED and (staff is not None or requesting_owner(request)):
        return True
    if staff is None:
        return False
    return console_items(staff).filter(pk=item.pk).exists()
