"""The starter catalogue's names in every language (Simplified Chinese, English, Korean), so a
demo is translated at first sight. `names(english)` gives the `*_i18n` value for a source name;
a name without an entry gets only its English."""

# English source: (简体中文, 한국어)
NAMES = {
    # labour operations
    "Engine oil and filter change": ("更换机油及机油滤清器", "엔진오일 및 오일필터 교환"),
    "Air filter replacement": ("更换空气滤清器", "에어필터 교환"),
    "Cabin filter replacement": ("更换空调滤清器", "에어컨 필터 교환"),
    "Brake fluid replacement": ("更换制动液", "브레이크액 교환"),
    "Spark plug replacement": ("更换火花塞", "점화플러그 교환"),
    "Tyre rotation and balance": ("轮胎换位及动平衡", "타이어 위치 교환 및 밸런스"),
    "Multi-point inspection": ("多项检查", "다중 항목 점검"),
    "Diagnosis of a described problem": ("故障诊断", "설명하신 문제 진단"),
    "Front brake pads replacement": ("更换前刹车片", "앞 브레이크 패드 교환"),
    "Tyre replacement (each)": ("更换轮胎（每条）", "타이어 교환 (개당)"),
    "12 V battery replacement": ("更换12V蓄电池", "12V 배터리 교환"),
    "Wiper blades replacement": ("更换雨刮片", "와이퍼 블레이드 교환"),
    "Wheel alignment": ("四轮定位", "휠 얼라인먼트"),
    "Bulb replacement": ("更换灯泡", "전구 교환"),
    "Dent and scratch repair (panel)": ("钣金喷漆（每面）", "덴트 및 스크래치 수리 (패널)"),
    "High-voltage battery check": ("高压电池检测", "고전압 배터리 점검"),
    "Coolant replacement": ("更换冷却液", "냉각수 교환"),
    # parts
    "Oil filter": ("机油滤清器", "오일필터"),
    "Engine oil 0W-20 4 L": ("机油 0W-20 4升", "엔진오일 0W-20 4L"),
    "Air filter element": ("空气滤芯", "에어필터 엘리먼트"),
    "Cabin air filter": ("空调滤芯", "에어컨 필터"),
    "Brake fluid DOT 4 1 L": ("制动液 DOT 4 1升", "브레이크액 DOT 4 1L"),
    "Spark plug (each)": ("火花塞（每个）", "점화플러그 (개당)"),
    "Front brake pads (set)": ("前刹车片（套）", "앞 브레이크 패드 (세트)"),
    "12 V battery 60 Ah": ("12V 蓄电池 60Ah", "12V 배터리 60Ah"),
    "Wiper blade (each)": ("雨刮片（每个）", "와이퍼 블레이드 (개당)"),
    "Tyre 215/55 R17 (each)": ("轮胎 215/55 R17（每条）", "타이어 215/55 R17 (개당)"),
    "Headlamp bulb H11": ("前照灯灯泡 H11", "전조등 전구 H11"),
    "Long-life coolant 2 L": ("长效冷却液 2升", "장수명 냉각수 2L"),
    # packages and their descriptions
    "10,000 km service": ("10,000公里保养", "10,000km 정비"),
    "20,000 km service": ("20,000公里保养", "20,000km 정비"),
    "40,000 km service": ("40,000公里保养", "40,000km 정비"),
    "EV annual check": ("电动车年度检查", "전기차 연간 점검"),
    "Oil and filter, inspection.": ("机油及滤清器，全车检查。", "오일 및 필터, 점검."),
    "Oil, filters, tyre rotation, inspection.": (
        "机油、滤清器、轮胎换位，全车检查。",
        "오일, 필터, 타이어 위치 교환, 점검.",
    ),
    "Oil, filters, brake fluid, spark plugs, inspection.": (
        "机油、滤清器、制动液、火花塞，全车检查。",
        "오일, 필터, 브레이크액, 점화플러그, 점검.",
    ),
    "High-voltage battery check, cabin filter, inspection.": (
        "高压电池检测、空调滤清器，全车检查。",
        "고전압 배터리 점검, 에어컨 필터, 점검.",
    ),
    # maintenance schedule items
    "Engine oil and filter": ("机油及机油滤清器", "엔진오일 및 오일필터"),
    "Air filter": ("空气滤清器", "에어필터"),
    "Cabin filter": ("空调滤清器", "에어컨 필터"),
    "Tyre rotation": ("轮胎换位", "타이어 위치 교환"),
    "Brake fluid": ("制动液", "브레이크액"),
    "Spark plugs": ("火花塞", "점화플러그"),
    "Coolant": ("冷却液", "냉각수"),
    # inspection checklist
    "Front brake pads": ("前刹车片", "앞 브레이크 패드"),
    "Rear brake pads": ("后刹车片", "뒤 브레이크 패드"),
    "Tyres": ("轮胎", "타이어"),
    "12 V battery": ("12V 蓄电池", "12V 배터리"),
    "Fluids (coolant, brake, washer)": (
        "油液（冷却液、制动液、玻璃水）",
        "각종 오일류 (냉각수, 브레이크액, 워셔액)",
    ),
    "Lights": ("灯光", "등화류"),
    "Wipers": ("雨刮", "와이퍼"),
}


def names(english: str) -> dict:
    """The `*_i18n` value for one starter name."""
    zh_hans, ko = NAMES.get(english, ("", ""))
    return {k: v for k, v in {"zh-hans": zh_hans, "en": english, "ko": ko}.items() if v}
