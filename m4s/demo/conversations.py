"""Conversations demo data: canned replies in zh-Hans/en/ko for both groups, six weeks of
conversations between the demo owners and their consultants (answered, closed and mostly
rated, with internal notes and a few logged calls, one of them unsolicited with its reason),
and today's state of the inbox: one owner waiting a few minutes, one waiting since yesterday
(its first-response target breached, offered to the on-duty team by the scan), an answered
conversation with a reply the owner has not read, and one open "call me back" request.

Everything goes through the conversations services with `now=` set to the moment it happened
(they route, count business minutes, write the timeline and notify), then the first-response
scan runs at the moment the breached one ran out. Called once by
`m4s.demo.builder.build_demo()`, inside its transaction, after the complaints demo (its rosters);
a fixed seed keeps it the same build after build, relative to today."""

import datetime as dt
import io
import random

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from m4s.conversations import services
from m4s.conversations.models import CannedReply, Conversation
from m4s.customers.models import Customer
from m4s.service.choices import AppointmentStatus
from m4s.service.models import Appointment
from m4s.staff.models import Shift

from .complaints import _business, add_business_minutes
from .service_base import FUTURE_DAYS, SHIFT, SUNDAY_SHIFT

SEED = 1313
HISTORY_DAYS = 42

# (title, text) per language; placeholders {customer}, {car}, {store}
CANNED = [
    (
        "",
        {
            "zh-hans": (
                "问候",
                "{customer}您好，我是{store}的顾问，很高兴为您服务，请问有什么可以帮您？",
            ),
            "en": ("Greeting", "Hello {customer}, this is {store}. How can I help you today?"),
            "ko": ("인사", "{customer}님, 안녕하세요. {store}입니다. 무엇을 도와드릴까요?"),
        },
    ),
    (
        "service",
        {
            "zh-hans": (
                "预约保养",
                "{customer}您好，{car}可以预约明天上午九点进店检查，您看方便吗？",
            ),
            "en": (
                "Book a check",
                "Hello {customer}, we can check {car} tomorrow at 9:00 at {store}. Does that suit you?",
            ),
            "ko": (
                "점검 예약",
                "{customer}님, 내일 오전 9시에 {store}에서 {car} 점검이 가능합니다. 괜찮으세요?",
            ),
        },
    ),
    (
        "service",
        {
            "zh-hans": ("车辆已完工", "{customer}您好，您的{car}已经完工，随时可以到{store}取车。"),
            "en": (
                "Car ready",
                "Hello {customer}, your {car} is ready: you can pick it up at {store} at any time.",
            ),
            "ko": (
                "차량 준비 완료",
                "{customer}님, {car} 정비가 끝났습니다. {store}에서 언제든 찾아가세요.",
            ),
        },
    ),
    (
        "sales",
        {
            "zh-hans": (
                "试驾邀请",
                "{customer}您好，新款车型已到店，欢迎来{store}试驾，我为您预留时间。",
            ),
            "en": (
                "Test drive",
                "Hello {customer}, the new models are in at {store}: shall I book you a test drive?",
            ),
            "ko": (
                "시승 안내",
                "{customer}님, 신모델이 {store}에 입고되었습니다. 시승 예약해 드릴까요?",
            ),
        },
    ),
    (
        "",
        {
            "zh-hans": ("约定回电", "好的{customer}，我们会在您选择的时间给您回电。"),
            "en": (
                "Call you back",
                "Fine, {customer}: we will call you back at the time you chose.",
            ),
            "ko": ("전화 예약", "알겠습니다 {customer}님, 선택하신 시간에 전화드리겠습니다."),
        },
    ),
    (
        "",
        {
            "zh-hans": ("结束语", "感谢您的耐心，{customer}！如有其他问题，随时在这里留言。"),
            "en": (
                "Closing",
                "Thank you, {customer}! Write here any time if anything else comes up.",
            ),
            "ko": (
                "마무리",
                "감사합니다 {customer}님! 궁금한 점이 있으면 언제든 여기에 남겨 주세요.",
            ),
        },
    ),
]

