"""Car-pal events demo: Jingcheng's upcoming spring drive (full, with a waiting list) and last
month's car-wash meet-up (done, with check-ins and owners' photos that became a story), each with
a cover picture drawn here with Pillow (made for this project)."""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from m4s.events import services
from m4s.events.choices import EventStatus
from m4s.events.models import Event, Signup


def picture_bytes(colour: str, label: str, size=(960, 540)) -> bytes:
    """A simple poster: a coloured sky, a road, hills and a label (PNG)."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = size
    picture = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(picture)
    draw.polygon([(0, h * 0.62), (w * 0.3, h * 0.38), (w * 0.55, h * 0.6)], fill="#3b6d3b")
    draw.polygon([(w * 0.4, h * 0.62), (w * 0.75, h * 0.3), (w, h * 0.6)], fill="#2f5a30")
    draw.rectangle((0, h * 0.6, w, h), fill="#4a4a4a")
    draw.polygon(
        [(w * 0.45, h), (w * 0.49, h * 0.6), (w * 0.51, h * 0.6), (w * 0.55, h)], fill="#777"
    )
    for i in range(5):
        y = h * 0.65 + i * h * 0.07
        draw.rectangle((w * 0.495, y, w * 0.505, y + h * 0.03), fill="#f2d24b")
    draw.ellipse((w * 0.78, h * 0.08, w * 0.9, h * 0.08 + w * 0.12), fill="#fff3b0")
    font = ImageFont.load_default(size=max(h // 9, 12))
    draw.text((w * 0.05, h * 0.08), label, fill="#ffffff", font=font)
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _upload(colour: str, label: str, name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, picture_bytes(colour, label), content_type="image/png")


def build_events_demo(*, staff: dict, owners: list, stores: dict) -> dict:
    """An upcoming event with sign-ups and a waiting list; a past one with check-ins and photos."""
    if Event.objects.unscoped().exists():
        return {}
    chaoyang = stores["chaoyang"]
    manager = staff["manager"]
    now = timezone.now()
    start = (timezone.localtime(now) + dt.timedelta(days=10)).replace(
        hour=9, minute=30, second=0, microsecond=0
    )
    upcoming = services.create_event(
        manager,
        title="春季自驾 · 十渡山水",
        title_i18n={"en": "Spring drive to Shidu", "ko": "봄 드라이브 · 스두"},
        description="一起驾车去十渡，沿途拍照、午餐和爱车检查。",
        description_i18n={
            "en": "A drive to Shidu together: photo stops, lunch and a free car check.",
            "ko": "함께 스두까지 드라이브: 사진 촬영, 점심, 무료 차량 점검.",
        },
        place_name="京城丰田朝阳店门口集合",
        address="北京市朝阳区东四环中路 88 号",
        latitude="39.909200",
        longitude="116.486400",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=8),
        signup_deadline=start - dt.timedelta(days=2),
        capacity=3,
        store_id=chaoyang.pk,
        status=EventStatus.OPEN,
        cover=_upload("#6fa8dc", "Spring drive", "spring.png"),
    )
    for owner in owners:  # three places, then the waiting list
        services.sign_up(owner, upcoming.pk)

    past_start = start - dt.timedelta(days=40)
    past = services.create_event(
        manager,
        title="洗车沙龙 · 夏日聚会",
        title_i18n={"en": "Car-wash meet-up", "ko": "세차 모임"},
        description="车主一起学习洗车和打蜡的小技巧。",
        description_i18n={
            "en": "Owners learn car washing and waxing tips together.",
            "ko": "차주들이 함께 세차와 왁스 요령을 배웁니다.",
        },
        place_name="京城丰田朝阳店",
        address="北京市朝阳区东四环中路 88 号",
        starts_at=now + dt.timedelta(hours=2),
        ends_at=now + dt.timedelta(hours=4),
        signup_deadline=now + dt.timedelta(hours=1),
        capacity=10,
        store_id=chaoyang.pk,
        status=EventStatus.OPEN,
        cover=_upload("#e69138", "Car-wash meet-up", "wash.png"),
    )
    for owner in owners[:4]:
        services.sign_up(owner, past.pk)
    tickets = list(Signup.objects.for_group(past.dealer_group_id).filter(event=past))
    for signup in tickets[:3]:
        services.check_in(manager, past, signup.token, now=past_start + dt.timedelta(minutes=5))
    with transaction.atomic():  # it happened last month
        services.update_event(
            manager,
            past,
            starts_at=past_start,
            ends_at=past_start + dt.timedelta(hours=2),
            signup_deadline=past_start - dt.timedelta(days=1),
        )
        services.update_event(manager, past, status=EventStatus.DONE)
    photos = services.add_photos(
        owners[0],
        past.pk,
        [_upload("#93c47d", "Shiny!", "wash-1.png"), _upload("#76a5af", "Team", "wash-2.png")],
        story_text="洗车沙龙很开心，学到了打蜡的技巧！",
    )
    return {"upcoming": upcoming, "past": past, "photos": photos}
