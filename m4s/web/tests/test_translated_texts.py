"""What the system writes and what the dealer names are shown in the reader's language: points
reasons, inbox messages, tier / reward / mission / package names and checklist items, over the
API and on the pages; switching language changes them; a translation edited in the back office
reaches the owner; a missing translation falls back to the name as typed."""

from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.test import Client

from m4s.core.tests.factories import PASSWORD, owner_token
from m4s.loyalty import services as loyalty
from m4s.loyalty.choices import Event
from m4s.loyalty.models import LedgerEntry, Reward
from m4s.notify.models import Message
from m4s.owners.middleware import SESSION_KEY
from m4s.service import workshop as workshop_services
from m4s.service.choices import Rating

pytestmark = pytest.mark.django_db


def owner_page(owner, path, language):
    client = Client()
    session = client.session
    session[SESSION_KEY] = owner.pk
    session.save()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    r = client.get(path)
    assert r.status_code == 200, path
    return r.content.decode()


def api(api_client, owner, path, language):
    r = api_client.request("GET", path, token=owner_token(owner), HTTP_ACCEPT_LANGUAGE=language)
    assert r.status_code == 200, r.content
    return r.json_body


@pytest.fixture
def korean_member(club, django_capture_on_commit_callbacks):
    """The test owner reads Korean and has just earned points for binding a car."""
    club.owner.language = "ko"
    club.owner.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        loyalty.record_event(club.customer, Event.CAR_BOUND, source="bound:test")
    return club


def test_points_reason_and_inbox_follow_the_readers_language(korean_member, api_client):
    w = korean_member
    entry = LedgerEntry.objects.for_group(w.group_a).get(member=w.member)
    assert entry.reason == "Bound a car"  # stored once, in the source language
    reasons = {
        lang: api(api_client, w.owner, "/api/v1/me/loyalty/ledger", lang)[0]["reason"]
        for lang in ("ko", "zh-hans", "en")
    }
    assert reasons == {"ko": "차량 연동", "zh-hans": "绑定车辆", "en": "Bound a car"}

    inbox = {
        lang: api(api_client, w.owner, "/api/v1/me/inbox", lang)["items"][0]
        for lang in ("ko", "zh-hans", "en")
    }
    assert (inbox["ko"]["subject"], inbox["ko"]["body"]) == ("+200 포인트", "차량 연동")
    assert (inbox["zh-hans"]["subject"], inbox["zh-hans"]["body"]) == ("+200 积分", "绑定车辆")
    assert (inbox["en"]["subject"], inbox["en"]["body"]) == ("+200 points", "Bound a car")
    # The row itself was rendered in the owner's language at send time (what an SMS would say).
    message = Message.objects.get(owner=w.owner, kind="loyalty.earned")
    assert message.subject == "+200 포인트"

    # The pages: history and inbox, then the owner switches to Chinese.
    assert "차량 연동" in owner_page(w.owner, "/app/loyalty/history/", "ko")
    assert "+200 포인트" in owner_page(w.owner, "/app/inbox/", "ko")
    assert "绑定车辆" in owner_page(w.owner, "/app/loyalty/history/", "zh-hans")
    assert "+200 积分" in owner_page(w.owner, "/app/inbox/", "zh-hans")


def test_tier_reward_and_mission_names_in_korean_and_chinese(korean_member, api_client):
    w = korean_member
    me = api(api_client, w.owner, "/api/v1/me/loyalty", "ko")
    assert me["tier"]["name"] == "실버" and me["next_tier"]["name"] == "골드"
    assert "5% 할인" in me["next_tier"]["benefits"]
    rewards = {r["name"] for r in api(api_client, w.owner, "/api/v1/me/rewards", "ko")}
    assert {"세차", "여행용 텀블러", "실내 디테일링"} <= rewards
    missions = {m["name"] for m in api(api_client, w.owner, "/api/v1/me/missions", "zh-hans")}
    assert missions == {"一年内3次按时保养", "60天内光顾5家不同合作商户"}

    page = owner_page(w.owner, "/app/loyalty/rewards/", "ko")
    assert "세차" in page and "매장에서 손세차 1회." in page and "Car wash" not in page
    page = owner_page(w.owner, "/app/loyalty/rewards/", "zh-hans")
    assert "洗车" in page and "세차" not in page
    assert "시간 엄수" in owner_page(w.owner, "/app/loyalty/missions/", "ko")  # badge
    assert "실버" in owner_page(w.owner, "/app/loyalty/", "ko")


def test_missing_translation_falls_back_to_the_name_as_typed(korean_member, api_client):
    w = korean_member
    Reward.objects.for_group(w.group_a).filter(pk=w.club.rewards["mug"].pk).update(
        name="Thermo mug", name_i18n={"zh-hans": "保温杯"}
    )
    names = {r["id"]: r["name"] for r in api(api_client, w.owner, "/api/v1/me/rewards", "ko")}
    assert names[w.club.rewards["mug"].pk] == "Thermo mug"
    names = {r["id"]: r["name"] for r in api(api_client, w.owner, "/api/v1/me/rewards", "zh-hans")}
    assert names[w.club.rewards["mug"].pk] == "保温杯"


