"""Races PostgreSQL shows: eight taps on "like" at once make one like and one award; eight
owners liking at once are all counted and the author's daily cap holds."""

import pytest
from django.db.models import Sum

from m4s.community import services
from m4s.community.models import StoryLike
from m4s.core.tests.factories import OwnerFactory, owner_token
from m4s.core.tests.parallel import post_in_parallel, skip_on_sqlite
from m4s.customers.services import get_or_create_customer_for_owner
from m4s.loyalty.models import LedgerEntry


def _published(w):
    story = services.create_story(w.owner, text="Parallel")
    services.approve_story(w.moderator_a, story)
    services.award_story_points(story.pk)
    return story


def _likes_points(w) -> int:
    return (
        LedgerEntry.objects.for_group(w.group_a)
        .filter(member=w.member, source_type="like_received")
        .aggregate(p=Sum("points"))["p"]
        or 0
    )


@pytest.mark.django_db(transaction=True)
def test_parallel_taps_make_one_like(community):
    skip_on_sqlite()
    w = community
    story = _published(w)
    token = owner_token(w.fan)
    results = post_in_parallel(
        f"/api/v1/stories/{story.pk}/like", None, HTTP_AUTHORIZATION=f"Bearer {token}"
    )
    assert sorted(code for code, _ in results) == [200] * 8
    story.refresh_from_db()
    assert story.likes_count == 1
    assert StoryLike.objects.for_group(w.group_a).count() == 1
    assert _likes_points(w) == 2


@pytest.mark.django_db(transaction=True)
def test_parallel_likes_of_many_owners(community):
    skip_on_sqlite()
    w = community
    story = _published(w)
    fans = []
    for _ in range(12):
        fan = OwnerFactory(home_store=w.store_a)
        get_or_create_customer_for_owner(fan, w.store_a)
        fans.append(owner_token(fan))
    # each thread its own owner: post_in_parallel sends one body, so run it per batch of tokens
    import threading

    from django.db import connection
    from django.test import Client

    barrier, codes = threading.Barrier(len(fans)), []

    def call(token):
        try:
            barrier.wait()
            r = Client().post(
                f"/api/v1/stories/{story.pk}/like", HTTP_AUTHORIZATION=f"Bearer {token}"
            )
            codes.append(r.status_code)
        finally:
            connection.close()

    threads = [threading.Thread(target=call, args=(t,)) for t in fans]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert codes == [200] * 12
    story.refresh_from_db()
    assert story.likes_count == 12
    assert _likes_points(w) == 20  # 2 a like, 20 a day
