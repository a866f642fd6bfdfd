"""Set-up shared by the reading side's tests: items written straight to the tables (the
publishing workflow has its own tests), owners with cars, customers and tiers."""

import datetime as dt

from django.utils import timezone

from m4s.content import search
from m4s.content.choices import HAS_TARGET_FIELD, Level, Status
from m4s.content.models import ContentItem, ContentTarget, ContentTranslation
from m4s.customers import services as customers
from m4s.org import services as org
from m4s.vehicles.models import Vehicle

_vin = iter(range(10**6))


def make_item(
    *,
    level=Level.HEADQUARTERS,
    module="knowledge",
    title="Item",
    texts=None,
    group=None,
    store=None,
    local_org=None,
    targets=None,
    bound_car=None,
    status=Status.PUBLISHED,
    publish_at=None,
    expire_at=None,
    pinned=False,
    source_language="en",
    index=False,
    **fields,
):
    now = timezone.now()
    item = ContentItem.objects.create(
        level=level,
        headquarters=org.ensure_headquarters() if level == Level.HEADQUARTERS else None,
        local_org=local_org,
        dealer_group=group,
        store=store,
        module=module,
        status=status,
        source_language=source_language,
        publish_at=publish_at or now - dt.timedelta(hours=1),
        expire_at=expire_at,
        published_at=now,
        pinned=pinned,
        target_bound_car=bound_car,
        **fields,
    )
    for lang, (t, summary, body) in (texts or {source_language: (title, "", "")}).items():
        ContentTranslation.objects.create(
            item=item, language=lang, title=t, summary=summary, body_html=body
        )
    for kind, values in (targets or {}).items():
        for v in values:
            ContentTarget.objects.create(item=item, kind=kind, value=str(v))
        setattr(item, HAS_TARGET_FIELD[kind], True)
    item.save()
    if index:
        search.index_item(item)
    return item


def give_car(customer, brand="Toyota", model="Camry"):
    car = Vehicle.objects.create(
        dealer_group_id=customer.dealer_group_id,
        vin=f"LTEST{next(_vin):012d}",
        brand=brand,
        model=model,
    )
    customers.bind_customer_vehicle(customer, car, via="app", invitation=None, staff=None)
    return car


def customer_of(owner, store):
    return customers.get_or_create_customer_for_owner(owner, store)
