"""What sending at scale relies on: pair-rate units of unsent jobs given back in one round trip
(both limiter backends), with the same rule as one by one."""

from __future__ import annotations

from tests.sending.test_limiter import limiter  # noqa: F401 - the fixture, over both backends


def test_release_many_gives_back_each_grant_only_if_nobody_reserved_after_it(limiter):  # noqa: F811
    untouched = limiter.reserve(key="pair:1:a", count=3, interval_s=6.0, burst=3, horizon_s=0)
    overtaken = limiter.reserve(key="pair:1:b", count=1, interval_s=6.0, burst=3, horizon_s=0)
    limiter.reserve(key="pair:1:b", count=1, interval_s=6.0, burst=3, horizon_s=0)  # someone after it
    nothing = limiter.reserve(key="pair:1:c", count=1, interval_s=6.0, burst=3, horizon_s=0)

    done = limiter.release_many(releases=[(untouched, 2), (overtaken, 1), (nothing, 0)])

    assert done == [True, False, False]
    # `untouched` kept one unit: two more fit in its burst now; `b` still has its two spent.
    assert limiter.reserve(key="pair:1:a", count=3, interval_s=6.0, burst=3, horizon_s=0).granted == 2
    assert limiter.reserve(key="pair:1:b", count=3, interval_s=6.0, burst=3, horizon_s=0).granted == 1


def test_release_many_with_two_grants_of_one_key_releases_only_the_latest(limiter):  # noqa: F811
    earlier = limiter.reserve(key="pair:1:a", count=1, interval_s=6.0, burst=3, horizon_s=0)
    latest = limiter.reserve(key="pair:1:a", count=1, interval_s=6.0, burst=3, horizon_s=0)

    done = limiter.release_many(releases=[(earlier, 1), (latest, 1)])

    assert done == [False, True]
    assert limiter.reserve(key="pair:1:a", count=3, interval_s=6.0, burst=3, horizon_s=0).granted == 2


def test_release_many_of_nothing_asks_the_store_nothing(limiter, django_assert_num_queries):  # noqa: F811
    with django_assert_num_queries(0):
        assert limiter.release_many(releases=[]) == []
