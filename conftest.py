"""Test-wide set-up. The suite runs on SQLite by default and on PostgreSQL when DATABASE_URL
points at one (`.ci/run` does both)."""

import os
import random
import threading

import pytest
from django.conf import settings as django_settings
from django.core.servers.basehttp import ThreadedWSGIServer
from django.test.testcases import LiveServerThread
from django.utils import translation
from hypothesis import settings as hypothesis_settings

from m4s.notify.sms import MemorySmsBackend

# A loaded CI machine can stall any example for a moment: hypothesis judges behaviour here, not
# speed (benchmarks under bench/ do that), so no per-example deadline.
hypothesis_settings.register_profile("m4s", deadline=None)
hypothesis_settings.load_profile("m4s")

# The suite speaks plain HTTP to its test client and live servers, as `make demo` does: the
# processes tests start get M4S_PLAIN_HTTP=1, and this process turns off what it would have
# (settings.py was read before this file; the live server's middleware is built from these).
# m4s/ops/tests/test_deploy.py checks the HTTPS side.
os.environ["M4S_PLAIN_HTTP"] = "1"
django_settings.PLAIN_HTTP = True
django_settings.SECURE_SSL_REDIRECT = False
django_settings.SESSION_COOKIE_SECURE = False
django_settings.CSRF_COOKIE_SECURE = False
django_settings.SECURE_HSTS_SECONDS = 0


class _TrackedServer(ThreadedWSGIServer):
    """The test live server, counting the requests it is running so that a test can wait until
    none is left before its database is flushed (a browser fetches /favicon.ico or a static file
    after the page's load event, and that request may still be running when the test ends).

    On in-memory SQLite the server also runs requests one at a time: it shares the test's one
    connection with every request thread, and two requests at once (a page and its htmx poll,
    parallel ingest posts) would interleave their savepoints on it. PostgreSQL gives each
    thread its own connection and runs requests in parallel."""

    one_at_a_time = False
    _app_lock = threading.Lock()
    _idle = threading.Condition()
    _running = 0

    def set_app(self, application):
        cls = type(self)

        def tracked(environ, start_response):
            with cls._idle:
                cls._running += 1
            try:
                if cls.one_at_a_time:
                    with cls._app_lock:
                        return _drain(application(environ, start_response))
                return _drain(application(environ, start_response))
            finally:
                with cls._idle:
                    cls._running -= 1
                    cls._idle.notify_all()

        super().set_app(tracked)

    @classmethod
    def wait_until_idle(cls, timeout: float = 10.0, quiet_for: float = 0.2) -> None:
        """Return once no request has been running for `quiet_for` seconds (or at `timeout`)."""
        import time

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with cls._idle:
                cls._idle.wait_for(lambda: cls._running == 0, max(deadline - time.monotonic(), 0))
            time.sleep(quiet_for)
            with cls._idle:
                if cls._running == 0:
                    return


def _drain(result):
    """The whole body, read while the request is counted as running (and, on SQLite, holds the
    lock); except a server-sent event stream (m4s/notify/live.py), which the server writes out
    event by event as it comes, outside the lock and not counted (it only reads, and ends by
    itself after LIVE_STREAM_SECONDS)."""
    if getattr(result, "streaming", False) and result.get("Content-Type", "").startswith(
        "text/event-stream"
    ):
        return result
    try:
        return list(result)
    finally:
        if hasattr(result, "close"):
            result.close()


LiveServerThread.server_class = _TrackedServer
_TrackedServer.one_at_a_time = django_settings.DATABASES["default"]["ENGINE"].endswith("sqlite3")


@pytest.fixture
def live_server_idle():
    """Call to wait until the live server runs no request (see _TrackedServer)."""
    return _TrackedServer.wait_until_idle


@pytest.fixture(autouse=True)
def _test_settings(settings, tmp_path):
    settings.SMS_BACKEND = "m4s.notify.sms.MemorySmsBackend"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.TASKS = {
        "default": {
            "BACKEND": "django_tasks.backends.immediate.ImmediateBackend",
            "QUEUES": ["default", "notify"],
        }
    }
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.DATA_DIR = tmp_path / "data"  # the simulator's token file, per test
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    # the console's live channel: streams end fast (pages reconnect with their last event id)
    # so a test client or schemathesis reading one to its end waits a second, not a minute
    settings.LIVE_STREAM_SECONDS = 1
    settings.LIVE_MAX_STREAMS = 50
    settings.STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    MemorySmsBackend.outbox.clear()
    with translation.override(
        "en"
    ):  # service messages read in English unless a test picks a language
        yield


