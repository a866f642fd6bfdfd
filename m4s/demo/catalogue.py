"""New-car catalogue demo: for each demo dealer group two brands, six models across the energy
types with two or three trims each (MSRP and the dealer's price), colours and pictures drawn here
with Pillow (a car's silhouette on a coloured background with the model's name: made for this
project, nothing downloaded); three finance products and four insurers per group."""

import io
from decimal import Decimal as D
from types import SimpleNamespace
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction

from m4s.catalogue import services
from m4s.catalogue.choices import BodyType, Drive, EnergyType
from m4s.org.models import DealerGroup

B, E = BodyType, EnergyType

# group slug -> brands -> models: (name, zh, ko, body, energy, tagline, tagline zh, colour, trims)
# trim: (name, zh, msrp, dealer price, kW, N·m, 0-100 s, L/100 km, range km, kWh, seats, mm, drive)
CATALOGUE: dict[str, list[Any]] = {
    "jingcheng": [
        (
            ("Toyota", "丰田", "토요타"),
            [
                (
                    "Camry",
                    "凯美瑞",
                    "캠리",
                    B.SEDAN,
                    E.HYBRID,
                    "The quiet executive",
                    "安静的行政座驾",
                    "#7a1f2b",
                    [
                        (
                            "2.0 S",
                            "2.0 S 锋尚版",
                            "179800",
                            "171800",
                            127,
                            206,
                            "9.1",
                            "5.9",
                            None,
                            None,
                            5,
                            4915,
                            Drive.FWD,
                        ),
                        (
                            "2.5 HEV Elite",
                            "2.5 双擎 豪华版",
                            "219800",
                            "205800",
                            160,
                            221,
                            "8.1",
                            "4.2",
                            None,
                            None,
                            5,
                            4915,
                            Drive.FWD,
                        ),
                        (
                            "2.5 HEV Flagship",
                            "2.5 双擎 旗舰版",
                            "259800",
                            "259800",
                            160,
                            221,
                            "8.0",
                            "4.3",
                            None,
                            None,
                            5,
                            4915,
                            Drive.FWD,
                        ),
                    ],
                ),
                (
                    "RAV4",
                    "RAV4 荣放",
                    "RAV4",
                    B.SUV,
                    E.PETROL,
                    "Go anywhere, every day",
                    "每天都能出发",
                    "#1f4e79",
                    [
                        (
                            "2.0 CVT 2WD",
                            "2.0 CVT 两驱都市版",
                            "175800",
                            "166800",
                            126,
                            203,
                            "10.9",
                            "6.4",
                            None,
                            None,
                            5,
                            4600,
                            Drive.FWD,
                        ),
                        (
                            "2.0 CVT 4WD Adventure",
                            "2.0 CVT 四驱探险版",
                            "215800",
                            "209800",
                            126,
                            203,
                            "11.4",
                            "6.8",
                            None,
                            None,
                            5,
                            4600,
                            Drive.AWD,
                        ),
                    ],
                ),
                (
                    "bZ4X",
                    "bZ4X",
                    "bZ4X",
                    B.SUV,
                    E.BEV,
                    "Electric, made for families",
                    "为家庭打造的纯电SUV",
                    "#2e7d5b",
                    [
                        (
                            "Pro 615 km",
                            "Pro 615 km 长续航",
                            "199800",
                            "179800",
                            150,
                            266,
                            "8.4",
                            None,
                            615,
                            "66.7",
                            5,
                            4690,
                            Drive.FWD,
                        ),
                        (
                            "Pro 560 km AWD",
                            "Pro 560 km 四驱",
                            "229800",
                            "214800",
                            160,
                            337,
                            "6.9",
                            None,
                            560,
                            "66.7",
                            5,
                            4690,
                            Drive.AWD,
                        ),
                    ],
                ),
            ],
        ),
        (
            ("Lexus", "雷克萨斯", "렉서스"),
            [
                (
                    "ES 300h",
                    "ES 300h",
                    "ES 300h",
                    B.SEDAN,
                    E.HYBRID,
                    "Calm luxury",
                    "从容的豪华",
                    "#3c3c46",
                    [
                        (
                            "Luxury",
                            "豪华版",
                            "319000",
                            "299000",
                            160,
                            221,
                            "8.9",
                            "4.8",
                            None,
                            None,
                            5,
                            4975,
                            Drive.FWD,
                        ),
                        (
                            "F Sport",
                            "F SPORT",
                            "349000",
                            "339000",
                            160,
                            221,
                            "8.9",
                            "4.9",
                            None,
                            None,
                            5,
                            4975,
                            Drive.FWD,
                        ),
                    ],
                ),
                (
                    "NX 400h+",
                    "NX 400h+",
                    "NX 400h+",
                    B.SUV,
                    E.PHEV,
                    "Plug in, drive electric",
                    "插上电，纯电出行",
                    "#5b3a82",
                    [
                        (
                            "Premium",
                            "尊享版",
                            "475000",
                            "455000",
                            227,
                            270,
                            "6.3",
                            "1.0",
                            87,
                            "18.1",
                            5,
                            4660,
                            Drive.AWD,
                        ),
                        (
                            "F Sport",
                            "F SPORT",
                            "515000",
                            "515000",
                            227,
                            270,
                            "6.3",
                            "1.0",
                            87,
                            "18.1",
                            5,
                            4660,
                            Drive.AWD,
                        ),
                    ],
                ),
                (
                    "LM 350h",
                    "LM 350h",
                    "LM 350h",
                    B.MPV,
                    E.HYBRID,
                    "First class on the road",
                    "路上的头等舱",
                    "#262b33",
                    [
                        (
                            "7 seats",
                            "七座版",
                            "1169000",
                            "1169000",
                            184,
                            239,
                            "9.6",
                            "6.6",
                            None,
                            None,
                            7,
                            5125,
                            Drive.AWD,
                        ),
                        (
                            "4 seats",
                            "四座版",
                            "1459000",
                            "1429000",
                            184,
                            239,
                            "9.6",
                            "6.7",
                            None,
                            None,
                            4,
                            5125,
                            Drive.AWD,
                        ),
                    ],
                ),
            ],
        ),
    ],
    "huabei": [
        (
            ("Honda", "本田", "혼다"),
            [
                (
                    "Accord",
                    "雅阁",
                    "어코드",
                    B.SEDAN,
                    E.HYBRID,
                    "Smooth and sure",
                    "平顺而可靠",
                    "#8c2f39",
                    [
                        (
                            "260TURBO",
                            "260TURBO 幻夜版",
                            "179800",
                            "169800",
                            141,
                            260,
                            "8.6",
                            "6.1",
                            None,
                            None,
                            5,
                            4980,
                            Drive.FWD,
                        ),
                        (
                            "e:HEV Elite",
                            "锐·混动 豪华版",
                            "219800",
                            "209800",
                            135,
                            335,
                            "7.9",
                            "4.2",
                            None,
                            None,
                            5,
                            4980,
                            Drive.FWD,
                        ),
                    ],
                ),
                (
                    "CR-V",
                    "CR-V",
                    "CR-V",
                    B.SUV,
                    E.PHEV,
                    "Room for everything",
                    "装得下生活的一切",
                    "#24506b",
                    [
                        (
                            "240TURBO 2WD",
                            "240TURBO 两驱",
                            "189900",
                            "179900",
                            140,
                            240,
                            "9.9",
                            "6.9",
                            None,
                            None,
                            5,
                            4703,
                            Drive.FWD,
                        ),
                        (
                            "e:PHEV",
                            "e:PHEV 插混",
                            "259900",
                            "249900",
                            135,
                            335,
                            "8.1",
                            "1.2",
                            73,
                            "17.7",
                            5,
                            4703,
                            Drive.FWD,
                        ),
                        (
                            "e:HEV 4WD",
                            "锐·混动 四驱",
                            "239900",
                            "232900",
                            135,
                            335,
                            "8.7",
                            "5.2",
                            None,
                            None,
                            5,
                            4703,
                            Drive.AWD,
                        ),
                    ],
                ),
                (
                    "e:NP2",
                    "e:NP2 极湃2",
                    "e:NP2",
                    B.SUV,
                    E.BEV,
                    "Electric from the ground up",
                    "纯电原生",
                    "#2c7a7b",
                    [
                        (
                            "545 km",
                            "545 km 长续航",
                            "189800",
                            "169800",
                            150,
                            310,
                            "8.0",
                            None,
                            545,
                            "68.8",
                            5,
                            4388,
                            Drive.FWD,
                        ),
                        (
                            "510 km",
                            "510 km",
                            "169800",
                            "159800",
                            150,
                            310,
                            "7.8",
                            None,
                            510,
                            "68.8",
                            5,
                            4388,
                            Drive.FWD,
                        ),
                    ],
                ),
            ],
        ),
        (
            ("GAC Aion", "埃安", "아이온"),
            [
                (
                    "Aion S",
                    "AION S",
                    "Aion S",
                    B.SEDAN,
                    E.BEV,
                    "City electric, honest price",
                    "城市纯电，实在的价格",
                    "#3f7fbf",
                    [
                        (
                            "Max 80",
                            "Max 80 星耀版",
                            "139800",
                            "129800",
                            165,
                            240,
                            "7.6",
                            None,
                            610,
                            "69.9",
                            5,
                            4863,
                            Drive.FWD,
                        ),
                        (
                            "Plus 70",
                            "Plus 70 智领版",
                            "159800",
                            "152800",
                            180,
                            350,
                            "6.9",
                            None,
                            600,
                            "69.9",
                            5,
                            4863,
                            Drive.FWD,
                        ),
                    ],
                ),
                (
                    "Aion Y",
                    "AION Y",
                    "Aion Y",
                    B.HATCHBACK,
                    E.BEV,
                    "Small outside, big inside",
                    "小身材，大空间",
                    "#e08e0b",
                    [
                        (
                            "Plus 510",
                            "Plus 510 乐享版",
                            "119800",
                            "109800",
                            150,
                            225,
                            "8.9",
                            None,
                            510,
                            "63.2",
                            5,
                            4535,
                            Drive.FWD,
                        ),
                        (
                            "Plus 610",
                            "Plus 610 智领版",
                            "139800",
                            "134800",
                            150,
                            225,
                            "8.9",
                            None,
                            610,
                            "76.8",
                            5,
                            4535,
                            Drive.FWD,
                        ),
                    ],
                ),
                (
                    "Trumpchi M8",
                    "传祺 M8",
                    "M8",
                    B.MPV,
                    E.DIESEL,
                    "Business class for families",
                    "家庭的公务舱",
                    "#4b4f58",
                    [
                        (
                            "Master 2.0T",
                            "宗师 2.0T",
                            "279800",
                            "269800",
                            185,
                            400,
                            "9.5",
                            "8.3",
                            None,
                            None,
                            7,
                            5212,
                            Drive.FWD,
                        ),
                        (
                            "Grand 2.0T",
                            "领秀 2.0T",
                            "199800",
                            "199800",
                            185,
                            400,
                            "9.8",
                            "8.1",
                            None,
                            None,
                            7,
                            5089,
                            Drive.FWD,
                        ),
                    ],
                ),
            ],
        ),
    ],
}

