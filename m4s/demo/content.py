"""Content demo: items in every module at each level (headquarters: knowledge, magazines, user's
guide; the Beijing association: traffic, travel, violation-prone areas and the local-life pages
with Beijing's city-food page; Jingcheng: new cars, sales events, service news, prices,
insurance), each in Chinese, English and Korean with a cover drawn in code
(m4s/demo/content_pictures.py, made for this project), knowledge categories, a magazine issue
with its articles, targeted items (Toyota owners, Gold members, owners without a bound car,
Shanghai), one scheduled and one expired item, and some reads.

Everything goes through the content services as staff would: create → submit → approve."""

import datetime as dt

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from m4s.content import reading, search, services
from m4s.content.choices import ActionKind, Status, TargetKind
from m4s.content.models import KnowledgeCategory, MagazineIssue

from .content_pictures import picture

ZH, EN, KO = "zh-hans", "en", "ko"


def _texts(zh, en, ko) -> dict:
    """Each of zh/en/ko: (title, summary, body paragraphs...)."""
    out = {}
    for lang, (title, summary, *paragraphs) in ((ZH, zh), (EN, en), (KO, ko)):
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        out[lang] = {"title": title, "summary": summary, "body_html": body}
    return out


def _upload(kind: str, seed: int, name: str = "cover.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, picture(kind, seed), content_type="image/png")


# (publisher key, module, picture, texts, options)
ITEMS = [
    # --- headquarters -------------------------------------------------------------------------
    (
        "hq",
        "knowledge",
        "bulb",
        _texts(
            (
                "冬季胎压怎么调",
                "气温每降10°C，胎压约降0.1 bar。",
                "天冷时轮胎里的空气会收缩，胎压随之下降。",
                "建议每月冷车时检查一次胎压，按车门边框标签上的数值补气。",
            ),
            (
                "Tyre pressure in winter",
                "Every 10 °C colder costs about 0.1 bar.",
                "Cold air shrinks, so the pressure in your tyres drops in winter.",
                "Check the pressure once a month with cold tyres and inflate to the value on the door-frame label.",
            ),
            (
                "겨울철 타이어 공기압",
                "기온이 10°C 내려가면 공기압은 약 0.1bar 낮아집니다.",
                "추운 날에는 타이어 속 공기가 수축해 공기압이 떨어집니다.",
                "한 달에 한 번 타이어가 식은 상태에서 공기압을 확인하고 도어 라벨의 값으로 맞추세요.",
            ),
        ),
        {"category": "tyres", "pinned": True, "tags": ["tyres", "winter"]},
    ),
    (
        "hq",
        "knowledge",
        "wrench",
        _texts(
            (
                "机油多久换一次",
                "看保养手册：一般5000到10000公里。",
                "矿物油约5000公里，全合成机油可到10000公里。",
                "经常短途、堵车或高温地区行驶，应缩短更换周期。",
            ),
            (
                "How often to change the oil",
                "Your service book says: usually every 5,000 to 10,000 km.",
                "Mineral oil lasts about 5,000 km, fully synthetic oil up to 10,000 km.",
                "Short trips, traffic jams and hot weather call for shorter intervals.",
            ),
            (
                "엔진오일 교체 주기",
                "정비 수첩 기준으로 보통 5,000~10,000km입니다.",
                "광유는 약 5,000km, 합성유는 최대 10,000km까지 사용합니다.",
                "짧은 거리 주행, 정체, 더운 지역에서는 주기를 줄이세요.",
            ),
        ),
        {"category": "maintenance", "tags": ["oil"]},
    ),
    (
        "hq",
        "knowledge",
        "car",
        _texts(
            (
                "电动车电池保养",
                "电量保持在20%到80%之间最省电池。",
                "日常使用时尽量不要把电量用尽，也不必每天充满。",
                "长途出发前再充到100%，高温天气避免暴晒后立刻快充。",
            ),
            (
                "Caring for an EV battery",
                "Keeping the charge between 20% and 80% is kindest to the battery.",
                "Avoid running the battery flat in daily driving, and there is no need to charge to full every day.",
                "Charge to 100% before a long trip; on hot days let the car cool before fast charging.",
            ),
            (
                "전기차 배터리 관리",
                "충전량을 20~80%로 유지하면 배터리에 가장 좋습니다.",
                "평소에는 배터리를 완전히 방전시키지 말고 매일 100% 충전할 필요도 없습니다.",
                "장거리 출발 전에만 100% 충전하고, 더운 날에는 차를 식힌 뒤 급속 충전하세요.",
            ),
        ),
        {"category": "ev", "bound_car": True, "tags": ["ev", "battery"]},
    ),
    (
        "hq",
        "knowledge",
        "shield",
        _texts(
            (
                "还没绑定爱车？",
                "绑定后可以预约保养、看车况、收提醒。",
                "在门店扫顾问的二维码，或在“我的车”里输入车架号即可绑定。",
                "绑定后，保养提醒、违章和车况都会自动推送给您。",
            ),
            (
                "Not bound your car yet?",
                "Bind it to book service, see its health and get reminders.",
                "Scan your consultant's QR code at the store, or enter the VIN under “My car”.",
                "Once bound, service reminders, violations and your car's health come to you.",
            ),
            (
                "아직 차량을 연결하지 않으셨나요?",
                "연결하면 정비 예약, 차량 상태 확인, 알림을 받을 수 있습니다.",
                "매장에서 상담사의 QR 코드를 스캔하거나 '내 차'에서 차대번호를 입력하세요.",
                "연결 후에는 정비 알림, 위반 내역, 차량 상태가 자동으로 전달됩니다.",
            ),
        ),
        {"category": "maintenance", "bound_car": False},
    ),
    (
        "hq",
        "magazines",
        "mountains",
        _texts(
            (
                "春日自驾：京郊五条路线",
                "从怀柔到延庆，一天来回。",
                "春天的京郊山花烂漫，适合周末自驾。",
                "推荐路线：怀柔雁栖湖、延庆百里山水画廊、密云古北水镇。出发前检查胎压和雨刮。",
            ),
            (
                "Spring drives: five routes around Beijing",
                "From Huairou to Yanqing, there and back in a day.",
                "The hills around Beijing bloom in spring: perfect for a weekend drive.",
                "Our picks: Yanqi Lake in Huairou, the Yanqing mountain gallery, Gubei Water Town in Miyun. Check the tyres and wipers before you go.",
            ),
            (
                "봄 드라이브: 베이징 근교 5개 코스",
                "화이러우에서 옌칭까지 당일 코스.",
                "봄의 베이징 근교는 꽃이 만발해 주말 드라이브에 좋습니다.",
                "추천: 화이러우 옌치호, 옌칭 산수화랑, 미윈 구베이수이진. 출발 전 타이어와 와이퍼를 점검하세요.",
            ),
        ),
        {"issue": 1},
    ),
    (
        "hq",
        "magazines",
        "car",
        _texts(
            (
                "车主故事：十年一辆车",
                "一位老车主和他的凯美瑞。",
                "王先生2015年买下这辆车，十年来每次保养都在同一家店。",
                "“车就像老朋友，按时保养，它就不会让你失望。”",
            ),
            (
                "Owner story: ten years, one car",
                "A long-time owner and his Camry.",
                "Mr Wang bought his car in 2015 and has had every service at the same store since.",
                "“A car is an old friend: look after it on time and it will not let you down.”",
            ),
            (
                "차주 이야기: 한 차와 10년",
                "오랜 차주와 그의 캠리.",
                "왕 선생은 2015년에 차를 사서 10년 동안 같은 매장에서 정비를 받았습니다.",
                "“차는 오랜 친구입니다. 제때 관리하면 실망시키지 않아요.”",
            ),
        ),
        {"issue": 1},
    ),
    (
        "hq",
        "magazines",
        "bowl",
        _texts(
            (
                "路上的美食：服务区吃什么",
                "高速服务区的地方特色。",
                "越来越多的服务区有了地方小吃。",
                "京承高速的驴肉火烧、京港澳高速的保定卤味，都值得停车一尝。",
            ),
            (
                "Food on the road: what to eat at service areas",
                "Local specialities at motorway stops.",
                "More and more motorway service areas serve local snacks.",
                "Donkey-meat burgers on the Jingcheng motorway and Baoding braised dishes on the G4 are worth a stop.",
            ),
            (
                "길 위의 맛: 휴게소 먹거리",
                "고속도로 휴게소의 지역 특색 음식.",
                "점점 더 많은 휴게소에서 지역 간식을 팝니다.",
                "징청 고속도로의 당나귀 고기 훠사오, G4의 바오딩 조림은 들러볼 만합니다.",
            ),
        ),
        {"issue": 1},
    ),
    (
        "hq",
        "guide",
        "book",
        _texts(
            (
                "如何预约保养",
                "三步完成：选套餐、选时间、确认。",
                "在首页点“保养预约”，选择您的车和保养套餐。",
                "选一个空闲时段并确认，我们会在前一天提醒您。",
            ),
            (
                "How to book a service",
                "Three steps: package, time, confirm.",
                "Tap “Maintenance booking” on the home page and pick your car and package.",
                "Choose a free slot and confirm: we remind you the day before.",
            ),
            (
                "정비 예약 방법",
                "패키지 선택, 시간 선택, 확인의 3단계.",
                "홈 화면에서 '정비 예약'을 누르고 차량과 패키지를 고르세요.",
                "빈 시간대를 선택해 확인하면 전날 알려드립니다.",
            ),
        ),
        {"action": (ActionKind.BOOK, "")},
    ),
    (
        "hq",
        "guide",
        "shield",
        _texts(
            (
                "遇到事故怎么办",
                "先安全，再拍照，最后报案。",
                "打开双闪，在车后放置三角警示牌，人员撤到护栏外。",
                "拍下现场和车损照片，拨打122和保险公司电话；App里的SOS一键直拨。",
            ),
            (
                "What to do after an accident",
                "Safety first, then photos, then report.",
                "Turn on the hazard lights, place the warning triangle behind the car and get everyone behind the barrier.",
                "Photograph the scene and the damage, call 122 and your insurer; SOS in the app calls with one tap.",
            ),
            (
                "사고가 났을 때",
                "안전 먼저, 사진, 그리고 신고.",
                "비상등을 켜고 차 뒤에 삼각대를 세운 뒤 가드레일 밖으로 대피하세요.",
                "현장과 파손 사진을 찍고 122와 보험사에 연락하세요. 앱의 SOS로 바로 전화할 수 있습니다.",
            ),
        ),
        {},
    ),
    (
        "hq",
        "knowledge",
        "tag",
        _texts(
            (
                "金卡会员专享：机场贵宾厅",
                "金卡及以上会员每年两次免费使用。",
                "出示会员码即可在首都机场T3贵宾厅休息。",
                "名额有限，请提前一天在App预约。",
            ),
            (
                "Gold members: the airport lounge",
                "Gold members and above: two free visits a year.",
                "Show your member code at the Capital Airport T3 lounge.",
                "Places are limited: reserve in the app a day ahead.",
            ),
            (
                "골드 회원 전용: 공항 라운지",
                "골드 이상 회원은 연 2회 무료 이용.",
                "서우두 공항 T3 라운지에서 회원 코드를 보여주세요.",
                "자리가 한정되어 있으니 하루 전에 앱에서 예약하세요.",
            ),
        ),
        {"category": "members", "targets": {TargetKind.TIER: ["Gold", "Platinum"]}},
    ),
    (
        "hq",
        "knowledge",
        "train",
        _texts(
            (
                "上海车主：外环限行新规",
                "仅面向上海的车主。",
                "上海外牌车辆高峰时段限行范围调整。",
                "请以交警发布为准。",
            ),
            (
                "Shanghai owners: new outer-ring limits",
                "For owners in Shanghai only.",
                "Non-Shanghai plates face new peak-hour limits.",
                "The traffic police's notice is what counts.",
            ),
            (
                "상하이 차주: 외곽 순환도로 새 제한",
                "상하이 차주 전용.",
                "타지역 번호판 차량의 출퇴근 시간 제한이 바뀝니다.",
                "교통경찰 공지를 기준으로 하세요.",
            ),
        ),
        {"category": "maintenance", "targets": {TargetKind.CITY: ["Shanghai"]}},
    ),
    # --- the Beijing association (local organisation) ------------------------------------------
    (
        "editor",
        "city_food",
        "bowl",
        _texts(
            (
                "舌尖上的北京：烤鸭地图",
                "从全聚德到胡同小馆，车主推荐的八家烤鸭店。",
                "北京烤鸭讲究枣木挂炉，皮脆肉嫩。",
                "车主票选：前门全聚德、便宜坊焖炉烤鸭、四季民福。多数店有停车场，周末请提前订位。",
            ),
            (
                "A bite of Beijing: the roast duck map",
                "From Quanjude to hutong kitchens: eight places owners recommend.",
                "Beijing roast duck is hung over a jujube-wood fire: crisp skin, tender meat.",
                "Owners' picks: Quanjude at Qianmen, Bianyifang's oven duck, Siji Minfu. Most have parking; book ahead at weekends.",
            ),
            (
                "베이징의 맛: 오리구이 지도",
                "취안쥐더부터 후통 식당까지, 차주 추천 8곳.",
                "베이징 오리구이는 대추나무 화덕에 걸어 구워 껍질은 바삭하고 살은 부드럽습니다.",
                "차주 추천: 첸먼 취안쥐더, 볜이팡, 쓰지민푸. 대부분 주차장이 있으며 주말에는 미리 예약하세요.",
            ),
        ),
        {"pinned": True, "tags": ["beijing", "food"], "gallery": ["bowl", "compass"]},
    ),
    (
        "editor",
        "nightlife",
        "moon",
        _texts(
            (
                "夜游什刹海",
                "湖边酒吧和夜景，代驾回家。",
                "什刹海的夜晚灯火通明，湖边小酒吧林立。",
                "喝酒不开车：App里可以叫代驾，停车场在地安门西大街。",
            ),
            (
                "Shichahai by night",
                "Lakeside bars and lights; a designated driver home.",
                "Shichahai glows at night, its shore lined with small bars.",
                "Don't drink and drive: call a designated driver in the app; parking is on Di'anmen West Street.",
            ),
            (
                "스차하이의 밤",
                "호숫가 바와 야경, 대리운전으로 귀가.",
                "스차하이의 밤은 불빛으로 가득하고 호숫가에 작은 바가 늘어서 있습니다.",
                "음주 후에는 운전하지 마세요. 앱에서 대리운전을 부를 수 있으며 주차장은 디안먼 서대가에 있습니다.",
            ),
        ),
        {},
    ),
    (
        "editor",
        "city_tours",
        "compass",
        _texts(
            (
                "一日游：长城与十三陵",
                "自驾最顺的一条线。",
                "早上出发先去慕田峪长城，人少景美。",
                "下午去十三陵的定陵，傍晚走京藏高速回城。",
            ),
            (
                "Day trip: the Great Wall and the Ming Tombs",
                "The smoothest self-drive loop.",
                "Leave early for Mutianyu: fewer people, great views.",
                "Afternoon at Dingling in the Ming Tombs, back on the G6 in the evening.",
            ),
            (
                "당일 여행: 만리장성과 명십삼릉",
                "가장 편한 자가용 코스.",
                "아침 일찍 무톈위 장성으로 가면 사람이 적고 경치가 좋습니다.",
                "오후에는 명십삼릉 정릉, 저녁에는 G6로 귀가.",
            ),
        ),
        {},
    ),
    (
        "editor",
        "fashion",
        "shirt",
        _texts(
            (
                "三里屯周末市集",
                "设计师品牌与汽车文化展。",
                "本周末三里屯太古里北区有设计师市集。",
                "同场有经典车展示，地下停车场周末不限时。",
            ),
            (
                "Sanlitun weekend market",
                "Designer labels and a car-culture show.",
                "Sanlitun Taikoo Li North hosts a designer market this weekend.",
                "Classic cars on show too; the underground car park has no time limit at weekends.",
            ),
            (
                "싼리툰 주말 마켓",
                "디자이너 브랜드와 자동차 문화 전시.",
                "이번 주말 싼리툰 타이쿠리 북쪽에서 디자이너 마켓이 열립니다.",
                "클래식카 전시도 있으며 주말에는 지하 주차장 이용 시간 제한이 없습니다.",
            ),
        ),
        {},
    ),
    (
        "editor",
        "travel_china",
        "mountains",
        _texts(
            (
                "自驾川西：准备清单",
                "高原行车的十件事。",
                "出发前做一次全面检查：刹车、轮胎、冷却液。",
                "高原注意防晒和补水，山路下坡用低挡。",
            ),
            (
                "Driving western Sichuan: a checklist",
                "Ten things for high-altitude driving.",
                "Have a full check before leaving: brakes, tyres, coolant.",
                "At altitude mind the sun and drink water; use a low gear downhill.",
            ),
            (
                "쓰촨 서부 자가용 여행 체크리스트",
                "고원 운전을 위한 10가지.",
                "출발 전 브레이크, 타이어, 냉각수를 점검하세요.",
                "고원에서는 자외선과 수분 보충에 주의하고 내리막에서는 저단 기어를 쓰세요.",
            ),
        ),
        {"action": (ActionKind.BOOK, "")},
    ),
    (
        "editor",
        "travel_info",
        "train",
        _texts(
            (
                "春运高铁：北京南站停车指南",
                "提前预约P1停车场。",
                "春运期间北京南站停车位紧张，建议提前在线预约。",
                "也可以把车留在家，乘地铁4号线直达。",
            ),
            (
                "Spring Festival trains: parking at Beijing South",
                "Reserve car park P1 ahead.",
                "Parking at Beijing South is scarce during the Spring Festival rush: reserve online.",
                "Or leave the car at home: metro line 4 goes straight there.",
            ),
            (
                "춘절 고속철: 베이징남역 주차 안내",
                "P1 주차장을 미리 예약하세요.",
                "춘절 기간 베이징남역은 주차 공간이 부족하니 온라인으로 미리 예약하세요.",
                "차를 두고 지하철 4호선을 이용해도 됩니다.",
            ),
        ),
        {},
    ),
    (
        "editor",
        "violation_info",
        "pin",
        _texts(
            (
                "五一假期限行调整",
                "假期不限行，节后恢复。",
                "五一假期期间北京市机动车不按尾号限行。",
                "节后第一个工作日恢复正常限行。",
            ),
            (
                "May Day: no driving restrictions",
                "None during the holiday; back to normal after.",
                "During the May Day holiday Beijing lifts the number-plate restrictions.",
                "Normal restrictions return on the first working day after.",
            ),
            (
                "노동절 운행 제한 해제",
                "연휴 중 제한 없음, 이후 정상화.",
                "노동절 연휴 동안 베이징은 번호판 끝자리 운행 제한을 해제합니다.",
                "연휴 후 첫 근무일부터 정상 제한이 다시 적용됩니다.",
            ),
        ),
        {},
    ),
    (
        "editor",
        "violation_areas",
        "pin",
        _texts(
            (
                "易违章路段提醒：东三环",
                "这些地方最容易被拍。",
                "以下路段有违停抓拍和实线变道抓拍。",
                "请按导航提示提前变道，不要在公交车道停车。",
            ),
            (
                "Violation hot spots: East Third Ring",
                "Where cameras catch most drivers.",
                "These spots have parking and solid-line lane-change cameras.",
                "Change lanes early as your navigation says; never stop in a bus lane.",
            ),
            (
                "위반 다발 구간: 동3환",
                "단속 카메라가 많은 곳.",
                "다음 구간에는 불법 주정차 및 실선 차로 변경 단속 카메라가 있습니다.",
                "내비게이션 안내에 따라 미리 차로를 바꾸고 버스 차로에 정차하지 마세요.",
            ),
        ),
        {
            "places": [
                {
                    "name": "国贸桥 Guomao Bridge",
                    "address": "东三环中路",
                    "lat": 39.9087,
                    "lon": 116.4602,
                },
                {
                    "name": "双井桥 Shuangjing Bridge",
                    "address": "东三环南路",
                    "lat": 39.8937,
                    "lon": 116.4614,
                },
                {
                    "name": "三元桥 Sanyuan Bridge",
                    "address": "东三环北路",
                    "lat": 39.9606,
                    "lon": 116.4563,
                },
            ]
        },
    ),
    # --- Jingcheng Auto Group (dealer) ---------------------------------------------------------
    (
        "groupadmin",
        "new_cars",
        "car",
        _texts(
            (
                "全新凯美瑞到店",
                "混动版油耗4.1升，欢迎试驾。",
                "第九代凯美瑞双擎到店，朝阳和海淀两店都有展车。",
                "预约试驾即送精美礼品一份。",
            ),
            (
                "The new Camry is here",
                "The hybrid uses 4.1 l/100 km: come for a test drive.",
                "The ninth-generation Camry hybrid is in both the Chaoyang and Haidian showrooms.",
                "Book a test drive and take home a gift.",
            ),
            (
                "신형 캠리 입고",
                "하이브리드 연비 4.1L/100km, 시승하러 오세요.",
                "9세대 캠리 하이브리드가 차오양과 하이뎬 두 매장에 전시되어 있습니다.",
                "시승을 예약하시면 선물을 드립니다.",
            ),
        ),
        {"action": (ActionKind.TEST_DRIVE, ""), "tags": ["camry"]},
    ),
    (
        "groupadmin",
        "sales_events",
        "megaphone",
        _texts(
            (
                "周末团购会",
                "到店即享置换补贴。",
                "本周六日在朝阳店举办团购会，现场签约享额外优惠。",
                "老车主推荐新客户成交，双方各得积分。",
            ),
            (
                "Weekend group-buy",
                "Trade-in bonus for every visitor.",
                "This weekend's group-buy at the Chaoyang store: extra savings for contracts signed on the day.",
                "Refer a friend who buys: you both earn points.",
            ),
            (
                "주말 공동구매 행사",
                "방문 고객 모두 보상 판매 혜택.",
                "이번 주말 차오양 매장에서 공동구매 행사가 열리며 현장 계약 시 추가 할인이 있습니다.",
                "기존 차주가 신규 고객을 추천해 계약하면 두 사람 모두 포인트를 받습니다.",
            ),
        ),
        {"pinned": True, "action": (ActionKind.EVENT, "")},
    ),
    (
        "groupadmin",
        "service_news",
        "wrench",
        _texts(
            (
                "丰田车主：冬季免费检测",
                "30项检测，免工时费。",
                "12月起丰田车主到店可享30项冬季免费检测。",
                "包括电瓶、防冻液、轮胎和灯光。",
            ),
            (
                "Toyota owners: free winter check",
                "30 points, no labour charge.",
                "From December Toyota owners get a free 30-point winter check.",
                "Battery, antifreeze, tyres and lights included.",
            ),
            (
                "토요타 차주: 겨울 무료 점검",
                "30개 항목, 공임 무료.",
                "12월부터 토요타 차주는 30개 항목 겨울 점검을 무료로 받을 수 있습니다.",
                "배터리, 부동액, 타이어, 조명 포함.",
            ),
        ),
        {"targets": {TargetKind.BRAND: ["Toyota"]}, "action": (ActionKind.BOOK, "")},
    ),
    (
        "groupadmin",
        "service_news",
        "wrench",
        _texts(
            (
                "周六免费洗车",
                "保养车主每周六可免费洗车一次。",
                "凡在本店保养过的车主，每周六上午可到店免费洗车。",
                "洗车期间可在休息区享用咖啡。",
            ),
            (
                "Free car wash on Saturdays",
                "Serviced with us? One free wash every Saturday.",
                "Owners who service their car with us get a free wash on Saturday mornings.",
                "Have a coffee in the lounge while you wait.",
            ),
            (
                "토요일 무료 세차",
                "저희 매장에서 정비한 차주는 매주 토요일 1회 무료 세차.",
                "저희 매장에서 정비를 받은 차주는 토요일 오전에 무료로 세차할 수 있습니다.",
                "기다리는 동안 라운지에서 커피를 즐기세요.",
            ),
        ),
        {"tags": ["wash"]},
    ),
    (
        "groupadmin",
        "prices",
        "tag",
        _texts(
            (
                "新价目表已发布",
                "工时费不变，部分配件降价。",
                "新一年的保养价目表已经生效。",
                "所有价格均为含税价，结算按价目表执行。",
            ),
            (
                "The new price list is out",
                "Labour rates unchanged, some parts cheaper.",
                "This year's service price list is in force.",
                "All prices include tax; invoices are settled at these prices.",
            ),
            (
                "새 가격표 발표",
                "공임 동결, 일부 부품 가격 인하.",
                "올해 정비 가격표가 적용되었습니다.",
                "모든 가격은 세금 포함이며 정산은 가격표대로 진행됩니다.",
            ),
        ),
        {},
    ),
    (
        "groupadmin",
        "insurance",
        "shield",
        _texts(
            (
                "车险续保提醒",
                "到期前30天续保享9折。",
                "店内可一站式办理交强险和商业险。",
                "出险后拨打店内救援电话，我们协助理赔。",
            ),
            (
                "Car insurance renewal",
                "10% off when you renew 30 days ahead.",
                "Compulsory and commercial insurance in one stop at the store.",
                "After an accident call the store's rescue line: we help with the claim.",
            ),
            (
                "자동차 보험 갱신 안내",
                "만기 30일 전 갱신 시 10% 할인.",
                "매장에서 책임보험과 종합보험을 한 번에 처리할 수 있습니다.",
                "사고 후 매장 구조 전화로 연락하시면 보험 청구를 도와드립니다.",
            ),
        ),
        {},
    ),
    (
        "groupadmin",
        "service_news",
        "bulb",
        _texts(
            (
                "春节营业时间",
                "除夕到初三休息。",
                "春节期间门店营业时间调整。",
                "紧急救援24小时不停。",
            ),
            (
                "Spring Festival opening hours",
                "Closed from New Year's Eve to day three.",
                "Our stores change their hours over the Spring Festival.",
                "Emergency rescue runs 24 hours.",
            ),
            (
                "춘절 영업시간",
                "섣달그믐부터 초사흘까지 휴무.",
                "춘절 기간 매장 영업시간이 변경됩니다.",
                "긴급 구조는 24시간 운영합니다.",
            ),
        ),
        {"schedule_in_days": 20},
    ),
    (
        "groupadmin",
        "sales_events",
        "megaphone",
        _texts(
            (
                "国庆购车节（已结束）",
                "活动已结束，感谢参与。",
                "国庆购车节已圆满结束。",
                "感谢所有到店的车主朋友。",
            ),
            (
                "National Day car fair (over)",
                "The fair is over: thank you.",
                "The National Day car fair has ended.",
                "Thank you to everyone who came.",
            ),
            (
                "국경절 자동차 박람회(종료)",
                "행사가 끝났습니다. 감사합니다.",
                "국경절 자동차 박람회가 종료되었습니다.",
                "방문해 주신 모든 분께 감사드립니다.",
            ),
        ),
        {"expire": True},
    ),
]

CATEGORIES = {
    "tyres": ({ZH: "轮胎", EN: "Tyres", KO: "타이어"}, 1),
    "maintenance": ({ZH: "保养", EN: "Maintenance", KO: "정비"}, 2),
    "ev": ({ZH: "新能源", EN: "Electric cars", KO: "전기차"}, 3),
    "members": ({ZH: "会员", EN: "Members", KO: "회원"}, 4),
}


def _categories(hq) -> dict[str, KnowledgeCategory]:
    return {
        key: services.create_category(hq, name=names[EN], name_i18n=names, position=position)
        for key, (names, position) in CATEGORIES.items()
    }


def _issue(hq) -> MagazineIssue:
    names = {ZH: "春天来了", EN: "Spring is here", KO: "봄이 왔어요"}
    return services.create_issue(
        hq,
        title=names[EN],
        title_i18n=names,
        number=1,
        cover=_upload("mountains", 99, "issue-1.png"),
        published_on=timezone.localdate(),
    )


def _event_id(group) -> str:
    try:
        from m4s.events.models import Event
    except ImportError:  # pragma: no cover - the events app is installed with content
        return ""
    found = (
        Event.objects.unscoped()
        .filter(dealer_group=group, starts_at__gt=timezone.now())
        .order_by("starts_at")
        .values_list("pk", flat=True)
        .first()
    )
    return str(found) if found else ""


def build_content_demo(*, staff: dict, owners: list, stores: dict) -> list:
    """Publish the demo content as its publishers would; return the items."""
    categories = _categories(staff["hq"])
    issue = _issue(staff["hq"])
    group = stores["chaoyang"].dealer_group
    now = timezone.now()
    items = []
    for n, (who, module, kind, texts, opts) in enumerate(ITEMS):
        actor = staff[who]
        fields: dict = {"source_language": ZH}
        if opts.get("pinned"):
            fields["pinned"] = True
        if opts.get("tags"):
            fields["tags"] = opts["tags"]
        if opts.get("places"):
            fields["places"] = opts["places"]
        if opts.get("category"):
            fields["category_id"] = categories[opts["category"]].pk
        if opts.get("issue"):
            fields["issue_id"] = issue.pk
        if "action" in opts:
            action_kind, target = opts["action"]
            if action_kind == ActionKind.EVENT:
                target = _event_id(group)
                if not target:
                    action_kind = ActionKind.NONE
            fields["action_kind"], fields["action_target"] = action_kind, target
        if opts.get("schedule_in_days"):
            fields["publish_at"] = now + dt.timedelta(days=opts["schedule_in_days"])
        else:  # spread the publish times so the feeds have an order
            fields["publish_at"] = now - dt.timedelta(hours=6 * (len(ITEMS) - n))
        item = services.create_item(
            actor,
            module=module,
            translations=texts,
            targets=opts.get("targets"),
            bound_car=opts.get("bound_car"),
            **fields,
        )
        services.set_cover(actor, item, _upload(kind, n))
        for i, extra in enumerate(opts.get("gallery", [])):
            services.add_image(actor, item, _upload(extra, 100 + i, f"picture-{i}.png"), "")
        services.submit(actor, item)
        services.approve(actor, item)
        if opts.get("expire"):
            services.expire(actor, item)
        item.refresh_from_db()
        items.append(item)
    for item in items:  # approve indexes after commit; the demo may run inside a transaction
        if item.status == Status.PUBLISHED:
            search.index_item(item)
    # some reads: every owner opened the pinned city-food page, two read the tyre tip twice
    live = {(i.module, i.pinned): i for i in items}
    food, tyres = live.get(("city_food", True)), live.get(("knowledge", True))
    for owner in owners:
        if food is not None:
            reading.record_view(owner, food)
    for owner in owners[:2]:
        if tyres is not None:
            reading.record_view(owner, tyres)
            reading.record_view(owner, tyres)
    return items
