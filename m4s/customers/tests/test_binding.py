import pytest
from django.core.cache import cache

from m4s.core.errors import DomainError
from m4s.core.tests.factories import OwnerFactory, owner_token
from m4s.customers import services
from m4s.customers.models import Attribution, Binding, Customer, TimelineEvent, TransferRequest
from m4s.demo import synthetic
from m4s.notify.models import Message
from m4s.vehicles.models import Vehicle, VehicleOwnership

BIND = "/api/v1/me/vehicles/bind"


@pytest.fixture(autouse=True)
def _clear_throttle():
    cache.clear()


@pytest.mark.django_db
def test_owner_binds_a_new_car_with_full_vin(api_client, cars, rng):
    vin, plate = synthetic.make_vin(rng), synthetic.make_plate(rng)
    r = api_client.post(
        BIND,
        {"plate": plate.lower() if plate.isascii() else plate, "vin": vin.lower()},
        token=owner_token(cars.owner),
    )
    assert r.status_code == 201, r.content
    assert r.json_body["status"] == "bound" and r.json_body["vehicle"]["vin"] == vin
    customer = Customer.objects.for_group(cars.group_a).get(owner=cars.owner)
    assert customer.phone == cars.owner.phone and customer.store == cars.store_a
    vehicle = Vehicle.objects.for_group(cars.group_a).get(vin=vin)
    assert vehicle.current_owner == customer and vehicle.model_year is not None
    assert (
        VehicleOwnership.objects.for_group(cars.group_a)
        .get(vehicle=vehicle, ended_at__isnull=True)
        .customer
        == customer
    )
    assert Binding.objects.for_group(cars.group_a).get(vehicle=vehicle).via == "app"
    assert (
        TimelineEvent.objects.for_group(cars.group_a)
        .filter(customer=customer, kind="binding")
        .count()
        == 1
    )
    again = api_client.post(BIND, {"plate": plate, "vin": vin}, token=owner_token(cars.owner))
    assert again.status_code == 200 and again.json_body["status"] == "already_bound"
    mine = api_client.get("/api/v1/me/vehicles", token=owner_token(cars.owner)).json_body
    assert [v["vin"] for v in mine] == [vin]


@pytest.mark.django_db
def test_plate_and_last_six_bind_a_car_the_dealer_knows(api_client, cars):
    stranger = cars.known.vehicles.first()
    Binding.objects.for_group(cars.group_a).update(ended_at="2026-01-01T00:00:00Z")
    Vehicle.objects.for_group(cars.group_a).update(current_owner=None)
    VehicleOwnership.objects.for_group(cars.group_a).update(ended_at="2026-01-01T00:00:00Z")
    r = api_client.post(
        BIND, {"plate": stranger.plate, "vin": stranger.vin[-6:]}, token=owner_token(cars.owner)
    )
    assert r.status_code == 201 and r.json_body["status"] == "bound"


@pytest.mark.django_db
def test_wrong_combinations_get_one_answer_that_reveals_nothing(api_client, cars, rng):
    token = owner_token(cars.owner)
    known_plate, known_vin = cars.car.plate, cars.car.vin
    unknown_plate = synthetic.make_plate(rng, "粤")
    answers = [
        api_client.post(
            BIND, {"plate": known_plate, "vin": synthetic.make_vin(rng)}, token=token
        ),  # known plate, other VIN
        api_client.post(
            BIND, {"plate": unknown_plate, "vin": known_vin}, token=token
        ),  # known VIN, other plate
        api_client.post(
            BIND, {"plate": known_plate, "vin": "ZZZZZ9"}, token=token
        ),  # wrong last six
        api_client.post(
            BIND, {"plate": unknown_plate, "vin": known_vin[-6:]}, token=token
        ),  # unknown plate
    ]
    assert {(r.status_code, r.json_body["code"], r.json_body["message"]) for r in answers} == {
        (400, "binding_mismatch", answers[0].json_body["message"])
    }
    assert (
        not Customer.objects.for_group(cars.group_a).filter(owner=cars.owner).exists()
    )  # nothing written
    assert Binding.objects.for_group(cars.group_a).count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize(
    "plate,vin,code",
    [
        ("京A1234", "1M8GDM9AXKP042788", "invalid_plate"),
        ("京A12345", "1M8GDM9A5KP042788", "vin_check_digit"),
        ("京A12345", "1M8GDM9AXKP04278", "vin_length"),
        ("京A12345", "IM8GDM9AXKP042788", "vin_characters"),
    ],
)
def test_bad_plate_or_vin_is_a_clear_400(api_client, cars, plate, vin, code):
    r = api_client.post(BIND, {"plate": plate, "vin": vin}, token=owner_token(cars.owner))
    assert r.status_code == 400 and r.json_body["code"] == code and r.json_body["message"]
    assert Vehicle.objects.for_group(cars.group_a).count() == 1


