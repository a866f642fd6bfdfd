import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from m4s.core.models import AuditEntry
from m4s.core.tests.factories import make_staff, staff_token
from m4s.customers.models import Customer, TimelineEvent
from m4s.staff.choices import Role

CUSTOMERS = "/api/v1/staff/customers"


def ids(response):
    return [c["id"] for c in response.json_body]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query",
    [
        "+8613911110000",
        "13911110000",
        "139 1111 0000",
        "0000",
        "1110000",
        "Zhang",
        "PLATE",
        "PLATE4",
        "VIN",
        "VIN6",
    ],
)
def test_search_finds_by_phone_last_digits_name_plate_and_vin(api_client, cars, query):
    plate, vin = cars.car.plate, cars.car.vin
    q = {"PLATE": plate, "PLATE4": plate[1:5], "VIN": vin, "VIN6": vin[-6:]}.get(query, query)
    r = api_client.get(CUSTOMERS, token=staff_token(cars.advisor_a), params={"q": q})
    assert r.status_code == 200, r.content
    assert ids(r) == [cars.known.pk], (query, q)
    assert r.json_body[0]["plates"] == [plate]


@pytest.mark.django_db
def test_search_never_crosses_groups(api_client, cars):
    token_b = staff_token(cars.advisor_b)
    for q in (cars.known.phone, cars.known.phone[-4:], cars.car.plate, cars.car.vin, "Zhang"):
        r = api_client.get(CUSTOMERS, token=token_b, params={"q": q})
        assert r.status_code == 200 and r.json_body == [], q
    r = api_client.get("/api/v1/staff/vehicles", token=token_b, params={"q": cars.car.vin})
    assert r.json_body == []
    r = api_client.get(
        "/api/v1/staff/vehicles", token=staff_token(cars.advisor_a), params={"q": cars.car.vin}
    )
    assert [v["id"] for v in r.json_body] == [cars.car.pk] and r.json_body[0][
        "current_owner_name"
    ] == "Zhang San"


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["", "/timeline"])
def test_other_groups_customer_is_404(api_client, cars, path):
    r = api_client.get(f"{CUSTOMERS}/{cars.other.pk}{path}", token=staff_token(cars.advisor_a))
    assert r.status_code == 404 and r.json_body["code"] == "not_found"
    assert (
        api_client.get(
            f"{CUSTOMERS}/{cars.known.pk}{path}", token=staff_token(cars.advisor_a)
        ).status_code
        == 200
    )


@pytest.mark.django_db
def test_customer_360_shows_profile_cars_staff_and_bindings(api_client, cars):
    r = api_client.get(f"{CUSTOMERS}/{cars.known.pk}", token=staff_token(cars.admin_a))
    body = r.json_body
    assert body["name"] == "Zhang San" and body["store"]["id"] == cars.store_a.pk
    assert [v["plate"] for v in body["vehicles"]] == [cars.car.plate]
    assert (
        body["service_advisor"]["id"] == cars.advisor_a.pk
        and body["sales_consultant"]["id"] == cars.sales_a.pk
    )
    assert body["bindings"][0]["via"] == "desk" and body["bindings"][0]["staff"] == str(
        cars.advisor_a
    )
    timeline = api_client.get(
        f"{CUSTOMERS}/{cars.known.pk}/timeline", token=staff_token(cars.admin_a)
    ).json_body
    assert timeline[0]["kind"] == "binding"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "username,masked", [("admin-a", False), ("sales-a", False), ("advisor-a", True), ("cs-a", True)]
)
def test_id_number_is_masked_for_roles_that_do_not_need_it(api_client, cars, username, masked):
    from m4s.staff.models import StaffUser

    r = api_client.get(
        f"{CUSTOMERS}/{cars.known.pk}", token=staff_token(StaffUser.objects.get(username=username))
    )
    expected = "110***********002X" if masked else "11010519491231002X"
    assert r.json_body["id_number"] == expected
    stored = Customer.objects.for_group(cars.group_a).get(pk=cars.known.pk)
    assert "11010519491231002X" not in stored.id_number_cipher  # encrypted at rest


