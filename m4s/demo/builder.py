"""Demo data: one headquarters, Beijing, two dealer groups (the second proves isolation), each
with two stores, staff for every role and a handful of owners. Passwords exist only here."""

import datetime as dt
import io
import random

from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from m4s.core.i18n import text
from m4s.customers import services as customers
from m4s.customers.choices import BindingVia, Source
from m4s.customers.models import Customer
from m4s.notify.choices import Channel
from m4s.notify.services import send_message
from m4s.org import services as org
from m4s.org.choices import EmergencyKind
from m4s.org.models import DealerGroup
from m4s.owners.models import Owner
from m4s.staff.choices import Role
from m4s.staff.services import create_staff
from m4s.vehicles.models import Vehicle
from m4s.vehicles.validation import vin_model_year

from . import synthetic
from .accounts import DEMO_PASSWORD, OWNER_PHONES
from .assistance import build_assistance_demo
from .care import build_care_demo, prepare_care_demo
from .catalogue import build_catalogue_demo
from .community import build_community_demo
from .complaints import build_complaints_demo
from .content import build_content_demo
from .conversations import build_conversations_demo
from .driving import build_driving_demo
from .events import build_events_demo
from .insights import build_insights_demo
from .loyalty import DEMO_PARTNER_KEYS, build_loyalty_history, install_demo_programmes
from .requests import build_requests_demo
from .sales import build_sales_demo
from .service import build_service_demo
from .telematics import build_telematics_demo

SPLIT_SHIFT = [(dt.time(8, 30), dt.time(12, 0)), (dt.time(13, 30), dt.time(18, 0))]


def logo_png(colour: str, initials: str) -> bytes:
    """A 96x96 rounded square in the brand colour with the store's initials (SVG logos are
    refused: they can carry script)."""
    from PIL import Image, ImageDraw, ImageFont

    picture = Image.new("RGBA", (96, 96), (0, 0, 0, 0))
    draw = ImageDraw.Draw(picture)
    draw.rounded_rectangle((0, 0, 95, 95), radius=20, fill=colour)
    font = ImageFont.load_default(size=34)
    draw.text((48, 50), initials, fill="#ffffff", font=font, anchor="mm")
    out = io.BytesIO()
    picture.save(out, "PNG")
    return out.getvalue()


def _store(group, name, code, title, colour, address, lat, lon, initials):
    store = org.create_store(
        group=group,
        name=name,
        code=code,
        app_title=title,
        brand_colour=colour,
        address=address,
        latitude=lat,
        longitude=lon,
        timezone="Asia/Shanghai",
    )
    store.logo.save(f"{group.slug}-{code}.png", ContentFile(logo_png(colour, initials)), save=True)
    for weekday in range(6):
        org.set_business_hours(store, weekday, SPLIT_SHIFT)
    org.set_business_hours(store, 6, [(dt.time(9, 0), dt.time(16, 0))])
    org.add_holiday(store, dt.date(2027, 1, 1), "元旦 New Year's Day")
    org.add_holiday(store, dt.date(2027, 2, 6), "春节 Spring Festival")
    return store


def _numbers(store, rescue, hotline):
    org.add_emergency_number(store, EmergencyKind.RESCUE, rescue, "24小时道路救援", position=0)
    org.add_emergency_number(
        store, EmergencyKind.INSURANCE, "95518", "人保财险理赔 (PICC)", position=1
    )
    org.add_emergency_number(store, EmergencyKind.HOTLINE, hotline, "", position=2)


