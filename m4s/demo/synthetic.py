"""Made-up but realistic car and owner data for demos, seed data and tests.

Every generator takes a ``random.Random`` that the caller seeds, so the same seed always
gives the same data; nothing here touches the global ``random`` state. What is generated
passes the checks in m4s.vehicles.validation (VIN check digit, plate format, ID number check
character) and m4s.owners.phones (real Chinese mobile prefixes). The people, addresses and
ID numbers are fictional; any match with a real person is chance.
"""

import datetime as dt
import random

from m4s.vehicles.validation import (
    PLATE_PROVINCES,
    VIN_ALPHABET,
    VIN_CHECK_POSITION,
    id_number_check_character,
    normalize_plate,
    vin_check_digit,
)

__all__ = [
    "make_address",
    "make_chinese_name",
    "make_id_number",
    "make_mobile",
    "make_plate",
    "make_vehicle_model",
    "make_vin",
]

# World manufacturer identifiers (VIN characters 1-3) of makers building cars in China.
VIN_WMIS = (
    "LVG",  # GAC Toyota
    "LFM",  # FAW Toyota
    "LFV",  # FAW-Volkswagen
    "LSV",  # SAIC Volkswagen
    "LHG",  # GAC Honda
    "LGB",  # Dongfeng Nissan
    "LVS",  # Changan Ford
    "LBV",  # BMW Brilliance
    "LDC",  # Dongfeng Peugeot Citroën
    "LSG",  # SAIC-GM (Buick, Chevrolet, Cadillac)
    "LGX",  # BYD
    "LRW",  # Tesla Shanghai
)
# Model-year codes (VIN character 10) for 2015-2025.
VIN_YEAR_CODES_2015_2025 = "FGHJKLMNPRS"

_VIN_CHARACTERS = "".join(sorted(VIN_ALPHABET))
_DIGITS = "0123456789"
_PLATE_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ"  # A-Z without I and O


def make_vin(rng: random.Random) -> str:
    """A 17-character VIN: Chinese maker, model year 2015-2025, correct check digit."""
    wmi = rng.choice(VIN_WMIS)
    descriptor = "".join(rng.choices(_VIN_CHARACTERS, k=5))  # characters 4-8
    year = rng.choice(VIN_YEAR_CODES_2015_2025)
    plant = rng.choice(_VIN_CHARACTERS)
    serial = "".join(rng.choices(_DIGITS, k=6))
    draft = f"{wmi}{descriptor}0{year}{plant}{serial}"  # '0' holds the check digit's place
    check = vin_check_digit(draft)
    return draft[:VIN_CHECK_POSITION] + check + draft[VIN_CHECK_POSITION + 1 :]


def make_plate(rng: random.Random, province: str = "京", new_energy: bool = False) -> str:
    """A valid plate for ``province``: 京A12345-style, or small new-energy 京AD12345-style.

    Ordinary plates are mostly digits with at most two letters, as issued in practice;
    new-energy plates use D (battery-electric) or F (plug-in hybrid) after the office letter.
    """
    if len(province) != 1 or province not in PLATE_PROVINCES:
        raise ValueError(f"{province!r} is not a province abbreviation ({PLATE_PROVINCES}).")
    office = rng.choice(_PLATE_LETTERS)
    if new_energy:
        serial = rng.choice("DF") + rng.choice(_DIGITS + _PLATE_LETTERS)
        serial += "".join(rng.choices(_DIGITS, k=4))
    else:
        characters = rng.choices(_DIGITS, k=5)
        for position in rng.sample(range(5), k=rng.choice((0, 0, 1, 1, 2))):
            characters[position] = rng.choice(_PLATE_LETTERS)
        serial = "".join(characters)
    return normalize_plate(f"{province}{office}{serial}")


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAME_CHARACTERS = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏辉"
    "建国文斌宇浩婷雪琳晨欣怡子涵佳睿博思雨轩梓俊晓凯鑫慧颖志峰波"
)


def make_chinese_name(rng: random.Random) -> str:
    """A common surname followed by one or two given-name characters (王伟, 李思雨)."""
    given = rng.choices(GIVEN_NAME_CHARACTERS, k=rng.choice((1, 2)))
    return rng.choice(SURNAMES) + "".join(given)


MOBILE_PREFIXES = (
    *range(130, 140),
    *range(150, 154),
    *range(155, 160),
    166,
    170,
    171,
    173,
    *range(175, 179),
    *range(180, 190),
    191,
    198,
    199,
)


def make_mobile(rng: random.Random) -> str:
    """A Chinese mobile number in E.164 form (+8613812345678) with a real network prefix."""
    return f"+86{rng.choice(MOBILE_PREFIXES)}{rng.randrange(10**8):08d}"