# Past exchanges: (topic, owner's words, staff answer, owner's reply or "", score or None, comment)
HISTORY = [
    (
        "service",
        "保养后仪表盘的保养提示还亮着，正常吗？",
        "您好，是提示没有复位，下次路过店里一分钟就能处理，也可以按说明书自行复位。",
        "好的，谢谢！",
        5,
        "回复很快",
    ),
    (
        "sales",
        "Is the hybrid version available in white?",
        "Yes, we have two in white: shall I reserve one for a test drive on Saturday?",
        "Saturday morning would be great.",
        5,
        "",
    ),
    (
        "service",
        "타이어 공기압 경고등이 켜졌어요.",
        "안녕하세요. 가까운 주유소에서 공기압을 맞추시거나 내일 매장에 들러 주세요. 무료로 점검해 드립니다.",
        "내일 갈게요.",
        4,
        "친절했어요",
    ),
    (
        "cs",
        "上次的发票可以重新开吗？抬头写错了。",
        "可以的，请把正确的抬头发给我，今天下班前给您开好。",
        "已发，谢谢。",
        5,
        "",
    ),
    ("store", "周日店里几点开门？", "周日9:00到16:00营业，欢迎光临。", "", 4, ""),
    (
        "service",
        "空调有异味，需要预约吗？",
        "建议做一次空调清洗，明天下午两点有空位，为您预约吗？",
        "好的，预约明天。",
        3,
        "等了有点久",
    ),
    (
        "sales",
        "置换旧车的话大概能评估多少钱？",
        "需要看一下车况，您周末带车来店里，二十分钟就能给您报价。",
        "",
        None,
        "",
    ),
    (
        "service",
        "Can I bring the car in earlier than booked?",
        "Of course, any time after 8:30 works, just tell the desk.",
        "Thanks!",
        5,
        "Very helpful",
    ),
    (
        "cs",
        "积分什么时候到账？",
        "消费后一般当天到账，您这单已经到账了，可以在“积分与奖励”里查看。",
        "看到了。",
        4,
        "",
    ),
    (
        "service",
        "雨刮器需要更换吗？",
        "从照片看胶条已经老化，建议更换，一副88元，下次保养时一起换。",
        "好的。",
        None,
        "",
    ),
]
NOTES = [
    "客户对价格比较敏感，报价时说明清楚。",
    "Prefers messages to calls.",
    "上次保养时提过刹车片余量不多。",
]


def _png(colour=(200, 60, 40)) -> SimpleUploadedFile:
    from PIL import Image, ImageDraw

    picture = Image.new("RGB", (480, 320), (40, 44, 52))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((150, 90, 330, 230), radius=30, outline=colour, width=10)
    draw.ellipse((215, 130, 265, 180), fill=colour)
    out = io.BytesIO()
    picture.save(out, "PNG")
    return SimpleUploadedFile("dashboard.png", out.getvalue(), content_type="image/png")


# People the service and complaints demos keep no roster for: (username, weekday off)
ROSTERS = [("sales", 1), ("manager", 6)]


def _rosters(staff, store, today: dt.date) -> None:
    """The sales consultant and the store manager on the roster too (so a sales conversation
    reaches 周婷 when she works, and her colleagues or the CS queue on her day off)."""
    start = today - dt.timedelta(days=HISTORY_DAYS + 7)
    Shift.objects.bulk_create(
        Shift(
            dealer_group_id=store.dealer_group_id,
            staff=staff[username],
            store=store,
            date=day,
            starts_at=(SUNDAY_SHIFT if day.weekday() == 6 else SHIFT)[0],
            ends_at=(SUNDAY_SHIFT if day.weekday() == 6 else SHIFT)[1],
        )
        for day in (start + dt.timedelta(days=i) for i in range(HISTORY_DAYS + 7 + FUTURE_DAYS))
        for username, off in ROSTERS
        if day.weekday() != off
    )


def _canned(group_ids) -> None:
    for group_id in group_ids:
        CannedReply.objects.bulk_create(
            CannedReply(
                dealer_group_id=group_id,
                title=texts["en"][0],
                title_i18n={lang: t for lang, (t, _b) in texts.items()},
                body=texts["en"][1],
                body_i18n={lang: b for lang, (_t, b) in texts.items()},
                topic=topic,
                position=i,
            )
            for i, (topic, texts) in enumerate(CANNED)
        )