@pytest.mark.django_db
def test_binding_someone_elses_car_opens_a_transfer_that_staff_resolve(api_client, cars):
    from m4s.core.tests.factories import staff_token

    r = api_client.post(
        BIND, {"plate": cars.car.plate, "vin": cars.car.vin}, token=owner_token(cars.owner)
    )
    assert r.status_code == 202 and r.json_body["status"] == "transfer_requested"
    transfer = TransferRequest.objects.for_group(cars.group_a).get()
    assert transfer.from_customer == cars.known and transfer.status == "open"
    assert (
        cars.car.bindings.get(ended_at__isnull=True).customer == cars.known
    )  # nothing changed yet
    assert Message.objects.filter(
        staff=cars.advisor_a, kind="transfer_requested"
    ).exists()  # the holder's advisor is told
    again = api_client.post(
        BIND, {"plate": cars.car.plate, "vin": cars.car.vin}, token=owner_token(cars.owner)
    )
    assert (
        again.status_code == 202 and TransferRequest.objects.for_group(cars.group_a).count() == 1
    )  # idempotent
    # staff of the other group cannot see or decide it
    other = api_client.post(
        f"/api/v1/staff/transfers/{transfer.pk}/decide",
        {"approve": True},
        token=staff_token(cars.advisor_b),
    )
    assert other.status_code == 404
    listed = api_client.get("/api/v1/staff/transfers", token=staff_token(cars.advisor_a)).json_body
    assert [t["id"] for t in listed] == [transfer.pk]
    decided = api_client.post(
        f"/api/v1/staff/transfers/{transfer.pk}/decide",
        {"approve": True, "note": "saw the papers"},
        token=staff_token(cars.advisor_a),
    )
    assert decided.status_code == 200 and decided.json_body["status"] == "approved"
    new_customer = Customer.objects.for_group(cars.group_a).get(owner=cars.owner)
    cars.car.refresh_from_db()
    assert cars.car.current_owner == new_customer
    history = list(
        VehicleOwnership.objects.for_group(cars.group_a)
        .filter(vehicle=cars.car)
        .order_by("started_at")
        .values_list("customer", "reason", "ended_at")
    )
    assert [(c, r) for c, r, _ in history] == [
        (cars.known.pk, "binding"),
        (new_customer.pk, "transfer"),
    ]
    assert (
        history[0][2] is not None and history[1][2] is None
    )  # the resale is kept, not overwritten
    assert Message.objects.filter(owner=cars.owner, kind="transfer").exists()
    twice = api_client.post(
        f"/api/v1/staff/transfers/{transfer.pk}/decide",
        {"approve": False},
        token=staff_token(cars.advisor_a),
    )
    assert twice.status_code == 409 and twice.json_body["code"] == "transfer_closed"


@pytest.mark.django_db
def test_binding_attempts_are_throttled(api_client, cars, rng):
    token = owner_token(cars.owner)
    for _ in range(services.BIND_ATTEMPTS_PER_HOUR):
        assert (
            api_client.post(
                BIND, {"plate": cars.car.plate, "vin": "AAAAA1"}, token=token
            ).status_code
            == 400
        )
    r = api_client.post(BIND, {"plate": cars.car.plate, "vin": cars.car.vin[-6:]}, token=token)
    assert r.status_code == 429 and r.json_body["code"] == "rate_limited"


@pytest.mark.django_db
def test_owner_without_store_must_come_through_an_invitation(api_client, world, rng):
    lonely = OwnerFactory(home_store=None)
    r = api_client.post(
        BIND,
        {"plate": synthetic.make_plate(rng), "vin": synthetic.make_vin(rng)},
        token=owner_token(lonely),
    )
    assert r.status_code == 400 and r.json_body["code"] == "no_store"


