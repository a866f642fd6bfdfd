"""The content console's operations of the API contract, fuzzed like
m4s/core/tests/test_api_contract.py but with real item ids (group A's draft, an item in review,
a published one, group B's and a local organisation's) and the publishing roles' tokens, so
generated requests reach the handlers, not only the 404."""

import pytest
from schemathesis.generation import GenerationMode

from m4s.content import services
from m4s.content.choices import Module
from m4s.core.tests.factories import make_staff
from m4s.core.tests.test_api_contract import (  # noqa: F401 (fixtures)
    _check_operation,
    contract,
    wsgi_schema,
)
from m4s.identity.services import issue_token
from m4s.staff.choices import Role

from .conftest import texts


@pytest.mark.django_db
def test_content_staff_contract(contract, wsgi_schema):  # noqa: F811
    w = contract
    editor = make_staff(
        "contract-editor", Role.LOCAL_ORG_EDITOR, None, local_org=w.group_a.local_org
    )
    draft = services.create_item(w.admin_a, module=Module.NEW_CARS, translations=texts())
    review = services.create_item(w.manager_a, module=Module.SERVICE_NEWS, translations=texts())
    services.submit(w.manager_a, review)
    live = services.create_item(w.admin_a, module=Module.PRICES, translations=texts())
    services.submit(w.admin_a, live)
    services.approve(w.admin_a, live)
    other = services.create_item(w.admin_b, module=Module.NEW_CARS, translations=texts())
    local = services.create_item(editor, module=Module.CITY_FOOD, translations=texts())
    w.path_ids["item_id"] = [draft.pk, review.pk, live.pk, other.pk, local.pk]
    w.path_ids["number"] = [1, 2]
    w.tokens["StaffAuth"] = [
        issue_token(staff=s) for s in (w.admin_a, w.manager_a, w.advisor_a, editor)
    ]
    failures, seen = [], 0
    for result in wsgi_schema.get_all_operations():
        operation = result.ok()
        if "/staff/content/" not in operation.path:
            continue
        seen += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _check_operation(operation, mode, w)
            if failure:
                failures.append(failure)
    assert seen >= 8
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(failures)