@transaction.atomic
def build_demo(*, insights: bool = True) -> bool:
    """Create the demo world; return False if it already exists (the call is idempotent).
    `insights=False` leaves out the two years of history and what the insight jobs make of it
    (tests of other areas' demos do not need them)."""
    if DealerGroup.objects.filter(slug="jingcheng").exists():
        return False
    beijing = org.create_local_organisation(name="Beijing Auto Owners' Association", city="Beijing")
    g1 = org.create_dealer_group(local_org=beijing, name="Jingcheng Auto Group", slug="jingcheng")
    g2 = org.create_dealer_group(local_org=beijing, name="Huabei Motors", slug="huabei")
    chaoyang = _store(
        g1,
        "Jingcheng Toyota Chaoyang 4S",
        "chaoyang",
        "京城丰田 · 朝阳",
        "#c8102e",
        "北京市朝阳区东四环中路 88 号",
        "39.909200",
        "116.486400",
        "JC",
    )
    haidian = _store(
        g1,
        "Jingcheng Toyota Haidian 4S",
        "haidian",
        "京城丰田 · 海淀",
        "#c8102e",
        "北京市海淀区北四环西路 66 号",
        "39.983400",
        "116.307800",
        "JC",
    )
    fengtai = _store(
        g2,
        "Huabei Honda Fengtai 4S",
        "fengtai",
        "华北本田 · 丰台",
        "#1f4e9c",
        "北京市丰台区南四环西路 18 号",
        "39.829600",
        "116.287000",
        "HB",
    )
    tongzhou = _store(
        g2,
        "Huabei Honda Tongzhou 4S",
        "tongzhou",
        "华北本田 · 通州",
        "#1f4e9c",
        "北京市通州区新华大街 200 号",
        "39.909900",
        "116.656000",
        "HB",
    )
    _numbers(chaoyang, "400-810-1001", "010-6500-1001")
    _numbers(haidian, "400-810-1002", "010-6500-1002")
    _numbers(fengtai, "400-820-2001", "010-6700-2001")
    _numbers(tongzhou, "400-820-2002", "010-6700-2002")

    people = [
        ("hq", Role.PLATFORM_ADMIN, None, [], "平台管理员 Platform admin"),
        ("editor", Role.LOCAL_ORG_EDITOR, None, [], "北京编辑 Beijing editor"),
        ("groupadmin", Role.GROUP_ADMIN, g1, [chaoyang, haidian], "赵敏 Zhao Min"),
        ("manager", Role.STORE_MANAGER, g1, [chaoyang], "孙强 Sun Qiang"),
        ("sales", Role.SALES_CONSULTANT, g1, [chaoyang], "周婷 Zhou Ting"),
        ("advisor", Role.SERVICE_ADVISOR, g1, [chaoyang], "吴刚 Wu Gang"),
        ("cs", Role.CUSTOMER_SERVICE, g1, [chaoyang], "郑丽 Zheng Li"),
        ("tech", Role.TECHNICIAN, g1, [chaoyang], "冯军 Feng Jun"),
        ("other-advisor", Role.SERVICE_ADVISOR, g2, [fengtai], "何伟 He Wei"),
    ]
    staff = {}
    for username, role, group, stores, name in people:
        user = staff[username] = create_staff(
            username=username,
            password=DEMO_PASSWORD,
            role=role,
            group=group,
            stores=stores,
            display_name=name,
            local_org=beijing if role == Role.LOCAL_ORG_EDITOR else None,
        )
        send_message(
            channel=Channel.INAPP,
            staff=user,
            group=group,
            kind="welcome",
            subject=text(gettext_noop("Welcome to M4S")),
            body=text(
                gettext_noop(
                    "Your console shows what to do today. "
                    "Notifications from owners and cars arrive here."
                )
            ),
            dedupe_key=f"demo-welcome-staff-{username}",
        )

    owners = [
        ("王伟", "zh-hans"),
        ("Emily Chen", "en"),
        ("김민준", "ko"),
        ("刘洋", "zh-hans"),
        ("陈静", "zh-hans"),
    ]
    owner_rows = []
    for phone, (name, language) in zip(OWNER_PHONES, owners, strict=True):
        owner = Owner.objects.create(
            phone=phone,
            name=name,
            language=language,
            home_store=chaoyang,
            telematics_consent=True,  # the connected-car demo: positions need the consent
            telematics_consent_at=timezone.now(),
        )
        owner_rows.append(owner)
        send_message(
            channel=Channel.INAPP,
            owner=owner,
            group=g1,
            kind="welcome",
            subject=text(gettext_noop("Welcome")),
            body=text(
                gettext_noop(
                    "%(store)s welcomes you! "
                    "Your consultants and your car's health are one tap away."
                ),
                store=chaoyang.display_title,
            ),
            dedupe_key=f"demo-welcome-owner-{phone}",
        )
    _demo_cars(staff, owner_rows, chaoyang, haidian, fengtai)
    clubs = install_demo_programmes([g1, g2])
    build_service_demo(
        staff=staff,
        owners=owner_rows,
        stores={s.code: s for s in (chaoyang, haidian, fengtai, tongzhou)},
    )
    build_loyalty_history([g1, g2], clubs, OWNER_PHONES)
    stores = {s.code: s for s in (chaoyang, haidian, fengtai, tongzhou)}
    prepare_care_demo(staff=staff, owners=owner_rows, stores=stores)
    build_telematics_demo(owner_rows)
    build_driving_demo(owner_rows)
    build_complaints_demo(
        staff=staff,
        owners=owner_rows,
        stores={s.code: s for s in (chaoyang, haidian, fengtai, tongzhou)},
    )
    build_conversations_demo(
        staff=staff,
        owners=owner_rows,
        stores={s.code: s for s in (chaoyang, haidian, fengtai, tongzhou)},
    )
    build_care_demo(staff=staff, owners=owner_rows, stores=stores)
    build_events_demo(staff=staff, owners=owner_rows, stores=stores)
    build_content_demo(staff=staff, owners=owner_rows, stores=stores)
    build_community_demo(staff=staff, owners=owner_rows)
    build_catalogue_demo(staff=staff, owners=owner_rows, stores=stores)
    build_sales_demo(staff=staff, owners=owner_rows, stores=stores)
    build_requests_demo(staff=staff, owners=owner_rows, stores=stores)
    build_assistance_demo(staff=staff, owners=owner_rows, stores=stores)
    if insights:
        build_insights_demo([g1, g2], staff)  # two years of history, KPIs, churn, campaign, reports
    return True