COLOURS = [
    ("Pearl white", "珍珠白", "#f3f4f2", D("3000")),
    ("Midnight black", "午夜黑", "#15171a", D("0")),
    ("Titanium grey", "钛金灰", "#7d8389", D("0")),
    ("Signal red", "信号红", "#b3202a", D("2000")),
    ("Ocean blue", "海洋蓝", "#1f5f99", D("2000")),
]

PRODUCTS = [
    # name, zh, ko, description, zh, rate, min %, max %, terms, fee
    (
        "Easy start 0 %",
        "零息轻松购",
        "무이자 할부",
        "No interest over a year, half down.",
        "一年免息，首付五成。",
        D("0"),
        D("50"),
        D("80"),
        [12],
        D("0"),
    ),
    (
        "Standard loan",
        "标准贷款",
        "표준 대출",
        "Low down payment, up to five years.",
        "低首付，最长五年。",
        D("3.99"),
        D("15"),
        D("70"),
        [12, 24, 36, 48, 60],
        D("800"),
    ),
    (
        "Flexible 5-year",
        "五年灵活贷",
        "5년 유연 대출",
        "The lowest monthly payment.",
        "月供最低。",
        D("5.49"),
        D("20"),
        D("60"),
        [36, 48, 60],
        D("1200"),
    ),
]