class _Demo:
    def __init__(self, rng, staff, store):
        self.rng = rng
        self.staff = staff
        self.store = store

    def at(self, moment: dt.datetime, minutes: int = 0) -> dt.datetime:
        return add_business_minutes(self.store, moment, minutes) if minutes else moment

    def handler(self, conv):
        return conv.assignee or self.staff["cs"]

    def exchange(self, owner, customer, when, row, *, call: bool = False) -> Conversation:
        topic, ask, answer, reply, score, comment = row
        conv = services.start_conversation(
            owner, customer=customer, topic=topic, body=ask, now=when
        )
        person = self.handler(conv)
        t = self.at(when, self.rng.choice([4, 6, 9, 14, 22, 35, 48]))
        services.mark_read_by_staff(person, conv, now=t - dt.timedelta(minutes=1))
        services.post_staff_message(person, conv, body=answer, now=t)
        if self.rng.random() < 0.4:
            services.add_note(
                person, conv, body=self.rng.choice(NOTES), now=t + dt.timedelta(seconds=30)
            )
        t = t + dt.timedelta(minutes=self.rng.randint(5, 90))
        services.mark_read_by_owner(owner, conv, now=t)
        if reply:
            services.post_owner_message(owner, conv, body=reply, now=t + dt.timedelta(minutes=1))
            services.mark_read_by_staff(person, conv, now=t + dt.timedelta(minutes=3))
        if call:  # the store called to settle it: a call with an open case, no reason needed
            services.log_call(
                person,
                customer=customer,
                direction="outbound",
                reached=True,
                duration_seconds=145,
                outcome="resolved",
                note="确认了发票抬头，电子发票已发到邮箱。",
                conversation=conv,
                started_at=t + dt.timedelta(minutes=5),
                now=t + dt.timedelta(minutes=8),
            )
            t += dt.timedelta(minutes=8)
        closed_at = self.at(t, self.rng.randint(20, 240))
        services.close(person, conv, now=closed_at)
        if score:
            services.rate(
                owner, conv, score=score, comment=comment, now=closed_at + dt.timedelta(hours=2)
            )
        return conv


