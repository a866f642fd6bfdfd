"""Store services demo: agency fees, a rental fleet per store of the first group, two new-driver
courses (one session full with a waiting list), and requests of each store-service kind in
several statuses for the demo owners — made through the requests services, so their history,
notifications and timeline lines are real."""

import datetime as dt
import io
import logging

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image, ImageDraw

from m4s.assistance import services
from m4s.assistance.models import AgencyFee
from m4s.care.selectors import owner_violations
from m4s.core.errors import DomainError
from m4s.customers.selectors import vehicles_of_owner
from m4s.requests import services as rq
from m4s.service.models import LabourOperation

log = logging.getLogger(__name__)

FLEET = {
    "chaoyang": [
        ("卡罗拉 Corolla", "Toyota Corolla 1.8L", "京R10001", 5, "199.00", "2000.00"),
        ("汉兰达 Highlander", "Toyota Highlander 2.5L HEV", "京R10002", 7, "459.00", "5000.00"),
    ],
    "haidian": [("雷凌 Levin", "Toyota Levin HEV", "京R20001", 5, "219.00", "2000.00")],
    "fengtai": [("bZ4X", "Toyota bZ4X", "京R30001", 5, "329.00", "3000.00")],
}


def _photo(label: str) -> SimpleUploadedFile:
    picture = Image.new("RGB", (640, 420), "#b7c4d1")
    draw = ImageDraw.Draw(picture)
    draw.rectangle((120, 140, 520, 300), fill="#5b6b7d")
    draw.line((200, 180, 420, 260), fill="#f2f2f2", width=6)  # the scratch
    draw.text((20, 20), label, fill="#1f2933")
    buf = io.BytesIO()
    picture.save(buf, "JPEG", quality=85)
    return SimpleUploadedFile(f"{label}.jpg", buf.getvalue(), content_type="image/jpeg")


def _try(what: str, fn, *args, **kw):
    try:
        return fn(*args, **kw)
    except DomainError as exc:  # the demo goes on; the log says what did not fit
        log.warning("assistance demo: %s refused: %s %s", what, exc.code, exc.message)
        return None