@pytest.mark.django_db
def test_invitation_attributes_sign_in_and_binding_to_the_staff_member(
    api_client, cars, rng, sms_outbox
):
    import re

    invitation = services.get_or_create_invitation(cars.store_a, cars.advisor_a)
    assert (
        services.get_or_create_invitation(cars.store_a, cars.advisor_a) == invitation
    )  # one per person and store
    phone = "+8613955556666"
    api_client.post("/api/v1/auth/otp/request", {"phone": phone})
    code = re.search(r"\b(\d{6})\b", sms_outbox[-1]["body"]).group(1)
    r = api_client.post(
        "/api/v1/auth/otp/verify", {"phone": phone, "code": code, "invitation": invitation.code}
    )
    token = r.json_body["token"]
    assert r.json_body["owner"]["home_store"]["id"] == cars.store_a.pk
    b = api_client.post(
        BIND,
        {
            "plate": synthetic.make_plate(rng),
            "vin": synthetic.make_vin(rng),
            "invitation": invitation.code,
        },
        token=token,
    )
    assert b.status_code == 201
    binding = Binding.objects.for_group(cars.group_a).get(owner__phone=phone)
    assert (binding.via, binding.staff, binding.invitation) == (
        "staff_qr",
        cars.advisor_a,
        invitation,
    )
    funnel = Attribution.objects.for_group(cars.group_a).get(invitation=invitation)
    assert funnel.signed_in_at and funnel.bound_at and funnel.owner.phone == phone
    rates = {r["id"]: r for r in services_rates(cars)}
    assert (
        rates[cars.advisor_a.pk]["invited"] == 1
        and rates[cars.advisor_a.pk]["bound"] == 1
        and rates[cars.advisor_a.pk]["rate"] == 100
    )


def services_rates(world):
    from m4s.customers.selectors import binding_rates

    return binding_rates(world.admin_a, by="staff")


@pytest.mark.django_db
def test_staff_cannot_get_an_invitation_for_a_store_they_do_not_work_at(world):
    with pytest.raises(DomainError) as e:
        services.get_or_create_invitation(world.store_b, world.advisor_a)
    assert e.value.code == "invalid_staff"


@pytest.mark.django_db
def test_desk_binding_records_staff_and_audit(cars, rng):
    from m4s.core.models import AuditEntry

    customer = Customer.objects.create(
        dealer_group=cars.group_a, store=cars.store_a, name="Wang Wu", phone="+8613933334444"
    )
    outcome, binding = services.bind_at_desk(
        cars.advisor_a,
        customer,
        synthetic.make_plate(rng),
        synthetic.make_vin(rng),
        brand="BYD",
        model="Han",
    )
    assert outcome == "bound" and binding.via == "desk" and binding.staff == cars.advisor_a
    assert binding.vehicle.brand == "BYD"
    assert (
        AuditEntry.objects.for_group(cars.group_a)
        .filter(object_type="customers.binding", actor=cars.advisor_a)
        .exists()
    )
    with pytest.raises(DomainError) as e:
        services.bind_at_desk(
            cars.tech_a, customer, synthetic.make_plate(rng), synthetic.make_vin(rng)
        )
    assert e.value.status == 403


@pytest.mark.django_db
def test_inviting_staff_member_becomes_the_new_customers_consultant(api_client, cars, rng):
    invitation = services.get_or_create_invitation(cars.store_a, cars.sales_a)
    outcome, binding = services.bind_vehicle_for_owner(
        cars.owner, synthetic.make_plate(rng), synthetic.make_vin(rng), invitation=invitation
    )
    customer = binding.customer
    assert (
        outcome == "bound"
        and customer.sales_consultant == cars.sales_a
        and customer.service_advisor is None
    )
    assert (
        Message.objects.filter(
            staff=cars.sales_a, kind="binding", body__contains=binding.vehicle.plate
        ).count()
        == 1
    )


@pytest.mark.django_db
def test_notifications_are_written_in_the_readers_language(cars, rng):
    from django.utils import translation

    cars.advisor_a.language = "ko"
    cars.advisor_a.save()
    cars.owner.language = "en"
    cars.owner.save()
    with translation.override("zh-hans"):  # the acting person's language must not leak
        services.bind_vehicle_for_owner(cars.owner, cars.car.plate, cars.car.vin)
        transfer = TransferRequest.objects.for_group(cars.group_a).get()
        services.resolve_transfer(cars.admin_a, transfer, approve=True)
    to_advisor = Message.objects.get(staff=cars.advisor_a, kind="transfer_requested")
    assert to_advisor.subject == "명의 이전 요청"
    to_owner = Message.objects.get(owner=cars.owner, kind="transfer")
    assert to_owner.body == f"{cars.car.plate} is now bound to you."


@pytest.mark.django_db
def test_desk_binding_with_bad_details_is_a_clear_error_and_writes_nothing(cars, rng):
    customer = Customer.objects.create(
        dealer_group=cars.group_a, store=cars.store_a, name="Wang Wu", phone="+8613933335555"
    )
    before = Vehicle.objects.for_group(cars.group_a).count()
    with pytest.raises(DomainError) as e:
        services.bind_at_desk(
            cars.advisor_a,
            customer,
            synthetic.make_plate(rng),
            synthetic.make_vin(rng),
            brand="B" * 41,
        )
    assert e.value.code == "invalid_vehicle" and e.value.details["field"] == "brand"
    assert Vehicle.objects.for_group(cars.group_a).count() == before