ADDRESS_DISTRICTS = {
    "北京市": {
        "东城区": ("东长安街", "建国门内大街", "东直门南大街", "王府井大街"),
        "西城区": ("西长安街", "金融大街", "德胜门外大街", "西直门南大街"),
        "朝阳区": ("建国路", "朝阳北路", "东三环中路", "望京街", "酒仙桥路"),
        "海淀区": ("中关村大街", "学院路", "知春路", "西三环北路", "上地十街"),
        "丰台区": ("丰台路", "南四环西路", "马家堡东路", "科学城路"),
        "石景山区": ("石景山路", "鲁谷路", "古城大街"),
        "门头沟区": ("新桥大街", "滨河路"),
        "房山区": ("良乡拱辰大街", "长虹西路"),
        "通州区": ("新华大街", "通朝大街", "玉带河东街"),
        "顺义区": ("府前街", "顺平路", "天竺路"),
        "昌平区": ("回龙观西大街", "北清路", "政府街"),
        "大兴区": ("兴华大街", "亦庄荣华南路", "黄村西大街"),
        "怀柔区": ("青春路", "府前街"),
        "平谷区": ("府前街", "新平北路"),
        "密云区": ("鼓楼大街", "新南路"),
        "延庆区": ("妫水北街", "东外大街"),
    },
}
# For other cities: district names most Chinese cities have, and common road names.
GENERIC_DISTRICTS = ("城区", "新区", "高新区", "经济技术开发区")
GENERIC_ROADS = ("人民路", "解放路", "中山路", "建设路", "和平路", "新华路", "长江路", "世纪大道")


def make_address(rng: random.Random, city: str = "北京市") -> str:
    """A street address such as 北京市朝阳区建国路88号.

    Beijing addresses use its 16 real districts and real roads in each; for other cities a
    generic district (高新区, ...) and a common road name (人民路, ...) are used.
    """
    districts = ADDRESS_DISTRICTS.get(city)
    if districts:
        district = rng.choice(sorted(districts))
        road = rng.choice(districts[district])
    else:
        district = rng.choice(GENERIC_DISTRICTS)
        road = rng.choice(GENERIC_ROADS)
    return f"{city}{district}{road}{rng.randint(1, 299)}号"


FUELS = ("petrol", "hybrid", "phev", "bev")
VEHICLE_MODELS = (
    ("Toyota", "Camry", "petrol"),
    ("Toyota", "Corolla", "hybrid"),
    ("Toyota", "RAV4", "petrol"),
    ("Honda", "Accord", "petrol"),
    ("Honda", "CR-V", "hybrid"),
    ("Honda", "Civic", "petrol"),
    ("Volkswagen", "Lavida", "petrol"),
    ("Volkswagen", "Passat", "petrol"),
    ("Volkswagen", "Tiguan L", "petrol"),
    ("Nissan", "Sylphy", "petrol"),
    ("Buick", "Excelle", "petrol"),
    ("Geely", "Emgrand", "petrol"),
    ("Changan", "CS75 PLUS", "petrol"),
    ("Haval", "H6", "petrol"),
    ("BYD", "Qin PLUS DM-i", "phev"),
    ("BYD", "Song PLUS DM-i", "phev"),
    ("BYD", "Han", "bev"),
    ("BYD", "Seagull", "bev"),
    ("Tesla", "Model Y", "bev"),
    ("Tesla", "Model 3", "bev"),
    ("Wuling", "Hongguang MINIEV", "bev"),
)


def make_vehicle_model(rng: random.Random) -> tuple[str, str, str]:
    """(brand, model, fuel) of a popular China-market car; fuel is one of FUELS."""
    return rng.choice(VEHICLE_MODELS)


# GB 2260 region codes (first 6 digits of an ID number), mostly Beijing districts.
ID_REGION_CODES = (
    "110101",  # Beijing Dongcheng
    "110102",  # Beijing Xicheng
    "110105",  # Beijing Chaoyang
    "110106",  # Beijing Fengtai
    "110108",  # Beijing Haidian
    "110112",  # Beijing Tongzhou
    "110114",  # Beijing Changping
    "130102",  # Shijiazhuang Chang'an
    "310104",  # Shanghai Xuhui
    "370102",  # Jinan Lixia
    "410105",  # Zhengzhou Jinshui
    "440106",  # Guangzhou Tianhe
    "510104",  # Chengdu Jinjiang
)
_BIRTH_FIRST = dt.date(1950, 1, 1)
_BIRTH_LAST = dt.date(2004, 12, 31)


def make_id_number(rng: random.Random) -> str:
    """An 18-character resident ID number (GB 11643) born 1950-2004, with a correct check.

    Region code, birth date (YYYYMMDD) and a 3-digit sequence (odd for men, even for
    women) are followed by the ISO 7064 MOD 11-2 check character, which may be X.
    """
    region = rng.choice(ID_REGION_CODES)
    birth = _BIRTH_FIRST + dt.timedelta(days=rng.randrange((_BIRTH_LAST - _BIRTH_FIRST).days + 1))
    sequence = rng.randint(1, 999)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    return first17 + id_number_check_character(first17)
