"""Factories and a small API client shared by every area's tests."""

import datetime as dt
import json
from types import SimpleNamespace

import factory
from django.test import Client, TestCase

from m4s.identity.services import issue_token
from m4s.org import services as org
from m4s.org.choices import EmergencyKind
from m4s.org.models import DealerGroup, LocalOrganisation, Store
from m4s.owners.models import Owner
from m4s.staff.choices import Role
from m4s.staff.services import create_staff

PASSWORD = "correct-horse-battery"


class LocalOrganisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = LocalOrganisation

    headquarters = factory.LazyFunction(org.ensure_headquarters)
    name = factory.Sequence(lambda n: f"City {n}")
    city = "Beijing"


class DealerGroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = DealerGroup

    local_org = factory.SubFactory(LocalOrganisationFactory)
    name = factory.Sequence(lambda n: f"Group {n}")
    slug = factory.Sequence(lambda n: f"group-{n}")


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store

    dealer_group = factory.SubFactory(DealerGroupFactory)
    name = factory.Sequence(lambda n: f"Store {n}")
    code = factory.Sequence(lambda n: f"store-{n}")
    app_title = factory.LazyAttribute(lambda o: f"{o.name} app")


class OwnerFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Owner

    phone = factory.Sequence(lambda n: f"+86139{n:08d}")
    name = factory.Sequence(lambda n: f"Owner {n}")


def make_staff(username, role, group, stores=(), **kw):
    return create_staff(
        username=username, password=PASSWORD, role=role, group=group, stores=list(stores), **kw
    )


def build_world() -> SimpleNamespace:
    group_a, group_b = DealerGroupFactory(name="Alpha Auto"), DealerGroupFactory(name="Beta Motors")
    store_a, store_b = (
        StoreFactory(dealer_group=group_a, name="Alpha North"),
        StoreFactory(dealer_group=group_b, name="Beta South"),
    )
    for store in (store_a, store_b):
        org.set_business_hours(
            store, 0, [(dt.time(8, 30), dt.time(12)), (dt.time(13, 30), dt.time(18))]
        )
        org.add_emergency_number(store, EmergencyKind.RESCUE, "400-800-0000", "Rescue")
    w = SimpleNamespace(group_a=group_a, group_b=group_b, store_a=store_a, store_b=store_b)
    w.hq = make_staff("hq", Role.PLATFORM_ADMIN, None)
    w.admin_a = make_staff("admin-a", Role.GROUP_ADMIN, group_a, [store_a])
    w.admin_b = make_staff("admin-b", Role.GROUP_ADMIN, group_b, [store_b])
    w.advisor_a = make_staff("advisor-a", Role.SERVICE_ADVISOR, group_a, [store_a])
    w.advisor_b = make_staff("advisor-b", Role.SERVICE_ADVISOR, group_b, [store_b])
    w.tech_a = make_staff("tech-a", Role.TECHNICIAN, group_a, [store_a])
    w.owner = OwnerFactory(home_store=store_a)
    w.owner_b = OwnerFactory(home_store=store_b)
    return w


class ApiClient:
    """JSON in, JSON out, optional bearer token."""

    def __init__(self):
        self.client = Client()

    def _headers(self, token):
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def request(self, method, path, data=None, token=None, raw=None, **extra):
        body = raw if raw is not None else (json.dumps(data) if data is not None else "")
        extra.setdefault("HTTP_ACCEPT_LANGUAGE", "en")
        call = getattr(self.client, method.lower())
        # A request is a transaction: run its on-commit side effects as the server would.
        with TestCase.captureOnCommitCallbacks(execute=True):
            if method.upper() == "GET":
                response = call(path, data or {}, **self._headers(token), **extra)
            else:
                response = call(
                    path, body, content_type="application/json", **self._headers(token), **extra
                )
        response.json_body = (
            response.json()
            if response.content and response["Content-Type"].startswith("application/json")
            else None
        )
        return response

    def get(self, path, token=None, **kw):
        return self.request("GET", path, kw.pop("params", None), token)

    def post(self, path, data=None, token=None, **kw):
        return self.request("POST", path, data, token, **kw)

    def patch(self, path, data=None, token=None, **kw):
        return self.request("PATCH", path, data, token, **kw)

    def delete(self, path, token=None, **kw):
        return self.request("DELETE", path, None, token, **kw)


def owner_token(owner) -> str:
    return issue_token(owner=owner)


def staff_token(user) -> str:
    return issue_token(staff=user)