class _Form(HTMLParser):
    """The fields of an admin change form with their current values."""

    def __init__(self):
        super().__init__()
        self.data, self._select, self._textarea = {}, None, None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name and a.get("type") not in ("submit", "file", "button"):
            if a.get("type") == "checkbox":
                if "checked" in a:
                    self.data[name] = a.get("value", "on")
            else:
                self.data[name] = a.get("value", "")
        elif tag == "select" and name:
            self._select = name
            self.data.setdefault(name, "")
        elif tag == "option" and self._select and "selected" in a:
            self.data[self._select] = a.get("value", "")
        elif tag == "textarea" and name:
            self._textarea = name
            self.data[name] = ""

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None
        if tag == "textarea":
            self._textarea = None

    def handle_data(self, data):
        if self._textarea:
            self.data[self._textarea] += data


def test_translation_edited_in_the_back_office_reaches_the_owner(korean_member, api_client):
    w = korean_member
    wash = w.club.rewards["wash"]
    admin = Client(HTTP_ACCEPT_LANGUAGE="en")
    assert admin.login(username=w.admin_a.username, password=PASSWORD)
    url = f"/admin/loyalty/reward/{wash.pk}/change/"
    page = admin.get(url)
    assert page.status_code == 200
    form = _Form()
    form.feed(page.content.decode())
    assert form.data["name_i18n_ko"] == "세차"  # one input per language
    assert form.data["name_i18n_zh-hans"] == "洗车" and form.data["name_i18n_en"] == "Car wash"
    form.data["name_i18n_ko"] = "프리미엄 손세차"
    form.data.pop("_addanother", None)
    r = admin.post(url, form.data)
    assert r.status_code == 302, r.content.decode()[:2000]
    wash.refresh_from_db()
    assert wash.name_i18n == {"zh-hans": "洗车", "en": "Car wash", "ko": "프리미엄 손세차"}
    names = {r["id"]: r["name"] for r in api(api_client, w.owner, "/api/v1/me/rewards", "ko")}
    assert names[wash.pk] == "프리미엄 손세차"
    assert "프리미엄 손세차" in owner_page(w.owner, "/app/loyalty/rewards/", "ko")


def test_checklist_items_lines_and_packages_in_the_owners_language(
    workshop, api_client, django_capture_on_commit_callbacks
):
    w = workshop
    w.owner.language = "ko"
    w.owner.save(update_fields=["language"])
    with django_capture_on_commit_callbacks(execute=True):
        ro = workshop_services.check_in(
            w.advisor_a,
            store=w.store_a,
            customer=w.customer,
            vehicle=w.my_car,
            odometer=18600,
            fuel_pct=50,
            symptoms="noise",
        )
        points = {p.name: p.pk for p in w.template.points.all()}
        workshop_services.record_inspection(
            w.tech_a,
            ro,
            [
                {"point_id": pk, "rating": Rating.RED if name == "Front brake pads" else "green"}
                for name, pk in points.items()
            ],
        )
        workshop_services.complete_inspection(w.tech_a, ro)

    path = f"/api/v1/me/repair-orders/{ro.pk}"
    ko = api(api_client, w.owner, path, "ko")
    assert "앞 브레이크 패드" in {r["name"] for r in ko["inspection"]}
    assert [ln["description"] for ln in ko["lines"]] == ["앞 브레이크 패드 교환"]
    zh = api(api_client, w.owner, path, "zh-hans")
    assert "前刹车片" in {r["name"] for r in zh["inspection"]}
    assert [ln["description"] for ln in zh["lines"]] == ["更换前刹车片"]

    inbox = api(api_client, w.owner, "/api/v1/me/inbox", "ko")["items"]
    assert "승인이 필요합니다" in {m["subject"] for m in inbox}
    inbox = api(api_client, w.owner, "/api/v1/me/inbox", "zh-hans")["items"]
    assert "需要您确认" in {m["subject"] for m in inbox}

    page = owner_page(w.owner, f"/app/service/orders/{ro.pk}/", "ko")
    assert "앞 브레이크 패드" in page and "Front brake pads" not in page

    packages = api(api_client, w.owner, f"/api/v1/stores/{w.store_a.pk}/packages", "ko")
    assert "10,000km 정비" in {p["name"] for p in packages}
    due = api(api_client, w.owner, f"/api/v1/me/vehicles/{w.my_car.pk}/maintenance", "zh-hans")
    assert "机油及机油滤清器" in {i["item"] for i in due["items"]}


def test_api_without_accept_language_answers_in_the_owners_language(korean_member):
    from django.test import Client

    client = Client()
    r = client.get(
        "/api/v1/me/rewards", HTTP_AUTHORIZATION=f"Bearer {owner_token(korean_member.owner)}"
    )
    assert r.status_code == 200
    assert "세차" in {x["name"] for x in r.json()}
    r = client.get(  # an explicit Accept-Language still wins
        "/api/v1/me/rewards",
        HTTP_AUTHORIZATION=f"Bearer {owner_token(korean_member.owner)}",
        HTTP_ACCEPT_LANGUAGE="zh-hans",
    )
    assert "洗车" in {x["name"] for x in r.json()}
