"""Query budgets of the pages people open most: the owner app's home, loyalty and car health
pages (and the other tiles' pages), their APIs, and every list page of the staff console's
navigation, on the demo data. A page that starts reading per row (a query in a loop) or loses a
select_related goes over its budget here, on SQLite and PostgreSQL alike.

Each page is asked for twice and the second answer is counted: the first warms the
configuration cache (a store's branding, a loyalty programme and its tiers), which is how a
running server answers. The budgets are today's counts; lower one when a page gets cheaper."""

import re
from html.parser import HTMLParser

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from m4s.customers.selectors import vehicles_of_owner
from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.identity.services import issue_token
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner
from m4s.staff.models import StaffUser
from m4s.web.navigation import GROUPS

# Owner pages and APIs ("N": a number folded, e.g. the car's id).
OWNER_BUDGETS = {
    "/app/": 13,
    "/app/loyalty/": 9,
    "/app/cars/N/health/": 16,
    "/api/v1/me": 3,
    "/api/v1/me/loyalty": 4,
    "/api/v1/me/vehicles/N/health": 10,
}
# Every other page an owner reaches from the home screen (its tiles, to-do lines and groups).
TILE_BUDGETS = {
    "/app/conversations/N/": 20,  # marks the replies read (writes) as it shows them
    "/app/service/": 8,
    "/app/service/book/": 47,
    "/app/care/reminders/N/": 6,
    "/app/loyalty/vouchers/N/": 5,
    "/app/g/info/": 3,
    "/app/g/service/": 3,
    "/app/g/community/": 3,
    "/app/sos/": 3,
    "/app/consultants/": 4,
    "/app/conversations/": 6,
    "/app/loyalty/": 9,
    "/app/care/": 6,
    "/app/inbox/": 4,
    "/app/profile/": 3,
    "/app/catalogue/": 8,
    "/app/content/m/sales_events/": 9,
    "/app/content/m/service_news/": 9,
    "/app/care/violations/": 4,
    "/app/content/m/travel_info/": 9,
    "/app/content/m/violation_areas/": 9,
    "/app/cars/": 7,
    "/app/events/": 6,
    "/app/content/prices/": 22,
    "/app/content/m/insurance/": 9,
    "/app/requests/test-drive/": 13,
    "/app/requests/finance/": 8,
    "/app/requests/insurance/": 7,
    "/app/assistance/scratch-repair/": 2,
    "/app/assistance/rental/": 2,
    "/app/requests/trade-in/": 6,
    "/app/assistance/inspection/": 2,
    "/app/assistance/violations/": 2,
    "/app/loyalty/refer/": 7,
    "/app/assistance/new-driver/": 2,
    "/app/assistance/designated-driver/": 2,
    "/app/content/magazines/": 10,
    "/app/content/knowledge/": 11,
    "/app/service/surveys/": 4,
    "/app/complaints/": 4,
    "/app/community/": 6,
    "/app/content/m/city_food/": 9,
    "/app/content/m/nightlife/": 9,
    "/app/content/m/city_tours/": 9,
    "/app/content/m/fashion/": 9,
    "/app/content/m/travel_china/": 9,
    "/app/content/m/guide/": 9,
}
TILE_CEILING = 30  # a page not listed above
# The console's list pages (its navigation), as the group admin sees them.
CONSOLE_BUDGETS = {
    "/console/": 21,
    "/console/customers/": 6,
    "/console/service/figures/": 37,
    "/console/complaints/": 11,
    "/console/complaints/figures/": 19,
    "/console/conversations/": 8,
    "/console/conversations/figures/": 17,
    "/console/content/": 11,
    "/console/community/": 9,
    "/console/events/": 6,
    "/console/requests/": 41,
    "/console/sales/": 8,
    "/console/sales/figures/": 13,
    "/console/catalogue/": 6,
    "/console/assistance/": 2,
    "/console/care/": 10,
    "/console/care/figures/": 24,
    "/console/loyalty/": 5,
    "/console/telematics/": 6,
    "/console/invitations/": 20,
    "/console/inbox/": 6,
}
CONSOLE_CEILING = 40  # a page not listed above


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.links += [v for k, v in attrs if k == "href" and v]


def _links(html: str, prefix: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    out = []
    for link in parser.links:
        path = link.split("#")[0]
        if path.startswith(prefix) and "logout" not in path and path not in out:
            out.append(path)
    return out


def _shape(url: str) -> str:
    path = url.split("?")[0]
    return re.sub(r"/\d+/", "/N/", re.sub(r"/\d+$", "/N", path))


def _count(client: Client, url: str, **headers) -> tuple[int, int]:
    """(status, queries) of the second of two GETs."""
    client.get(url, **headers)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    return response.status_code, len(queries.captured_queries)


@pytest.mark.django_db
def test_pages_stay_within_their_query_budgets():
    """One demo build for all three walks (it takes most of the test's time)."""
    assert build_demo() is True
    owner = Owner.objects.get(phone=OWNER_PHONES[0])
    app = Client()
    session = app.session
    session[SESSION_KEY] = owner.pk
    session.save()
    over = _owner_pages(owner, app) + _owner_tiles(app) + _console_lists()
    assert not over, "\n".join(over)


def _owner_pages(owner, app) -> list[str]:
    token = issue_token(owner=owner)
    cars = list(vehicles_of_owner(owner))
    assert cars, "the demo's first owner has a car"
    urls = ["/app/", "/app/loyalty/", "/api/v1/me", "/api/v1/me/loyalty"]
    for car in cars:
        urls += [f"/app/cars/{car.pk}/health/", f"/api/v1/me/vehicles/{car.pk}/health"]
    over = []
    for url in urls:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if url.startswith("/api/") else {}
        status, n = _count(app, url, **headers)
        assert status == 200, url
        if n > OWNER_BUDGETS[_shape(url)]:
            over.append(f"{url}: {n} queries > {OWNER_BUDGETS[_shape(url)]}")
    return over


def _owner_tiles(app) -> list[str]:
    home = app.get("/app/").content.decode()
    urls = [u for u in _links(home, "/app/") if u != "/app/"]
    for group in GROUPS:
        urls += [reverse(f.url_name) for f in group.functions if f.url_name]
    urls = list(dict.fromkeys(urls))
    assert len(urls) > 30
    over = []
    for url in urls:
        status, n = _count(app, url)
        assert status in (200, 302), f"{url}: {status}"
        budget = TILE_BUDGETS.get(_shape(url), TILE_CEILING)
        if n > budget:
            over.append(f"{url}: {n} queries > {budget}")
    return over


def _console_lists() -> list[str]:
    staff = Client()
    staff.force_login(StaffUser.objects.get(username="groupadmin"))
    home = staff.get("/console/").content.decode()
    urls = ["/console/", *[u for u in _links(home, "/console/") if not re.search(r"\d", u)]]
    urls = list(dict.fromkeys(urls))
    assert len(urls) > 10
    over = []
    for url in urls:
        status, n = _count(staff, url)
        assert status in (200, 302), f"{url}: {status}"
        budget = CONSOLE_BUDGETS.get(_shape(url), CONSOLE_CEILING)
        if n > budget:
            over.append(f"{url}: {n} queries > {budget}")
    return over
