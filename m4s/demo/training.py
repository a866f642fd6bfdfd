"""Demo staff training (the paper's "business training and testing for the front-layer
consultants"): three courses with their question banks in Chinese, English and Korean, a quiz
per course assigned to the roles it is for, and a few months of attempts (passes, fails,
retakes) by the demo staff, so "My training", the results table and the quiz column of the
scorecards have something to show. Safe to run twice: a group that has courses is left alone."""

import datetime as dt
import random
from collections.abc import Iterable, Mapping

from django.utils import timezone

from m4s.staff.choices import Perm, Role
from m4s.training import services
from m4s.training.models import Course


def _t(zh: str, en: str, ko: str) -> dict:
    return {"zh-hans": zh, "en": en, "ko": ko}


def _q(kind, text, options, correct, explanation):
    return {
        "kind": kind,
        "text": text,
        "options": options,
        "correct": correct,
        "explanation": explanation,
    }


# (title, body, roles, pass mark, questions): every text as (zh, en, ko); the source is Chinese
COURSES = [
    (
        _t(
            "车主 App 绑定与首次响应",
            "Owner app binding and first response",
            "오너 앱 연결과 첫 응답",
        ),
        _t(
            "每位到店车主都应在交车前完成 App 绑定：请出示你本人的二维码，绑定归属于你。"
            "车主在 App 中发来的消息，请在首次响应时限（营业时间计）内回复。",
            "Every owner should bind the app before the car is handed back: show your own QR "
            "code and the binding counts for you. Answer an owner's app message within the "
            "first-response target (counted in business hours).",
            "모든 고객은 차량 인도 전에 앱을 연결해야 합니다. 본인의 QR 코드를 보여 주면 연결 실적이 "
            "본인에게 기록됩니다. 앱 메시지는 첫 응답 목표 시간(영업시간 기준) 안에 답하세요.",
        ),
        [Role.SERVICE_ADVISOR, Role.SALES_CONSULTANT, Role.CUSTOMER_SERVICE],
        80,
        [
            _q(
                "single",
                _t(
                    "车主扫描谁的二维码，绑定才计入你的绑定率？",
                    "Whose QR code must the owner scan for the binding to count for you?",
                    "고객이 누구의 QR 코드를 스캔해야 연결 실적이 본인에게 기록됩니까?",
                ),
                [
                    _t("我本人的二维码", "My own QR code", "내 QR 코드"),
                    _t("门店的二维码", "The store's QR code", "매장 QR 코드"),
                    _t("任何二维码都行", "Any QR code", "아무 QR 코드나"),
                ],
                [0],
                _t(
                    "员工二维码把绑定归属到员工本人。",
                    "A staff QR code attributes the binding to that staff member.",
                    "직원 QR 코드는 연결 실적을 그 직원에게 기록합니다.",
                ),
            ),
            _q(
                "single",
                _t(
                    "首次响应时间如何计算？",
                    "How is first-response time counted?",
                    "첫 응답 시간은 어떻게 계산합니까?",
                ),
                [
                    _t(
                        "按营业时间（含节假日调休）",
                        "In business hours (holidays and make-up days count)",
                        "영업시간 기준(휴일·대체근무일 반영)",
                    ),
                    _t("按自然时间 24 小时", "Around the clock", "24시간 기준"),
                    _t("只算工作日上午", "Weekday mornings only", "평일 오전만"),
                ],
                [0],
                _t(
                    "所有时限都使用同一个营业时间引擎。",
                    "Every target uses the one business-time engine.",
                    "모든 목표 시간은 같은 영업시간 엔진을 씁니다.",
                ),
            ),
            _q(
                "multiple",
                _t(
                    "哪些做法有助于提高绑定率？",
                    "Which help the binding rate?",
                    "연결률을 높이는 방법은?",
                ),
                [
                    _t("交车时出示二维码", "Show the QR code at hand-over", "인도 시 QR 코드 제시"),
                    _t(
                        "说明 App 可预约保养", "Explain app booking of service", "앱 정비 예약 안내"
                    ),
                    _t(
                        "替车主注册账号",
                        "Register the account for the owner",
                        "고객 대신 계정 등록",
                    ),
                    _t("不提 App", "Not mention the app", "앱을 언급하지 않기"),
                ],
                [0, 1],
                _t(
                    "车主本人登录绑定；替人注册违反隐私规则。",
                    "Owners sign in themselves; registering for them breaks the privacy rules.",
                    "고객이 직접 로그인해야 하며 대리 등록은 개인정보 규정 위반입니다.",
                ),
            ),
            _q(
                "single",
                _t(
                    "车主下班后发来消息，应该？",
                    "An owner writes after closing time. You…",
                    "영업시간 후 고객 메시지가 오면?",
                ),
                [
                    _t(
                        "次日营业开始后尽快回复",
                        "Answer first thing the next business morning",
                        "다음 영업일 시작 후 바로 답한다",
                    ),
                    _t("不回复", "Do not answer", "답하지 않는다"),
                    _t("等车主再问", "Wait until they ask again", "다시 물을 때까지 기다린다"),
                ],
                [0],
                _t(
                    "时限在营业时间内继续计算。",
                    "The clock runs on in business hours.",
                    "시간은 영업시간에 계속 계산됩니다.",
                ),
            ),
            _q(
                "multiple",
                _t(
                    "转交会话时应当？",
                    "When handing a conversation over you should…",
                    "대화를 넘길 때는?",
                ),
                [
                    _t("留内部备注说明情况", "Leave an internal note", "내부 메모를 남긴다"),
                    _t(
                        "告诉车主谁来接手",
                        "Tell the owner who takes over",
                        "담당자를 고객에게 알린다",
                    ),
                    _t("直接关闭会话", "Close the conversation", "대화를 닫는다"),
                ],
                [0, 1],
                _t(
                    "关闭会话会让车主的问题无人跟进。",
                    "Closing it leaves the owner's question with nobody.",
                    "닫으면 고객 문의를 아무도 처리하지 않습니다.",
                ),
            ),
        ],
    ),
    (
        _t(
            "服务接待与客户满意度（CSI）",
            "Service reception and CSI",
            "서비스 접수와 고객만족(CSI)",
        ),
        _t(
            "CSI 由服务启动、服务顾问、设施、交车、维修质量五项加权构成。环检时拍照记录，"
            "增项先报价、经车主确认后再施工。",
            "CSI weighs five parts: service initiation, the advisor, the facility, pick-up and "
            "quality. Photograph the walk-around; quote extra work and start it only once the "
            "owner approves.",
            "CSI는 서비스 시작, 서비스 어드바이저, 시설, 인도, 품질의 다섯 항목을 가중 합산합니다. "
            "차량 점검은 사진으로 남기고, 추가 작업은 견적 후 고객 승인 뒤에 시작합니다.",
        ),
        [Role.SERVICE_ADVISOR],
        80,
        [
            _q(
                "single",
                _t(
                    "CSI 中权重最高的一项是？",
                    "Which CSI part weighs most?",
                    "CSI에서 가중치가 가장 큰 항목은?",
                ),
                [
                    _t("维修质量", "Quality", "품질"),
                    _t("设施", "Facility", "시설"),
                    _t("服务启动", "Service initiation", "서비스 시작"),
                ],
                [0],
                _t(
                    "质量 24%，设施与交车各 21%。",
                    "Quality 24 %, facility and pick-up 21 % each.",
                    "품질 24%, 시설과 인도 각 21%.",
                ),
            ),
            _q(
                "single",
                _t(
                    "增项维修何时开始施工？",
                    "When may extra work start?",
                    "추가 작업은 언제 시작할 수 있습니까?",
                ),
                [
                    _t(
                        "车主在 App 或现场确认后",
                        "Once the owner approves in the app or at the desk",
                        "고객이 앱이나 현장에서 승인한 뒤",
                    ),
                    _t(
                        "技师发现后立即",
                        "As soon as the technician finds it",
                        "기술자가 발견하는 즉시",
                    ),
                    _t("交车时再说", "Tell them at pick-up", "인도할 때 알린다"),
                ],
                [0],
                _t(
                    "未经确认的增项是投诉的主要原因。",
                    "Unapproved work is a leading cause of complaints.",
                    "승인 없는 작업은 주요 불만 원인입니다.",
                ),
            ),
            _q(
                "multiple",
                _t(
                    "环检时应记录哪些内容？",
                    "What does the walk-around record?",
                    "차량 점검 시 기록할 내용은?",
                ),
                [
                    _t("外观损伤照片", "Photos of body damage", "외관 손상 사진"),
                    _t("里程和油量", "Mileage and fuel", "주행거리와 연료량"),
                    _t("车主的收入", "The owner's income", "고객 소득"),
                ],
                [0, 1],
                _t(
                    "只记录与车辆有关的信息。",
                    "Record only what concerns the car.",
                    "차량에 관한 정보만 기록합니다.",
                ),
            ),
            _q(
                "single",
                _t("NPS 打 6 分的车主属于？", "An owner who gives NPS 6 is a…", "NPS 6점 고객은?"),
                [
                    _t("贬损者", "Detractor", "비추천 고객"),
                    _t("中立者", "Passive", "중립 고객"),
                    _t("推荐者", "Promoter", "추천 고객"),
                ],
                [0],
                _t(
                    "0–6 为贬损者，9–10 为推荐者。",
                    "0–6 detractors, 9–10 promoters.",
                    "0–6 비추천, 9–10 추천.",
                ),
            ),
            _q(
                "single",
                _t(
                    "返修车辆到店，应该？",
                    "A car comes back for the same fault. You…",
                    "같은 고장으로 재입고하면?",
                ),
                [
                    _t(
                        "优先安排并记录为返修",
                        "Give it priority and record it as a comeback",
                        "우선 배정하고 재수리로 기록한다",
                    ),
                    _t("按普通预约排队", "Queue it like any booking", "일반 예약처럼 대기시킨다"),
                    _t("建议车主去别家", "Suggest another workshop", "다른 정비소를 권한다"),
                ],
                [0],
                _t(
                    "一次修复率是门店的关键指标。",
                    "First-time fix is a key store figure.",
                    "1회 수리율은 매장의 핵심 지표입니다.",
                ),
            ),
        ],
    ),
    (
        _t("销售线索跟进", "Following up sales leads", "판매 리드 관리"),
        _t(
            "每条线索都要有下次跟进日期；试驾后 24 小时内回访；丢单时记录原因。",
            "Every lead has a next follow-up date; call back within 24 hours of a test drive; "
            "record the reason when a lead is lost.",
            "모든 리드에는 다음 연락일이 있어야 합니다. 시승 후 24시간 안에 연락하고, 실패 시 사유를 기록합니다.",
        ),
        [Role.SALES_CONSULTANT],
        70,
        [
            _q(
                "single",
                _t(
                    "试驾后多久内回访？",
                    "Call back after a test drive within…",
                    "시승 후 언제까지 연락합니까?",
                ),
                [
                    _t("24 小时", "24 hours", "24시간"),
                    _t("一周", "A week", "일주일"),
                    _t("不用回访", "No call needed", "연락 불필요"),
                ],
                [0],
                _t(
                    "热度最高时跟进，成交率最高。",
                    "Follow up while interest is highest.",
                    "관심이 가장 높을 때 연락합니다.",
                ),
            ),
            _q(
                "multiple",
                _t("丢单时应记录？", "When a lead is lost, record…", "리드 실패 시 기록할 것은?"),
                [
                    _t("丢单原因", "The reason", "실패 사유"),
                    _t("竞品或价格信息", "Competitor or price facts", "경쟁 모델·가격 정보"),
                    _t("车主的隐私信息", "The owner's private data", "고객 개인정보"),
                ],
                [0, 1],
                _t(
                    "原因进入丢单分析报表。",
                    "Reasons feed the lost-reasons report.",
                    "사유는 실패 분석 보고서에 반영됩니다.",
                ),
            ),
            _q(
                "single",
                _t(
                    "同一手机号再次到店，应？",
                    "The same phone number walks in again. You…",
                    "같은 전화번호 고객이 다시 오면?",
                ),
                [
                    _t("更新原线索，不新建", "Update the existing lead", "기존 리드를 갱신한다"),
                    _t("新建一条线索", "Open a new lead", "새 리드를 만든다"),
                ],
                [0],
                _t(
                    "系统会提示重复线索。",
                    "The console warns of the duplicate.",
                    "콘솔이 중복을 알려 줍니다.",
                ),
            ),
            _q(
                "single",
                _t(
                    "线索的下次跟进日期过期意味着？",
                    "A lead's follow-up date has passed. It is…",
                    "다음 연락일이 지난 리드는?",
                ),
                [
                    _t("逾期，需要今天处理", "Overdue: act today", "기한 초과: 오늘 처리"),
                    _t("自动丢单", "Lost automatically", "자동 실패"),
                    _t("无影响", "Nothing", "영향 없음"),
                ],
                [0],
                _t(
                    "逾期线索在看板上标红。",
                    "Overdue leads show red on the board.",
                    "기한 초과 리드는 보드에 빨간색으로 표시됩니다.",
                ),
            ),
        ],
    ),
]