@pytest.mark.django_db
def test_technicians_cannot_read_customers(api_client, cars):
    r = api_client.get(CUSTOMERS, token=staff_token(cars.tech_a), params={"q": "Zhang"})
    assert r.status_code == 403 and r.json_body["code"] == "forbidden"


@pytest.mark.django_db
def test_assign_consultants_validates_role_group_and_store(api_client, cars):
    token = staff_token(cars.admin_a)
    url = f"{CUSTOMERS}/{cars.known.pk}/assign"
    r = api_client.post(url, {"cs_agent": cars.cs_a.pk, "sales_consultant": None}, token=token)
    assert (
        r.status_code == 200
        and r.json_body["cs_agent"]["id"] == cars.cs_a.pk
        and r.json_body["sales_consultant"] is None
    )
    assert r.json_body["service_advisor"]["id"] == cars.advisor_a.pk  # untouched
    audit = AuditEntry.objects.for_group(cars.group_a).get(
        object_type="customers.customer", action="update"
    )
    assert audit.changes == {
        "cs_agent_id": [None, cars.cs_a.pk],
        "sales_consultant_id": [cars.sales_a.pk, None],
    }
    assert (
        TimelineEvent.objects.for_group(cars.group_a)
        .filter(customer=cars.known, kind="assignment")
        .count()
        == 1
    )
    for bad in (
        {"cs_agent": cars.advisor_a.pk},
        {"service_advisor": cars.advisor_b.pk},
        {"service_advisor": 999999},
        {"boss": 1},
    ):
        before = Customer.objects.for_group(cars.group_a).filter(pk=cars.known.pk).values().get()
        r = api_client.post(url, bad, token=token)
        assert r.status_code in (400, 422), bad
        assert r.json_body["code"] in ("invalid_assignee", "validation_error")
        assert (
            Customer.objects.for_group(cars.group_a).filter(pk=cars.known.pk).values().get()
            == before
        )
    assert (
        api_client.post(
            url, {"cs_agent": cars.cs_a.pk}, token=staff_token(cars.advisor_a)
        ).status_code
        == 403
    )
    assert (
        api_client.post(
            f"{CUSTOMERS}/{cars.other.pk}/assign", {"cs_agent": None}, token=token
        ).status_code
        == 404
    )


@pytest.mark.django_db
def test_bulk_reassign_moves_every_customer_of_a_leaver(api_client, cars):
    leaver_successor = make_staff("advisor-a2", Role.SERVICE_ADVISOR, cars.group_a, [cars.store_a])
    for i in range(5):
        Customer.objects.create(
            dealer_group=cars.group_a,
            store=cars.store_a,
            name=f"C{i}",
            phone=f"+861390000000{i}",
            service_advisor=cars.advisor_a,
        )
    r = api_client.post(
        f"{CUSTOMERS}/reassign",
        {
            "role": "service_advisor",
            "from_staff": cars.advisor_a.pk,
            "to_staff": leaver_successor.pk,
        },
        token=staff_token(cars.admin_a),
    )
    assert r.status_code == 200 and r.json_body == {"moved": 6}
    assert (
        Customer.objects.for_group(cars.group_a).filter(service_advisor=cars.advisor_a).count() == 0
    )
    assert (
        AuditEntry.objects.for_group(cars.group_a).filter(object_type="customers.customer").count()
        == 6
    )
    # another group's staff cannot be used on either side
    r = api_client.post(
        f"{CUSTOMERS}/reassign",
        {
            "role": "service_advisor",
            "from_staff": leaver_successor.pk,
            "to_staff": cars.advisor_b.pk,
        },
        token=staff_token(cars.admin_a),
    )
    assert r.status_code == 404
    r = api_client.post(
        f"{CUSTOMERS}/reassign",
        {"role": "service_advisor", "from_staff": leaver_successor.pk, "to_staff": cars.cs_a.pk},
        token=staff_token(cars.admin_a),
    )
    assert r.status_code == 400 and r.json_body["code"] == "invalid_assignee"