INSURERS = [
    ("PICC 中国人保", "95518", "service@picc.example.cn"),
    ("Ping An 平安保险", "95511", "auto@pingan.example.cn"),
    ("CPIC 太平洋保险", "95500", "car@cpic.example.cn"),
    ("China Life P&C 国寿财险", "95519", "auto@chinalife.example.cn"),
]


def car_picture(colour: str, label: str, body: str, *, view: int = 0, size=(960, 540)) -> bytes:
    """A car's silhouette (sedan, SUV, MPV ... roughly) on a coloured background, with its name."""
    from PIL import Image, ImageDraw, ImageFont

    w, h = size
    background = ["#dfe7ef", "#f1e9dc", "#e2eee4"][view % 3]
    picture = Image.new("RGB", size, background)
    draw = ImageDraw.Draw(picture)
    draw.rectangle((0, h * 0.72, w, h), fill="#b9c2cc")  # the floor
    draw.ellipse((w * 0.12, h * 0.74, w * 0.88, h * 0.84), fill="#9aa3ad")  # the shadow
    tall = {"suv": 0.06, "mpv": 0.1, "pickup": 0.04}.get(body, 0.0)
    hatch = body in ("hatchback", "suv", "mpv", "wagon")
    x0, x1, base = w * 0.16, w * 0.84, h * 0.72
    top = h * (0.52 - tall)
    roof = h * (0.34 - tall)
    draw.rounded_rectangle((x0, top, x1, base), radius=int(h * 0.05), fill=colour)
    rear = x1 - w * (0.04 if hatch else 0.16)
    cabin = [
        (x0 + w * 0.14, top + 2),
        (x0 + w * 0.27, roof),
        (rear - w * 0.1, roof),
        (rear, top + 2),
    ]
    draw.polygon(cabin, fill=colour)
    glass = [
        (x0 + w * 0.17, top - 2),
        (x0 + w * 0.28, roof + h * 0.03),
        (rear - w * 0.11, roof + h * 0.03),
        (rear - w * 0.03, top - 2),
    ]
    draw.polygon(glass, fill="#cfe3f2")
    mid = (x0 + w * 0.28 + rear - w * 0.11) / 2
    draw.line((mid, roof + h * 0.03, mid, top), fill=colour, width=8)
    draw.rectangle((x1 - w * 0.04, top + h * 0.04, x1, top + h * 0.08), fill="#ffe9a8")  # lamp
    for cx in (x0 + w * 0.15, x1 - w * 0.15):
        r = h * 0.085
        draw.ellipse((cx - r, base - r, cx + r, base + r), fill="#22252a")
        draw.ellipse((cx - r * 0.5, base - r * 0.5, cx + r * 0.5, base + r * 0.5), fill="#aab2bb")
    font = ImageFont.load_default(size=max(h // 10, 12))
    draw.text((w * 0.05, h * 0.06), label, fill="#1d2733", font=font)
    out = io.BytesIO()
    picture.convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def _upload(colour, label, body, view, name) -> SimpleUploadedFile:
    data = car_picture(colour, label, body, view=view)
    return SimpleUploadedFile(name, data, content_type="image/jpeg")


@transaction.atomic
def build_catalogue_demo(*, staff, owners, stores) -> None:
    for slug, brands in CATALOGUE.items():
        group = DealerGroup.objects.filter(slug=slug).first()
        if group is None:
            continue
        actor = SimpleNamespace(dealer_group_id=group.pk, is_platform_admin=False)
        for b_sort, ((b_name, b_zh, b_ko), models) in enumerate(brands):
            brand = services.save_brand(
                actor, name=b_name, name_i18n={"zh-hans": b_zh, "ko": b_ko}, sort=b_sort
            )
            for m_sort, (name, zh, ko, body, energy, tag, tag_zh, colour, trims) in enumerate(
                models
            ):
                car = services.save_model(
                    actor,
                    brand=brand,
                    name=name,
                    name_i18n={"zh-hans": zh, "ko": ko},
                    body_type=body,
                    energy_type=energy,
                    tagline=tag,
                    tagline_i18n={"zh-hans": tag_zh},
                    description=f"{b_name} {name}: {tag}.",
                    description_i18n={"zh-hans": f"{b_zh} {zh}：{tag_zh}。"},
                    sort=m_sort,
                )
                for t_sort, t in enumerate(trims):
                    (t_name, t_zh, msrp, price, kw, nm, acc, fuel, rng, kwh, seats, mm, drive) = t
                    services.save_trim(
                        actor,
                        car,
                        name=t_name,
                        name_i18n={"zh-hans": t_zh},
                        msrp=D(msrp),
                        dealer_price=D(price),
                        power_kw=kw,
                        torque_nm=nm,
                        acceleration_s=D(acc) if acc else None,
                        fuel_l_100km=D(fuel) if fuel else None,
                        electric_range_km=rng,
                        battery_kwh=D(kwh) if kwh else None,
                        seats=seats,
                        length_mm=mm,
                        drive=drive,
                        sort=t_sort,
                    )
                for c_sort, (c_name, c_zh, hex_, extra) in enumerate(
                    COLOURS[m_sort % 2 : m_sort % 2 + 4]
                ):
                    services.save_colour(
                        actor,
                        car,
                        name=c_name,
                        name_i18n={"zh-hans": c_zh},
                        hex=hex_,
                        extra_price=extra,
                        sort=c_sort,
                    )
                label = f"{b_name} {name}"
                services.set_cover(actor, car, _upload(colour, label, body, 0, "cover.jpg"))
                services.add_pictures(
                    actor,
                    car,
                    [
                        _upload(COLOURS[i][2], label, body, i, f"view{i}.jpg")
                        for i in range(1, 3 + (m_sort % 2))
                    ],
                )
                # one model per group stays a draft so the console shows both states
                if not (b_sort == 1 and m_sort == 2 and slug == "huabei"):
                    services.set_published(actor, car, True)
        for p_sort, (name, zh, ko, desc, desc_zh, rate, low, high, terms, fee) in enumerate(
            PRODUCTS
        ):
            services.save_finance_product(
                actor,
                name=name,
                name_i18n={"zh-hans": zh, "ko": ko},
                description=desc,
                description_i18n={"zh-hans": desc_zh},
                annual_rate=rate,
                min_down_payment_pct=low,
                max_down_payment_pct=high,
                terms=terms,
                fee=fee,
                sort=p_sort,
            )
        for i_sort, (name, phone, email) in enumerate(INSURERS):
            services.save_insurer(actor, name=name, phone=phone, email=email, sort=i_sort)