def build_assistance_demo(*, staff, owners, stores) -> None:
    chaoyang = stores["chaoyang"]
    group_id = chaoyang.dealer_group_id
    if AgencyFee.objects.for_group(group_id).exists():
        return
    admin, advisor, cs, sales = staff["groupadmin"], staff["advisor"], staff["cs"], staff["sales"]
    services.save_fee(
        admin,
        kind="inspection",
        name="年检代办 Annual inspection agency",
        name_i18n={"en": "Annual inspection agency", "zh-hans": "年检代办", "ko": "정기검사 대행"},
        fee="150.00",
    )
    services.save_fee(
        admin,
        kind="violation",
        name="违章代办 Clearing a violation",
        name_i18n={"en": "Clearing a violation", "zh-hans": "违章代办", "ko": "교통위반 처리 대행"},
        fee="30.00",
    )
    cars = []
    for key, rows in FLEET.items():
        if key not in stores or stores[key].dealer_group_id != group_id:
            continue
        for name, model, plate, seats, price, deposit in rows:
            cars.append(
                services.save_rental_car(
                    admin,
                    store_id=stores[key].pk,
                    name=name,
                    model=model,
                    plate=plate,
                    seats=seats,
                    price_per_day=price,
                    deposit=deposit,
                )
            )
    basics = services.save_course(
        admin,
        title="新手上路陪驾",
        title_i18n={"en": "New-driver accompanied driving", "ko": "초보 운전 동승 연수"},
        description="教练陪同在城市道路驾驶两小时：起步、并线、停车。",
        description_i18n={
            "en": "Two hours in city traffic with a coach: pulling away, lane changes, parking.",
            "ko": "강사와 함께 시내 도로 2시간: 출발, 차선 변경, 주차.",
        },
        price="300.00",
        store_id=chaoyang.pk,
    )
    parking = services.save_course(
        admin,
        title="停车入库专项",
        title_i18n={"en": "Parking practice", "ko": "주차 집중 연습"},
        description="倒车入库、侧方停车、坡道起步。",
        description_i18n={
            "en": "Reverse bay parking, parallel parking, hill starts.",
            "ko": "후진 주차, 평행 주차, 언덕 출발.",
        },
        price="200.00",
    )
    day = (timezone.localtime() + dt.timedelta(days=6)).replace(
        hour=9, minute=0, second=0, microsecond=0
    )
    full = services.add_session(
        admin,
        basics,
        starts_at=day,
        ends_at=day + dt.timedelta(hours=2),
        capacity=2,
        instructor="王教练 Coach Wang",
    )
    services.add_session(
        admin,
        basics,
        starts_at=day + dt.timedelta(days=7),
        ends_at=day + dt.timedelta(days=7, hours=2),
        capacity=6,
        instructor="王教练 Coach Wang",
    )
    services.add_session(
        admin,
        parking,
        starts_at=day + dt.timedelta(days=3, hours=5),
        ends_at=day + dt.timedelta(days=3, hours=7),
        capacity=4,
        instructor="李教练 Coach Li",
    )

    people = [o for o in owners if list(vehicles_of_owner(o).filter(dealer_group_id=group_id))]
    if not people:
        return
    today = timezone.localdate()

    def submit(owner, kind, data, *, car=True, files=None):
        vehicle = vehicles_of_owner(owner).filter(dealer_group_id=group_id).first()
        return _try(
            kind,
            rq.submit_request,
            owner,
            kind=kind,
            store_id=chaoyang.pk,
            vehicle_id=vehicle.pk if car and vehicle else None,
            data=data,
            files=files,
        )

    def act(actor, r, action, data=None):
        return (
            _try(f"{r.kind} {action}", rq.run_action, actor, r, action, data or {}) if r else None
        )

    # new-driver: the two places of the first session, then the waiting list
    signups = [submit(o, "new_driver", {"session_id": full.pk}, car=False) for o in people[:4]]
    act(cs, signups[0], "confirm")
    # rental: one confirmed, one waiting for an answer, one returned
    if cars:

        def rent(owner, car, start, days):
            s = today + dt.timedelta(days=start)
            return submit(
                owner,
                "rental",
                {
                    "car_id": car.pk,
                    "starts_on": s.isoformat(),
                    "ends_on": (s + dt.timedelta(days=days)).isoformat(),
                },
                car=False,
            )

        act(sales, rent(people[0], cars[0], 3, 3), "confirm")
        rent(people[1 % len(people)], cars[1 % len(cars)], 5, 2)
        done = rent(people[2 % len(people)], cars[0], 10, 1)
        act(sales, done, "confirm")
        act(sales, done, "returned")
    # designated driver: one on the way, one new, one delivered
    tonight = timezone.localtime().replace(hour=22, minute=0, second=0, microsecond=0)
    if tonight < timezone.now():
        tonight += dt.timedelta(days=1)
    ride = {
        "pickup_at": tonight.isoformat(),
        "pickup_address": "三里屯太古里北区",
        "destination": "朝阳区望京西园三区",
        "phone": "+8613800138000",
    }
    on_way = submit(people[0], "designated_driver", ride)
    act(
        cs,
        on_way,
        "dispatch",
        {"driver_name": "赵师傅 Zhao", "driver_phone": "13900001111", "eta_minutes": 20},
    )
    act(cs, on_way, "en_route")
    submit(people[1 % len(people)], "designated_driver", ride)
    home = submit(people[2 % len(people)], "designated_driver", ride)
    act(
        cs,
        home,
        "dispatch",
        {"driver_name": "钱师傅 Qian", "driver_phone": "13900002222", "eta_minutes": 15},
    )
    for step in ("en_route", "arrived", "delivered"):
        act(cs, home, step)
    # annual inspection: one picked up, one new
    pickup = (timezone.localtime() + dt.timedelta(days=2)).replace(
        hour=10, minute=0, second=0, microsecond=0
    )
    first = submit(
        people[0],
        "annual_inspection",
        {
            "mode": "pickup",
            "pickup_address": "朝阳区望京西园三区 5 号楼",
            "pickup_at": pickup.isoformat(),
        },
    )
    act(advisor, first, "assign_driver", {"driver_name": "孙师傅 Sun"})
    act(advisor, first, "picked_up")
    submit(people[1 % len(people)], "annual_inspection", {"mode": "dropoff"})
    # traffic violations the care demo recorded
    for owner in people:
        open_ones = [v.pk for v in owner_violations(owner) if v.status == "open"]
        if open_ones:
            r = submit(owner, "clear_violations", {"violation_ids": open_ones[:3]}, car=False)
            act(cs, r, "accept")
            break
    # scratch repair: one waiting for its estimate, one estimated
    submit(
        people[1 % len(people)],
        "scratch_repair",
        {"panels": ["rear_bumper"]},
        files=[_photo("rear bumper")],
    )
    estimated = submit(
        people[0],
        "scratch_repair",
        {"panels": ["left_front_door", "left_front_wing"], "note": "停车场剐蹭"},
        files=[_photo("door"), _photo("wing")],
    )
    dent = LabourOperation.objects.for_group(group_id).filter(code="DENT").first()
    if dent is not None:
        act(advisor, estimated, "estimate", {"operation_ids": [dent.pk, dent.pk]})
