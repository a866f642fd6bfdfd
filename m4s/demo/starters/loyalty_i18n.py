"""The starter programme's names in every language (Simplified Chinese, English, Korean), so a
demo is translated at first sight. `names(english)` gives the `*_i18n` value for a source name."""

# English source: (简体中文, 한국어)
NAMES = {
    # tiers and their benefits
    "Silver": ("银卡", "실버"),
    "Gold": ("金卡", "골드"),
    "Platinum": ("白金卡", "플래티넘"),
    "Points on every paid service.": (
        "每次付费保养维修均可积分。",
        "모든 유료 정비에 포인트 적립.",
    ),
    "1.25× points, 5 % off labour, free car wash every visit.": (
        "1.25倍积分，工时费95折，每次到店免费洗车。",
        "포인트 1.25배, 공임 5% 할인, 방문 시마다 무료 세차.",
    ),
    "1.5× points, 10 % off labour, free pick-up and delivery.": (
        "1.5倍积分，工时费9折，免费上门取送车。",
        "포인트 1.5배, 공임 10% 할인, 무료 픽업 및 배송.",
    ),
    # earning rules (they are the reasons on the points history)
    "Paid service": ("付费保养维修", "유료 정비"),
    "Kept appointment": ("按预约到店", "예약 시간 준수"),
    "Answered the survey": ("完成回访问卷", "설문 응답"),
    "Bound a car": ("绑定车辆", "차량 연동"),
    "A friend joined": ("好友加入", "친구 가입"),
    "A friend's friend joined": ("好友的好友加入", "친구의 친구 가입"),
    "Story approved": ("用车故事通过审核", "스토리 승인"),
    "Like received": ("获得点赞", "좋아요 받음"),
    "Event check-in": ("活动签到", "이벤트 체크인"),
    # rewards and their descriptions
    "Car wash": ("洗车", "세차"),
    "A hand wash at the store.": ("到店人工洗车一次。", "매장에서 손세차 1회."),
    "Cabin filter replacement": ("更换空调滤清器", "에어컨 필터 교환"),
    "Parts and labour included.": ("含配件及工时。", "부품 및 공임 포함."),
    "Travel mug": ("旅行保温杯", "여행용 텀블러"),
    "Interior detailing": ("内饰精洗", "실내 디테일링"),
    "Sparkle premium wash": ("闪亮精致洗车", "스파클 프리미엄 세차"),
    # badges and missions
    "Punctual": ("守时达人", "시간 엄수"),
    "Three services on time in a year.": (
        "一年内三次按时到店保养。",
        "1년 안에 세 번 제시간에 정비.",
    ),
    "Explorer": ("探索者", "탐험가"),
    "Five different partner stations in 60 days.": (
        "60天内光顾5家不同的合作商户。",
        "60일 안에 서로 다른 제휴처 5곳 방문.",
    ),
    "3 services on time in a year": ("一年内3次按时保养", "1년 안에 3번 제시간 정비"),
    "Visit 5 different partners in 60 days": (
        "60天内光顾5家不同合作商户",
        "60일 안에 제휴처 5곳 방문",
    ),
}


def names(english: str) -> dict:
    """The `*_i18n` value for one starter name."""
    zh_hans, ko = NAMES.get(english, ("", ""))
    return {k: v for k, v in {"zh-hans": zh_hans, "en": english, "ko": ko}.items() if v}
