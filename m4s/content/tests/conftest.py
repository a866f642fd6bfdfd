import pytest

from m4s.core.tests.factories import LocalOrganisationFactory, make_staff
from m4s.staff.choices import Role


@pytest.fixture
def pub(world):
    """The world plus a Beijing local organisation (group A's) with an editor, a Shanghai one
    with its editor, and a store manager of group A (publishes for their store only)."""
    world.org_a = world.group_a.local_org
    world.org_a.city = "Beijing"
    world.org_a.save()
    world.org_sh = LocalOrganisationFactory(name="Shanghai Org", city="Shanghai")
    world.editor_bj = make_staff("editor-bj", Role.LOCAL_ORG_EDITOR, None, local_org=world.org_a)
    world.editor_sh = make_staff("editor-sh", Role.LOCAL_ORG_EDITOR, None, local_org=world.org_sh)
    world.manager_a = make_staff("manager-a", Role.STORE_MANAGER, world.group_a, [world.store_a])
    return world


def texts(title="Hello", body="<p>Body</p>", lang="en"):
    return {lang: {"title": title, "summary": "Short", "body_html": body}}
