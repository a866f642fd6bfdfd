"""The care demo: after `build_demo()` every reminder kind is due for someone, the first demo
owner's page shows the declined brake pads, the weather warning, the violation and the birthday
greeting with its coupon; one reminder is held by quiet hours and one dropped by the weekly cap, an owner unsubscribed from
offers;
the advisor's care week and the manager's figures are alive."""

from decimal import Decimal

import pytest
from django.conf import settings
from django.test import Client

from m4s.care.choices import Kind
from m4s.care.models import Reminder, Violation, WeatherWarning
from m4s.demo.builder import OWNER_PHONES, build_demo
from m4s.notify.models import ContactDecision, Unsubscribe
from m4s.owners.middleware import SESSION_KEY
from m4s.owners.models import Owner
from m4s.staff.models import StaffUser

pytestmark = pytest.mark.django_db


def test_the_demo_has_every_kind_due_and_the_policy_at_work():
    assert build_demo(insights=False) is True
    kinds = set(Reminder.objects.unscoped().values_list("kind", flat=True))
    assert kinds >= set(Kind.values), set(Kind.values) - kinds
    wang, emily = (Owner.objects.get(phone=p) for p in OWNER_PHONES[:2])
    mine = Reminder.objects.unscoped().filter(owner=wang)
    declined = mine.get(kind=Kind.DECLINED_REPAIR)
    assert (
        Decimal(declined.payload["measurement"]) == Decimal("3.5")  # "3.50" on PostgreSQL
        and "Front brake pads" in declined.payload["item"]["n"]
    )
    assert mine.filter(kind=Kind.BIRTHDAY, payload__coupon_code__isnull=False).exists()
    assert {Kind.INSURANCE, Kind.INSPECTION, Kind.LICENCE, Kind.VIOLATION, Kind.WEATHER} <= set(
        mine.values_list("kind", flat=True)
    )
    assert Violation.objects.unscoped().count() >= 2 and WeatherWarning.objects.exists()
    decisions = ContactDecision.objects.all()
    assert decisions.filter(owner=emily, outcome="held", why="quiet_hours").exists()
    assert decisions.filter(outcome="dropped", why="capped").exists()
    assert Unsubscribe.objects.filter(category="marketing", source="link").exists()

    client = Client()
    session = client.session
    session[SESSION_KEY] = wang.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = client.get("/app/care/").content.decode()
    for testid in ("weather-card", "greeting-card", "greeting-coupon", "violation"):
        assert f'data-testid="{testid}"' in page, testid
    assert "3.5 mm" in page or "3.50 mm" in page
    advisor = Client()
    advisor.force_login(StaffUser.objects.get(username="advisor"))
    assert 'data-testid="care-row"' in advisor.get("/console/care/").content.decode()
    manager = Client()
    manager.force_login(StaffUser.objects.get(username="manager"))
    figures = manager.get("/console/care/figures/").content.decode()
    assert 'data-testid="kind-row"' in figures