def _author(people, group_id):
    return next(
        (
            p
            for p in people
            if p.dealer_group_id == group_id
            and p.role == Role.GROUP_ADMIN
            and p.has_perm_m4s(Perm.MANAGE_TRAINING)
        ),
        None,
    )


def build_training_demo(staff: Mapping | Iterable, groups: Iterable, *, seed: int = 19) -> int:
    """Courses, question banks, quizzes and assignments for each group, then attempts by that
    group's demo staff over the last three months. Returns the number of attempts made."""
    people = list(staff.values()) if isinstance(staff, Mapping) else list(staff)
    rng = random.Random(seed)  # noqa: S311  (demo data)
    now = timezone.now()
    made = 0
    for group in groups:
        author = _author(people, group.pk)
        if author is None or Course.objects.for_group(group.pk).exists():
            continue
        quizzes = []
        for title, body, roles, pass_mark, questions in COURSES:
            course = services.save_course(
                author,
                title=title["zh-hans"],
                title_i18n=title,
                body=body["zh-hans"],
                body_i18n=body,
                is_published=True,
            )
            for q in questions:
                services.save_question(
                    author,
                    course.pk,
                    kind=q["kind"],
                    text=q["text"]["zh-hans"],
                    text_i18n=q["text"],
                    options=[{"text": o["zh-hans"], "i18n": o} for o in q["options"]],
                    correct=q["correct"],
                    explanation=q["explanation"]["zh-hans"],
                    explanation_i18n=q["explanation"],
                )
            quiz = services.save_quiz(
                author,
                course_id=course.pk,
                title=title["zh-hans"],
                title_i18n={k: v for k, v in title.items()},
                questions_drawn=len(questions) - 1,
                pass_mark=pass_mark,
                max_attempts=3,
                retake_after_minutes=60,
                time_limit_minutes=20,
                is_published=True,
            )
            for role in roles:
                services.assign(
                    author, quiz.pk, role=role, due_on=timezone.localdate() + dt.timedelta(days=14)
                )
            quizzes.append((quiz, set(roles)))
        learners = [p for p in people if p.dealer_group_id == group.pk and p.is_active]
        for person in learners:
            skill = rng.uniform(0.45, 0.95)
            for quiz, roles in quizzes:
                if person.role not in roles or rng.random() < 0.2:
                    continue  # someone has not started yet
                when = now - dt.timedelta(days=rng.randint(5, 80), hours=rng.randint(0, 6))
                for _sitting in range(3):
                    attempt = services.start_attempt(person, quiz.pk, now=when)
                    answers = {}
                    for q in attempt.questions:
                        if rng.random() < skill:
                            answers[str(q["id"])] = list(q["correct"])
                        else:
                            wrong = [i for i in range(len(q["options"])) if i not in q["correct"]]
                            answers[str(q["id"])] = [rng.choice(wrong)]
                    done = services.submit_attempt(
                        person,
                        attempt.pk,
                        answers,
                        now=when + dt.timedelta(minutes=rng.randint(4, 15)),
                    )
                    made += 1
                    if done.passed or rng.random() < 0.3:
                        break
                    when += dt.timedelta(days=rng.randint(1, 6))
                    skill = min(0.98, skill + 0.1)  # they studied
                    if when > now:
                        break
    return made
