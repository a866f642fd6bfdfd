"""Owners' stories demo: Jingcheng's owners share trips and tips in three languages, with photos
drawn here with Pillow (made for this project). There is a story in every moderation state
(published with likes and comments, waiting, not approved with the reason, hidden after a
report), and a reported comment waiting for the moderators."""

import datetime as dt
import io

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from m4s.community import services
from m4s.community.models import Story

SCENES = {
    "lake": ("#8ec5e8", "#2f6f9f", "#3b6d3b"),
    "city": ("#f4b183", "#5b5b6b", "#2d2d38"),
    "snow": ("#cfe3f2", "#ffffff", "#8aa1b3"),
    "wash": ("#9ad0c2", "#d9f1ea", "#4a8c7b"),
    "night": ("#1f2a4a", "#30406b", "#0f1426"),
}


def story_picture(scene: str, car: str = "#c8102e", size=(800, 600)) -> bytes:
    """A simple photo-like picture: sky, ground, a landscape and a small car (PNG)."""
    from PIL import Image, ImageDraw

    sky, middle, ground = SCENES[scene]
    w, h = size
    picture = Image.new("RGB", size, sky)
    draw = ImageDraw.Draw(picture)
    if scene == "city":
        for i in range(9):
            x = i * w / 9
            top = h * (0.25 + 0.05 * ((i * 7) % 5))
            draw.rectangle((x + 4, top, x + w / 9 - 4, h * 0.7), fill=middle)
            for j in range(int((h * 0.7 - top) // 30)):
                draw.rectangle(
                    (x + 14, top + 10 + j * 30, x + 24, top + 20 + j * 30), fill="#ffe08a"
                )
    elif scene == "night":
        for i in range(40):
            x, y = (i * 97) % w, (i * 53) % int(h * 0.5)
            draw.ellipse((x, y, x + 3, y + 3), fill="#ffffff")
        draw.ellipse((w * 0.75, h * 0.08, w * 0.85, h * 0.08 + w * 0.1), fill="#f5f0c8")
    else:
        draw.polygon([(0, h * 0.65), (w * 0.35, h * 0.3), (w * 0.7, h * 0.65)], fill=middle)
        draw.polygon([(w * 0.4, h * 0.65), (w * 0.75, h * 0.35), (w, h * 0.65)], fill=middle)
        draw.ellipse((w * 0.08, h * 0.08, w * 0.18, h * 0.08 + w * 0.1), fill="#fff3b0")
    draw.rectangle((0, h * 0.68, w, h), fill=ground)
    # the car: body, cabin, wheels
    cx, cy = w * 0.35, h * 0.72
    draw.rounded_rectangle((cx, cy, cx + w * 0.3, cy + h * 0.1), radius=12, fill=car)
    draw.polygon(
        [
            (cx + w * 0.06, cy),
            (cx + w * 0.1, cy - h * 0.07),
            (cx + w * 0.21, cy - h * 0.07),
            (cx + w * 0.25, cy),
        ],
        fill=car,
    )
    draw.polygon(
        [
            (cx + w * 0.08, cy),
            (cx + w * 0.11, cy - h * 0.055),
            (cx + w * 0.2, cy - h * 0.055),
            (cx + w * 0.23, cy),
        ],
        fill="#cfe8ff",
    )
    for wx in (cx + w * 0.06, cx + w * 0.22):
        draw.ellipse((wx - 22, cy + h * 0.07, wx + 22, cy + h * 0.07 + 44), fill="#222222")
        draw.ellipse((wx - 9, cy + h * 0.07 + 13, wx + 9, cy + h * 0.07 + 31), fill="#aaaaaa")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _photo(scene: str, car: str = "#c8102e") -> SimpleUploadedFile:
    return SimpleUploadedFile(f"{scene}.png", story_picture(scene, car), content_type="image/png")


STORIES = [
    # (author index, text, photos, state, extra)
    (
        0,
        "周末带家人去怀柔雁栖湖，湖边的秋色太美了！新车跑高速又稳又省油，"
        "推荐大家早上八点前出发，停车场很空。",
        [("lake", "#c8102e"), ("snow", "#c8102e")],
        "approved",
        {},
    ),
    (
        1,
        "Took my Camry for its first 10,000 km service at Chaoyang. Booked in the app, waited in "
        "the lounge with a coffee, done in 90 minutes. Tip: ask them to check the wiper blades "
        "before the rainy season.",
        [("city", "#3a5fcd")],
        "approved",
        {},
    ),
    (
        2,
        "어제 밤에 장안가를 드라이브했어요. 베이징의 야경이 정말 멋있었어요! "
        "주말 밤에는 교통이 한산해서 추천합니다.",
        [("night", "#f2f2f2")],
        "approved",
        {},
    ),
    (
        3,
        "第一次参加车友洗车活动，认识了好几位同小区的车友，下次自驾一起出发！",
        [("wash", "#1f8a4c")],
        "pending",
        {},
    ),
    (4, "新手上路第一个月，分享几个停车小技巧：倒车入库先看右后视镜……", [], "pending", {}),
    (
        3,
        "我的车牌和小区门口的照片，大家看看这个停车位怎么样？",
        [("city", "#1f8a4c")],
        "rejected",
        {"reason": "照片里能看到车牌和门牌号，请遮挡后重新分享。"},
    ),
    (
        1,
        "Selling my old roof box, cheap! Message me for the price.",
        [],
        "hidden",
        {"reason": "Advertising is not allowed in owners' stories."},
    ),
]
COMMENTS = [
    (0, 1, "Beautiful! How long was the drive from Chaoyang?"),
    (0, 3, "雁栖湖秋天确实好看，下周我也去！"),
    (1, 0, "同意，雨季前一定要换雨刮。"),
    (2, 1, "Love the night drives in Beijing!"),
]
LIKES = {0: [1, 2, 3, 4], 1: [0, 2, 4], 2: [0, 1]}
REPORTED_COMMENT = (0, 4, "加我微信买便宜机油 wx123456")


def build_community_demo(*, staff: dict, owners: list, now: dt.datetime | None = None) -> int:
    """Stories of the demo owners (all customers of Jingcheng) in every state; returns how many
    were written (0 when the demo has them already)."""
    if Story.objects.unscoped().filter(event_id__isnull=True).exists():
        return 0
    moderator = staff.get("cs") or staff["groupadmin"]
    now = now or timezone.now()
    made: list[Story] = []
    with transaction.atomic():
        for i, (author, text, photos, state, extra) in enumerate(STORIES):
            at = now - dt.timedelta(days=len(STORIES) - i, hours=3)
            story = services.create_story(
                owners[author],
                text=text,
                photos=[_photo(scene, car) for scene, car in photos],
                now=at,
            )
            later = at + dt.timedelta(hours=2)
            if state in ("approved", "hidden"):
                story = services.approve_story(moderator, story, now=later)
            if state == "rejected":
                story = services.reject_story(moderator, story, reason=extra["reason"], now=later)
            made.append(story)
        for index, likers in LIKES.items():
            for liker in likers:
                services.like_story(owners[liker], made[index], now=now - dt.timedelta(hours=5))
        for index, author, text in COMMENTS:
            services.add_comment(owners[author], made[index], text, now=now - dt.timedelta(hours=4))
        index, author, text = REPORTED_COMMENT
        spam = services.add_comment(
            owners[author], made[index], text, now=now - dt.timedelta(hours=2)
        )
        services.report(owners[0], made[index], reason="spam", comment_id=spam.pk, now=now)
        hidden = next(s for s, row in zip(made, STORIES, strict=True) if row[3] == "hidden")
        services.report(owners[0], hidden, reason="spam", now=now)
        services.hide_story(
            moderator, hidden, reason="Advertising is not allowed in owners' stories.", now=now
        )
    # The points the tasks would give after commit (idempotent: a worker running them is a no-op).
    for story, row in zip(made, STORIES, strict=True):
        if row[3] in ("approved", "hidden"):
            services.award_story_points(story.pk)
    for index, likers in LIKES.items():
        for liker in likers:
            customer = services.community_customer(owners[liker])
            if customer is not None:
                services.award_like_points(made[index].pk, customer.pk)
    return len(made)
