"""Who receives a complaint: at level 1 the customer's own CS agent when on duty (per roster),
else the store's on-duty customer-service agent with the fewest open cases, else the store
manager; level 2 the store manager; level 3 the group's customer care (its group admins)."""

from django.db.models import Count

from m4s.staff.choices import Role
from m4s.staff.models import StaffUser
from m4s.staff.selectors import on_duty

from .choices import OPEN_STATUSES, Level


def _least_loaded(people: list) -> StaffUser | None:
    if len(people) <= 1:
        return people[0] if people else None
    from .models import Complaint

    loads = dict(
        Complaint.objects.unscoped()
        .filter(assignee__in=[p.pk for p in people], status__in=OPEN_STATUSES)
        .values_list("assignee")
        .annotate(n=Count("id"))
    )
    return min(people, key=lambda p: (loads.get(p.pk, 0), p.username))


def store_managers(store) -> list:
    return list(
        StaffUser.objects.filter(stores=store, role=Role.STORE_MANAGER, is_active=True).order_by(
            "username"
        )
    )


def store_manager(store, at) -> StaffUser | None:
    on = on_duty(store, Role.STORE_MANAGER, at)
    if on:
        return on[0]
    managers = store_managers(store)
    return managers[0] if managers else None


def group_care(group_id: int) -> list:
    """Level 3: the group's customer care = its active group admins."""
    return list(
        StaffUser.objects.filter(
            dealer_group_id=group_id, role=Role.GROUP_ADMIN, is_active=True
        ).order_by("username")
    )


def first_line(store, customer, at) -> StaffUser | None:
    agents = on_duty(store, Role.CUSTOMER_SERVICE, at)
    own = getattr(customer, "cs_agent_id", None)
    for agent in agents:
        if agent.pk == own:
            return agent
    return _least_loaded(agents) or store_manager(store, at)


def route(store, customer, level: int, at) -> StaffUser | None:
    """The person a complaint at this level goes to; up the chain when a level has nobody."""
    person = None
    if level <= Level.STORE_CS:
        person = first_line(store, customer, at)
    if person is None and level <= Level.STORE_MANAGER:
        person = store_manager(store, at)
    if person is None:
        care = group_care(store.dealer_group_id)
        person = care[0] if care else None
    return person


def can_handle(person, store) -> bool:
    """May this staff member be given a complaint of this store?"""
    from m4s.staff.choices import Perm

    return bool(
        person is not None
        and person.is_active
        and person.dealer_group_id == store.dealer_group_id
        and person.has_perm_m4s(Perm.HANDLE_COMPLAINTS)
        and (person.has_perm_m4s(Perm.VIEW_ALL_STORES) or store.pk in person.store_ids())
    )


__all__ = ["can_handle", "first_line", "group_care", "route", "store_manager"]