@pytest.fixture
def sms_outbox():
    return MemorySmsBackend.outbox


@pytest.fixture
def world(db):
    """Two dealer groups with a store each, staff for the roles the tests need, one owner."""
    from m4s.core.tests.factories import build_world

    return build_world()


@pytest.fixture
def api_client():
    from m4s.core.tests.factories import ApiClient

    return ApiClient()


@pytest.fixture
def rng():
    return random.Random(7)


@pytest.fixture
def cars(world, rng):
    """Group A knows one car owned by an imported customer; group B has its own customer and car."""
    from m4s.core.tests.factories import make_staff
    from m4s.customers import services
    from m4s.customers.models import Customer
    from m4s.demo import synthetic
    from m4s.staff.choices import Role
    from m4s.vehicles.models import Vehicle

    world.sales_a = make_staff("sales-a", Role.SALES_CONSULTANT, world.group_a, [world.store_a])
    world.cs_a = make_staff("cs-a", Role.CUSTOMER_SERVICE, world.group_a, [world.store_a])
    known = Customer.objects.create(
        dealer_group=world.group_a,
        store=world.store_a,
        name="Zhang San",
        phone="+8613911110000",
        service_advisor=world.advisor_a,
        sales_consultant=world.sales_a,
        telematics_consent=True,  # recorded by the store: the terminal tests store positions
    )
    services.set_id_number(known, "11010519491231002X")
    known.save()
    car = Vehicle.objects.create(
        dealer_group=world.group_a,
        vin=synthetic.make_vin(rng),
        plate=synthetic.make_plate(rng),
        brand="Toyota",
        model="Camry",
    )
    services.bind_customer_vehicle(known, car, via="desk", invitation=None, staff=world.advisor_a)
    other = Customer.objects.create(
        dealer_group=world.group_b,
        store=world.store_b,
        name="Li Si",
        phone="+8613922221234",
        service_advisor=world.advisor_b,
        telematics_consent=True,
    )
    other_car = Vehicle.objects.create(
        dealer_group=world.group_b,
        vin=synthetic.make_vin(rng),
        plate=synthetic.make_plate(rng, "沪"),
        brand="Honda",
        model="Accord",
    )
    services.bind_customer_vehicle(
        other, other_car, via="desk", invitation=None, staff=world.advisor_b
    )
    world.known, world.car, world.other, world.other_car = known, car, other, other_car
    return world


@pytest.fixture
def workshop(cars, rng):
    """A service-ready store in group A and the test owner's bound car (m4s/service/tests/helpers.py)."""
    from m4s.service.tests.helpers import build_workshop

    return build_workshop(cars, rng)


@pytest.fixture
def club(cars):
    """A loyalty programme in both groups; the test owner is a member in group A."""
    from m4s.customers.services import get_or_create_customer_for_owner
    from m4s.demo.starters import loyalty as starter
    from m4s.loyalty import services

    w = cars
    w.club = starter.install_programme(w.group_a)
    w.club_b = starter.install_programme(w.group_b)
    w.customer = get_or_create_customer_for_owner(w.owner, w.store_a)
    w.member = services.get_or_create_member(w.customer)
    w.customer_b = get_or_create_customer_for_owner(w.owner_b, w.store_b)
    w.member_b = services.get_or_create_member(w.customer_b)
    return w


@pytest.fixture
def fleet(cars):
    """Terminals on group A's car (HTTP) and on group B's car; tokens in w.token_a / w.token_b."""
    from m4s.telematics import services

    w = cars
    w.device_a, secret_a = services.register_device(
        w.admin_a, device_id="tbox-a1", protocol="http", vehicle=w.car
    )
    w.device_b, secret_b = services.register_device(
        w.admin_b, device_id="tbox-b1", protocol="http", vehicle=w.other_car
    )
    w.token_a = services.token_for(w.device_a, secret_a)
    w.token_b = services.token_for(w.device_b, secret_b)
    return w
