"""A guard for the whole class of "a page that is a 500 for some role" and "a link shown to a
role that then answers 403": every demo role (and an owner, and nobody) walks the back office,
the console and the owner app through the links the pages themselves show.

Seeds: the admin index, every registered model's changelist, add page and first change page,
the console home and the owner-app home. Every link (href, hx-get) found on a seed page is
visited, and the links on those pages one level further. GET only; logout and the language
switch are skipped. Links are grouped by shape (numbers folded, with or without a query) and one
of each shape is followed past the seeds, so the walk stays fast on the demo data."""

import re
import time
from collections import defaultdict
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest
from django.test import Client

from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner
from m4s.staff.models import StaffUser
from m4s.web.admin_site import admin_site

STAFF = ["hq", "groupadmin", "manager", "sales", "advisor", "cs", "tech", "other-advisor"]
SCOPES = ("/admin/", "/console/", "/app/")
SKIP = ("/console/logout/", "/app/logout/", "/admin/logout/", "/app/language/", "/i18n/")
MAX_DEPTH = 2
NOISE_PARAMS = {"_changelist_filters", "o", "next"}
PER_SHAPE = 1  # links of one shape followed beyond the seeds


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.links = []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if value and (name == "hx-get" or (name == "href" and tag in {"a", "link"})):
                self.links.append(value)


def _links(base, html):
    parser = _Links()
    parser.feed(html)
    found = []
    for raw in parser.links:
        if raw.startswith(("#", "javascript:", "mailto:", "tel:", "data:")):
            continue
        parts = urlsplit(urljoin(base, raw))
        if parts.netloc not in {"", "testserver"}:
            continue
        url = _url(parts)
        if url.startswith(SCOPES) and not url.startswith(SKIP):
            found.append(url)
    return found


def _url(parts):
    """Path and query, without the admin's sort order and remembered filters (the same page)."""
    query = "&".join(q for q in parts.query.split("&") if q and q.split("=")[0] not in NOISE_PARAMS)
    return parts.path + (f"?{query}" if query else "")


def _shape(url):
    """One page per path (numbers folded), and one of its filtered or paged variants."""
    parts = urlsplit(url)
    return re.sub(r"\d+", "N", parts.path), bool(parts.query)


def _admin_seeds():
    seeds = ["/admin/"]
    for model, model_admin in admin_site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        seeds += [base, f"{base}add/"]
        first = model_admin.model._base_manager.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            seeds.append(f"{base}{first}/change/")
    return seeds


def _crawl(client, seeds):
    """Visit the seeds and the links they show; return (visited count, problems)."""
    problems = []
    shown_by = defaultdict(set)  # url -> pages that showed it
    status = {}
    shapes = defaultdict(int)
    queue = [(url, 0) for url in seeds]
    while queue:
        url, depth = queue.pop(0)
        if url in status:
            continue
        response = client.get(url)
        status[url] = response.status_code
        if response.status_code >= 500:
            exc = getattr(response, "exc_info", None)
            why = f"{exc[0].__name__}: {exc[1]}" if exc else ""
            problems.append(f"{response.status_code} {url} {why}")
            continue
        if response.status_code in (301, 302) and depth < MAX_DEPTH:
            location = _url(urlsplit(urljoin(url, response["Location"])))
            if location.startswith(SCOPES) and location not in status:
                queue.append((location, depth + 1))
            continue
        content_type = response.get("Content-Type", "")
        if depth >= MAX_DEPTH or "html" not in content_type:
            continue
        for link in _links(url, response.content.decode()):
            shown_by[link].add(url)
            if link in status:
                continue
            shape = _shape(link)
            if shapes[shape] >= PER_SHAPE:
                continue
            shapes[shape] += 1
            queue.append((link, depth + 1))
    for url, pages in shown_by.items():
        if status.get(url) == 403:
            problems.append(f"403 {url} (shown on {sorted(pages)[0]})")
    return len(status), problems


@pytest.mark.django_db
def test_every_role_walks_every_page_without_a_5xx_or_a_forbidden_link():
    assert build_demo() is True
    started, cpu = time.monotonic(), time.process_time()
    admin_seeds = _admin_seeds()
    app_seeds = ["/app/", "/app/login/"]
    console_seeds = ["/console/", "/console/login/"]
    visitors = {}
    for username in STAFF:
        client = Client(raise_request_exception=False)
        client.force_login(StaffUser.objects.get(username=username))
        visitors[username] = (client, [*admin_seeds, *console_seeds])
    owner_client = Client(raise_request_exception=False)
    session = owner_client.session
    session[SESSION_KEY] = Owner.objects.get(phone=OWNER_PHONES[0]).pk
    session.save()
    visitors["owner"] = (owner_client, app_seeds)
    visitors["anonymous"] = (
        Client(raise_request_exception=False),
        ["/admin/", "/admin/login/", *console_seeds, *app_seeds],
    )

    problems, counts = [], {}
    for who, (client, seeds) in visitors.items():
        counts[who], found = _crawl(client, seeds)
        problems += [f"{who}: {p}" for p in found]
    elapsed, cpu = time.monotonic() - started, time.process_time() - cpu
    print(f"crawled {counts} in {elapsed:.1f} s ({cpu:.1f} s CPU)")  # noqa: T201 (with -s)
    assert all(n > 5 for n in counts.values()), counts
    assert not problems, "\n".join(problems)