def _vehicle(rng, group, store, plate_province="京", new_energy=False):
    brand, model, fuel = synthetic.make_vehicle_model(rng)
    vin = synthetic.make_vin(rng)
    today = dt.date(2026, 11, 1)
    bought = today - dt.timedelta(days=rng.randint(60, 2400))
    return Vehicle.objects.create(
        dealer_group=group,
        vin=vin,
        plate=synthetic.make_plate(rng, plate_province, new_energy=new_energy),
        brand=brand,
        model=model,
        fuel=fuel,
        model_year=vin_model_year(vin),
        colour=rng.choice(["白", "黑", "银", "红", "蓝"]),
        purchase_date=bought,
        purchase_store=store,
        odometer_km=max(500, int((today - bought).days * rng.uniform(25, 55))),  # its age
        warranty_end=bought + dt.timedelta(days=3 * 365),
        insurance_expiry=today + dt.timedelta(days=rng.randint(10, 330)),
        insurer=rng.choice(["人保财险", "平安产险", "太平洋产险"]),
        next_inspection_date=today + dt.timedelta(days=rng.randint(20, 700)),
    )


def _demo_cars(staff, owners, chaoyang, haidian, fengtai):
    """Cars, consultants, bindings with their origin, invitations and a binding funnel."""
    rng = random.Random(4)  # deterministic demo
    admin, advisor, sales, cs = staff["groupadmin"], staff["advisor"], staff["sales"], staff["cs"]
    invites = {}
    for user in staff.values():
        for store in user.stores.all():
            invites[(user.username, store.code)] = customers.get_or_create_invitation(store, user)
    for store in (chaoyang, haidian, fengtai):
        invites[("store", store.code)] = customers.get_or_create_invitation(store)
    consultants = {"sales_consultant": sales.pk, "service_advisor": advisor.pk, "cs_agent": cs.pk}
    origins = [
        (BindingVia.STAFF_QR, invites[("advisor", "chaoyang")]),
        (BindingVia.STORE_QR, invites[("store", "chaoyang")]),
        (BindingVia.STAFF_QR, invites[("sales", "chaoyang")]),
        (BindingVia.SMS_LINK, None),
        (BindingVia.DESK, None),
    ]
    for i, (owner, (via, invitation)) in enumerate(zip(owners, origins, strict=True)):
        if invitation is not None:
            customers.open_invitation(invitation.code, f"demo-visitor-{i}")
            customers.mark_signed_in(owner, invitation, f"demo-visitor-{i}")
        customer = customers.get_or_create_customer_for_owner(
            owner, chaoyang, source=Source.QR if invitation else Source.APP
        )
        customers.assign_consultants(admin, customer, consultants)
        vehicle = _vehicle(rng, chaoyang.dealer_group, chaoyang, new_energy=i == 2)
        customers.bind_customer_vehicle(
            customer,
            vehicle,
            via=via,
            invitation=invitation,
            staff=invitation.staff if invitation else advisor,
        )
    # people who opened the advisor's QR code but have not signed in or bound yet: the funnel
    for i in range(6):
        customers.open_invitation(invites[("advisor", "chaoyang")].code, f"demo-prospect-{i}")
    # customers the store knows from its old system (imported), some of them at the second store
    for i in range(12):
        store = chaoyang if i % 3 else haidian
        customer = Customer.objects.create(
            dealer_group=store.dealer_group,
            store=store,
            name=synthetic.make_chinese_name(rng),
            phone=synthetic.make_mobile(rng),
            address=synthetic.make_address(rng),
            source=Source.IMPORT,
            telematics_consent=True,
            birthday=dt.date(1960 + rng.randint(0, 40), rng.randint(1, 12), rng.randint(1, 28)),
            service_advisor=advisor if store == chaoyang else None,
            sales_consultant=sales if store == chaoyang else None,
        )
        customers.set_id_number(customer, synthetic.make_id_number(rng))
        customer.save()
        customers.bind_customer_vehicle(
            customer,
            _vehicle(rng, store.dealer_group, store),
            via=BindingVia.DESK,
            invitation=None,
            staff=advisor,
        )
    # the second group's own customers (isolation: nobody in the first group can see them)
    for _i in range(4):
        customer = Customer.objects.create(
            dealer_group=fengtai.dealer_group,
            store=fengtai,
            name=synthetic.make_chinese_name(rng),
            phone=synthetic.make_mobile(rng),
            source=Source.IMPORT,
            telematics_consent=True,
            service_advisor=staff["other-advisor"],
        )
        customers.bind_customer_vehicle(
            customer,
            _vehicle(rng, fengtai.dealer_group, fengtai),
            via=BindingVia.DESK,
            invitation=None,
            staff=staff["other-advisor"],
        )
    # an owner asks to bind a car that the store has on another (imported) customer: a transfer to decide
    imported = (
        Customer.objects.for_group(chaoyang.dealer_group)
        .filter(source=Source.IMPORT, store=chaoyang)
        .order_by("pk")
        .first()
    )
    claimant = Customer.objects.for_group(chaoyang.dealer_group).get(owner=owners[4])
    customers.bind_customer_vehicle(
        claimant, imported.vehicles.first(), via=BindingVia.APP, invitation=None, staff=None
    )


LOGINS = f"""
  Owner app      http://127.0.0.1:8000/app/      phones {OWNER_PHONES[0]} … {OWNER_PHONES[-1]} (code shown on screen in demo mode)
  Staff console  http://127.0.0.1:8000/console/  users hq, groupadmin, manager, sales, advisor, cs, tech, other-advisor
  Back office    http://127.0.0.1:8000/admin/    users hq, groupadmin, manager
  API docs       http://127.0.0.1:8000/api/v1/docs
  Staff password {DEMO_PASSWORD}
  Partner API    Authorization: Bearer {DEMO_PARTNER_KEYS["jingcheng"]}  (Sparkle Car Wash, Jingcheng)
"""