@pytest.mark.django_db
def test_group_can_limit_front_line_staff_to_their_store(api_client, cars):
    from m4s.core.tests.factories import StoreFactory

    north = StoreFactory(dealer_group=cars.group_a, name="Alpha East")
    Customer.objects.create(
        dealer_group=cars.group_a, store=north, name="Zhao Liu", phone="+8613977778888"
    )
    token = staff_token(cars.advisor_a)
    assert len(api_client.get(CUSTOMERS, token=token, params={"q": "Zhao"}).json_body) == 1
    cars.group_a.limit_front_line_to_own_store = True
    cars.group_a.save()
    assert api_client.get(CUSTOMERS, token=token, params={"q": "Zhao"}).json_body == []
    assert (
        len(
            api_client.get(
                CUSTOMERS, token=staff_token(cars.admin_a), params={"q": "Zhao"}
            ).json_body
        )
        == 1
    )


@pytest.mark.django_db
def test_my_consultants(api_client, cars):
    from m4s.core.tests.factories import owner_token
    from m4s.customers import services

    token = owner_token(cars.owner)
    empty = api_client.get("/api/v1/me/consultants", token=token).json_body
    assert empty["service_advisor"] is None and empty["store"]["id"] == cars.store_a.pk
    customer = services.get_or_create_customer_for_owner(cars.owner, cars.store_a)
    services.assign_consultants(
        cars.admin_a,
        customer,
        {"service_advisor": cars.advisor_a.pk, "sales_consultant": cars.sales_a.pk},
    )
    body = api_client.get("/api/v1/me/consultants", token=token).json_body
    assert (
        body["service_advisor"]["name"] == str(cars.advisor_a)
        and body["service_advisor"]["role"] == "service_advisor"
    )
    assert body["sales_consultant"]["id"] == cars.sales_a.pk and body["cs_agent"] is None


@pytest.mark.django_db
def test_search_query_count_is_constant(api_client, cars):
    token = staff_token(cars.advisor_a)
    api_client.get(CUSTOMERS, token=token, params={"q": "Zhang"})
    with CaptureQueriesContext(connection) as one:
        api_client.get(CUSTOMERS, token=token, params={"q": "Zhang"})
    for i in range(15):
        Customer.objects.create(
            dealer_group=cars.group_a,
            store=cars.store_a,
            name=f"Zhang {i}",
            phone=f"+86139555500{i:02d}",
        )
    with CaptureQueriesContext(connection) as many:
        r = api_client.get(CUSTOMERS, token=token, params={"q": "Zhang"})
    assert len(r.json_body) == 16 and len(many) == len(one)


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"q": "x" * 61}, {"limit": 0}, {"limit": 101}])
def test_bad_search_input_is_422(api_client, cars, params):
    r = api_client.get(CUSTOMERS, token=staff_token(cars.advisor_a), params=params)
    assert r.status_code == 422 and r.json_body["code"] == "validation_error"


@pytest.mark.django_db
def test_timeline_is_read_in_the_readers_language(api_client, cars):
    from django.utils import translation

    with translation.override("ko"):  # written while someone reads Korean...
        services_bind_line = (
            TimelineEvent.objects.for_group(cars.group_a)
            .filter(customer=cars.known, kind="binding")
            .get()
        )
    url = f"{CUSTOMERS}/{cars.known.pk}/timeline"
    en = api_client.request(
        "GET", url, token=staff_token(cars.admin_a), HTTP_ACCEPT_LANGUAGE="en"
    ).json_body
    zh = api_client.request(
        "GET", url, token=staff_token(cars.admin_a), HTTP_ACCEPT_LANGUAGE="zh-hans"
    ).json_body
    assert en[0]["title"] == f"Bound {cars.car.plate}"
    assert zh[0]["title"] != en[0]["title"] and cars.car.plate in zh[0]["title"]
    assert (
        services_bind_line.title == "Bound %(plate)s"
    )  # stored as source text, translated on read
