"""The events operations of the API contract, fuzzed like m4s/core/tests/test_api_contract.py
but with real event ids (an open event of group A with a sign-up of the contract owner, a draft,
group B's event) so that generated requests reach the handlers, not only the 404."""

import pytest
from schemathesis.generation import GenerationMode

from m4s.core.tests.test_api_contract import (  # noqa: F401 (fixtures)
    _check_operation,
    contract,
    wsgi_schema,
)
from m4s.events import services
from m4s.events.choices import EventStatus

from .conftest import make_event


@pytest.mark.django_db
def test_events_contract(contract, wsgi_schema):  # noqa: F811
    w = contract
    event = make_event(w.admin_a, capacity=1)
    services.sign_up(w.owner, event.pk)
    draft = make_event(w.admin_a, status=EventStatus.DRAFT)
    other = make_event(w.admin_b)
    w.path_ids["event_id"] = [event.pk, draft.pk, other.pk]
    failures, seen = [], 0
    for result in wsgi_schema.get_all_operations():
        operation = result.ok()
        if "/events" not in operation.path:
            continue
        seen += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            failure = _check_operation(operation, mode, w)
            if failure:
                failures.append(failure)
    assert seen >= 9
    assert not failures, f"{len(failures)} contract failures:\n\n" + "\n\n".join(failures)
