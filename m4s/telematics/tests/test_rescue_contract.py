"""The rescue operations keep the API contract: schemathesis over the rescue paths only, with the
world and checks of m4s/core/tests/test_api_contract.py (which covers them with every other
operation when run whole: `pytest -m contract`)."""

import pytest
from schemathesis import GenerationMode

from m4s.core.tests.test_api_contract import (  # noqa: F401  (fixtures)
    _check_operation,
    contract,
    wsgi_schema,
)

pytestmark = [pytest.mark.contract]


@pytest.mark.django_db
def test_rescue_operations_keep_the_contract(contract, wsgi_schema):  # noqa: F811
    failures, seen = [], 0
    for result in wsgi_schema.get_all_operations():
        operation = result.ok()
        if "/rescue-cases/" not in operation.path:
            continue
        seen += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _check_operation(operation, mode, contract)
            if failure:
                failures.append(failure)
    assert seen >= 7, f"only {seen} rescue operations in the OpenAPI document"
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(failures)