def build_conversations_demo(*, staff: dict, owners: list, stores: dict) -> None:
    """`staff`: username -> StaffUser; `owners`: the demo owners in phone order (王伟, Emily
    Chen, 김민준, 刘洋, 陈静), customers of Chaoyang with sales, advisor and cs as consultants."""
    now = timezone.now()
    rng = random.Random(SEED)
    chaoyang = stores["chaoyang"]
    _rosters(staff, chaoyang, timezone.localtime(now, chaoyang.tz).date())
    _canned(sorted({s.dealer_group_id for s in stores.values()}))
    customers = {
        c.owner_id: c
        for c in Customer.objects.for_group(chaoyang.dealer_group_id).filter(
            owner__in=[o.pk for o in owners]
        )
    }
    demo = _Demo(rng, staff, chaoyang)
    wang, emily, minjun, liu, chen = owners
    who = [wang, emily, minjun, wang, liu, chen, liu, emily, chen, minjun]

    # six weeks of answered, closed and (mostly) rated conversations, every two days
    for i in range(2 * len(HISTORY)):
        owner, row = who[i % len(who)], HISTORY[i % len(HISTORY)]
        days = HISTORY_DAYS - 2 * i - rng.random()
        when = _business(chaoyang, now - dt.timedelta(days=days, hours=rng.randint(0, 5)))
        if when > now - dt.timedelta(days=1):
            break
        demo.exchange(owner, customers[owner.pk], when, row, call=i == 3)
    # an owner called in, and one call nobody asked for (with its reason: the figures show it)
    services.log_call(
        staff["advisor"],
        customer=customers[liu.pk],
        direction="inbound",
        reached=True,
        duration_seconds=260,
        outcome="booked",
        note="客户来电预约下周保养。",
        started_at=now - dt.timedelta(days=9, hours=3),
        now=now - dt.timedelta(days=9, hours=3) + dt.timedelta(minutes=5),
    )
    services.log_call(
        staff["sales"],
        customer=customers[chen.pk],
        direction="outbound",
        reached=False,
        duration_seconds=0,
        outcome="no_answer",
        reason="厂家召回通知需要当面确认（短信未读）",
        started_at=now - dt.timedelta(days=6, hours=2),
        now=now - dt.timedelta(days=6, hours=2) + dt.timedelta(minutes=1),
    )

    # today: 刘洋 asked the store and got an answer he has not read yet
    asked = _business(chaoyang, now - dt.timedelta(hours=5))
    conv = services.start_conversation(
        liu,
        customer=customers[liu.pk],
        topic="store",
        body="请问店里可以做车内消毒吗？需要多长时间？",
        now=asked,
    )
    person = conv.assignee or staff["cs"]
    services.claim(person, conv, now=asked + dt.timedelta(minutes=3))
    answered = min(asked + dt.timedelta(minutes=12), now - dt.timedelta(minutes=2))
    services.mark_read_by_staff(person, conv, now=answered - dt.timedelta(minutes=1))
    services.post_staff_message(
        person,
        conv,
        body="可以的，臭氧消毒大约四十分钟，价格128元。您想约哪天？",
        now=answered,
    )

    # 김민준 wrote yesterday and nobody answered: the target ran out, the scan offered it on
    breached = services.start_conversation(
        minjun,
        customer=customers[minjun.pk],
        topic="service",
        body="엔진 경고등이 켜졌어요. 계속 운전해도 되나요? 사진 첨부합니다.",
        photos=[_png()],
        now=_business(chaoyang, now - dt.timedelta(days=2)),
    )
    services.offer_overdue(now=breached.first_response_due_at + dt.timedelta(minutes=1))

    # Emily wants to trade in: a card of her car, a sales conversation a few minutes old
    emily_car = customers[emily.pk].vehicles.order_by("pk").first()
    services.start_conversation(
        emily,
        customer=customers[emily.pk],
        topic="sales",
        body="What would you offer for my car as a trade-in for the new RAV4?",
        card=("car", emily_car.pk) if emily_car is not None else None,
        now=now - dt.timedelta(minutes=18),
    )

    # 王伟 writes to his advisor with a photo of the dashboard; the advisor notes, answers with
    # his booked visit as a card, 王伟 reads it and writes back, and asks to be called back
    advisor = staff["advisor"]
    wang_customer = customers[wang.pk]
    wang_conv = services.start_conversation(
        wang,
        customer=wang_customer,
        topic="service",
        body="仪表盘上这个灯亮了，是什么问题？",
        photos=[_png((230, 160, 20))],
        now=now - dt.timedelta(minutes=14),
    )
    services.add_note(
        advisor,
        wang_conv,
        body="可能是胎压传感器，先查一下上次保养记录。",
        now=now - dt.timedelta(minutes=12),
    )
    services.mark_read_by_staff(advisor, wang_conv, now=now - dt.timedelta(minutes=11))
    visit = (
        Appointment.objects.for_group(chaoyang.dealer_group_id)
        .filter(customer=wang_customer, status=AppointmentStatus.BOOKED, starts_at__gt=now)
        .order_by("starts_at")
        .first()
    )
    services.post_staff_message(
        advisor,
        wang_conv,
        body="王伟您好，这是胎压报警灯，可以先正常慢速行驶。您明天已经预约了保养，到店时我们一起检查胎压传感器。",
        card=("visit", visit.pk) if visit is not None else None,
        now=now - dt.timedelta(minutes=10),
    )
    services.mark_read_by_owner(wang, wang_conv, now=now - dt.timedelta(minutes=8))
    services.post_owner_message(
        wang,
        wang_conv,
        body="好的，谢谢！明天下午方便的话请给我回个电话，确认一下时间。",
        now=now - dt.timedelta(minutes=3),
    )
    tomorrow = timezone.localtime(now, chaoyang.tz).date() + dt.timedelta(days=1)
    services.request_callback(
        wang,
        customer=wang_customer,
        topic="service",
        window_start=dt.datetime.combine(tomorrow, dt.time(14), tzinfo=chaoyang.tz),
        window_end=dt.datetime.combine(tomorrow, dt.time(18), tzinfo=chaoyang.tz),
        note="确认保养时间",
        now=now - dt.timedelta(minutes=2),
    )
