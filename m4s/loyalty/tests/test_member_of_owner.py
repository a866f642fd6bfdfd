"""Reading an owner's membership never writes: the selector answers None until the membership
exists; the owner's loyalty page and API create it through the service on first use, so an owner
who is a customer of a group with a programme still sees their club on the first visit."""

import pytest
from django.conf import settings
from django.test import Client

from m4s.core.tests.factories import owner_token
from m4s.customers.services import get_or_create_customer_for_owner
from m4s.demo.starters import loyalty as starter
from m4s.loyalty import selectors, services
from m4s.loyalty.models import Member
from m4s.owners.middleware import SESSION_KEY

pytestmark = pytest.mark.django_db


@pytest.fixture
def newcomer(cars):
    """Group A runs a programme; the test owner is a customer there but not yet a member. Group B's
    owner is a customer of group B, which runs none."""
    w = cars
    w.club = starter.install_programme(w.group_a)
    w.customer = get_or_create_customer_for_owner(w.owner, w.store_a)
    get_or_create_customer_for_owner(w.owner_b, w.store_b)
    assert not Member.objects.unscoped().filter(customer=w.customer).exists()
    return w


def test_the_selector_reads_only(newcomer):
    w = newcomer
    before = Member.objects.unscoped().count()
    assert selectors.member_of_owner(w.owner) is None
    assert selectors.member_of_owner(w.owner, group_id=w.group_a.pk) is None
    assert Member.objects.unscoped().count() == before
    assert selectors.loyalty_customer_of_owner(w.owner) == w.customer


def test_the_selector_finds_an_existing_membership_and_nothing_outside_a_programme(newcomer):
    w = newcomer
    member = services.get_or_create_member(w.customer)
    assert selectors.member_of_owner(w.owner) == member
    assert selectors.member_of_owner(w.owner, group_id=w.group_b.pk) is None
    assert selectors.loyalty_customer_of_owner(w.owner_b) is None  # group B runs no programme
    assert selectors.member_of_owner(w.owner_b) is None


def test_the_first_visit_to_the_loyalty_page_joins_the_club(newcomer):
    w = newcomer
    client = Client()
    session = client.session
    session[SESSION_KEY] = w.owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/app/loyalty/")
    assert page.status_code == 200
    assert [t.name for t in page.templates][0] == "loyalty/app/home.html"
    member = Member.objects.unscoped().get(customer=w.customer)
    assert member.code in page.content.decode()
    assert selectors.member_of_owner(w.owner) == member


def test_the_owner_api_joins_on_first_use(newcomer, api_client):
    w = newcomer
    r = api_client.get("/api/v1/me/loyalty", token=owner_token(w.owner))
    assert r.status_code == 200
    member = Member.objects.unscoped().get(customer=w.customer)
    assert r.json()["member_code"] == member.code and r.json()["balance"] == 0
    # An owner whose group runs no programme is told to join, and nothing is written.
    before = Member.objects.unscoped().count()
    r = api_client.get("/api/v1/me/loyalty", token=owner_token(w.owner_b))
    assert r.status_code == 404
    assert Member.objects.unscoped().count() == before
