"""Back office: a group edits its own canned replies and targets; another group's rows are not
found; a new telephony secret is shown once."""

from django.test import Client

from m4s.conversations.models import CannedReply, ConversationSettings
from m4s.conversations.telephony import _secret
from m4s.core.tests.factories import PASSWORD


def _client(user):
    c = Client()
    assert c.login(username=user.username, password=PASSWORD)
    return c


def test_group_admin_edits_own_canned_replies_and_targets(world):
    theirs = CannedReply.objects.create(dealer_group=world.group_b, title="B", body="b")
    a = _client(world.admin_a)
    r = a.post(
        "/admin/conversations/cannedreply/add/",
        {
            "title": "Ready",
            "title_i18n_0": "",
            "title_i18n_1": "Ready",
            "title_i18n_2": "",
            "body": "{customer}, your {car} is ready.",
            "body_i18n_0": "",
            "body_i18n_1": "",
            "body_i18n_2": "",
            "topic": "service",
            "position": 0,
            "is_active": "on",
        },
    )
    assert r.status_code == 302, r.content[:3000]
    assert CannedReply.objects.for_group(world.group_a).get().title == "Ready"
    assert a.get(f"/admin/conversations/cannedreply/{theirs.pk}/change/").status_code == 404
    assert "B" not in [row.title for row in CannedReply.objects.for_group(world.group_a)]
    r = a.post(
        "/admin/conversations/conversationsettings/add/",
        {"first_response_minutes": 15, "team_offer_minutes": 20},
    )
    assert r.status_code == 302, r.content[:3000]
    row = ConversationSettings.objects.for_group(world.group_a).get()
    r = a.post(
        "/admin/conversations/conversationsettings/",
        {"action": "new_telephony_secret", "_selected_action": [row.pk]},
        follow=True,
    )
    row.refresh_from_db()
    assert row.cti_secret_cipher
    # the new secret is shown once, on the page that follows (in the admin's language)
    assert r.status_code == 200 and _secret(world.group_a.pk) in r.content.decode()
    # front-line staff cannot reach the back office
    assert _client(world.advisor_a).get("/admin/conversations/cannedreply/").status_code in (
        302,
        403,
    )
