"""The OpenAPI document states errors and constraints; the API keeps to them."""

import pytest

from m4s.core.tests.factories import owner_token, staff_token


@pytest.fixture
def document(client):
    return client.get("/api/v1/openapi.json").json()


def test_every_operation_declares_its_errors_with_the_envelope(document):
    assert document["components"]["schemas"]["Error"]["required"] == ["code", "message"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = set(operation["responses"])
            expected = {"400", "422"} | (
                {"401", "403", "404"} if operation.get("security") else set()
            )
            assert expected <= statuses, (method, path, statuses)
            ref = operation["responses"]["400"]["content"]["application/json"]["schema"]["$ref"]
            assert ref == "#/components/schemas/Error"
    login = document["paths"]["/api/v1/auth/staff/login"]["post"]["responses"]
    assert {"401", "403"} <= set(login)


def test_constraints_are_in_the_schemas(document):
    schemas = document["components"]["schemas"]
    assert schemas["OtpVerifyIn"]["properties"]["code"]["pattern"] == "^[0-9]{6}$"
    survey = schemas["SurveyIn"]["properties"]
    assert (survey["quality"]["minimum"], survey["quality"]["maximum"]) == (1, 10)
    assert survey["nps"]["minimum"] == 0
    assert schemas["BookIn"]["properties"]["starts_at"]["pattern"].startswith("^(20[0-9]{2}|2100)")
    assert schemas["TransferDecisionIn"]["properties"]["approve"]["type"] == "boolean"
    ingest = document["paths"]["/api/v1/telematics/ingest"]["post"]["requestBody"]
    body = ingest["content"]["application/json"]["schema"]
    assert body["type"] == "array" and body["maxItems"] == 5000
    assert set(body["items"]["required"]) == {"device_id", "seq", "ts"}
    path_id = document["paths"]["/api/v1/me/repair-orders/{ro_id}"]["get"]["parameters"][0]
    assert path_id["schema"]["minimum"] == 1


def test_an_address_no_operation_matches_answers_json_404(workshop, api_client):
    token = owner_token(workshop.owner)
    for method, path in [
        ("GET", "/api/v1/me/repair-orders/abc"),
        ("POST", "/api/v1/me/repair-orders/-3/lines/1/approve"),  # no CSRF page either
        ("GET", "/api/v1/nothing-here"),
    ]:
        r = api_client.request(method, path, token=token)
        assert r.status_code == 404, path
        assert r.json_body == {"code": "not_found", "message": "Not found."}


def test_booleans_are_strict(cars, api_client):
    w = cars
    token = staff_token(w.admin_a)
    r = api_client.post("/api/v1/staff/transfers/1/decide", {"approve": 0}, token=token)
    assert r.status_code == 422 and r.json_body["code"] == "validation_error"
    me = owner_token(w.owner)
    r = api_client.patch("/api/v1/me", {"marketing_consent": "false"}, token=me)
    assert r.status_code == 422
    assert api_client.get("/api/v1/me", token=me).json_body["marketing_consent"] is False


def test_no_two_api_schemas_share_a_component_name(document):
    """Ninja names a schema's OpenAPI component by its class name, and a later class of the same
    name silently replaces an earlier one: an operation would then be documented (and fuzzed)
    with another area's body. Every schema class of the API has a name of its own."""
    from ninja import Schema

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    names: dict[str, set[str]] = {}
    for cls in subclasses(Schema):
        if cls.__module__.startswith("m4s.") and ".tests" not in cls.__module__:
            names.setdefault(cls.__name__, set()).add(cls.__module__)
    used = set(document["components"]["schemas"])
    clashes = {n: sorted(m) for n, m in names.items() if len(m) > 1 and n in used}
    assert not clashes, clashes
