"""Usage roll-ups: hand-computed figures, idempotent recomputation, late statuses."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.forms.models import model_to_dict

from analytics.models import TemplateUsageDaily, UsageDaily, UsageHourly
from analytics.rollups import histogram_median, reply_bucket, usage_day_rollup
from messaging.models import Message
from tests.analytics.dataset import D, seed_dataset
from tests.analytics.factories import at


@pytest.fixture
def data(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        yield seed_dataset()


def snapshot() -> list[dict]:
    rows = []
    for model in (UsageDaily, UsageHourly, TemplateUsageDaily):
        for row in model.objects.order_by("pk"):
            rows.append(
                {"model": model.__name__, "id": row.pk, **model_to_dict(row, exclude=["computed_at"])}
            )
    return rows


def daily(number) -> dict:
    return model_to_dict(UsageDaily.objects.get(day=D, phone_number=number), exclude=["id", "computed_at"])


def test_daily_rows_match_the_hand_computed_figures(data):
    result = usage_day_rollup(day=D)

    assert (result.daily_rows, result.template_rows) == (3, 1)
    assert daily(data.n1) == {
        "day": D,
        "account": data.a1.pk,
        "phone_number": data.n1.pk,
        "sent": 6,
        "delivered": 2,
        "read": 1,
        "failed": 3,
        "received": 4,
        "unique_contacts": 2,
        "conversations_by_category": {"marketing": 1},
        "failures_by_code": {"131026": 2, "131047": 1},
        "reply_time_histogram": {"30": 1, "180": 1},
        "replies": 2,
    }
    n2 = daily(data.n2)
    assert (n2["sent"], n2["delivered"], n2["read"], n2["failed"], n2["received"]) == (1, 1, 0, 0, 1)
    assert n2["conversations_by_category"] == {"service": 1}
    assert n2["reply_time_histogram"] == {"2700": 1}
    n3 = daily(data.n3)
    assert (n3["account"], n3["sent"], n3["read"], n3["unique_contacts"]) == (data.a2.pk, 1, 1, 1)

    template = TemplateUsageDaily.objects.get(day=D, template=data.t1)
    assert (template.sent, template.delivered, template.read, template.failed, template.replied) == (
        2,
        1,
        1,
        1,
        1,
    )


def test_hourly_rows_split_the_day_by_utc_hour(data):
    usage_day_rollup(day=D)

    n1_hours = {
        row.hour.hour: (row.sent, row.received) for row in UsageHourly.objects.filter(phone_number=data.n1)
    }
    assert n1_hours == {9: (2, 3), 10: (3, 0), 11: (1, 1)}
    assert not UsageHourly.objects.filter(hour__lt=at("2026-03-02", "00:00")).exists()


def test_recomputing_a_day_gives_identical_rows(data):
    usage_day_rollup(day=D)
    first = snapshot()

    usage_day_rollup(day=D)

    assert snapshot() == first


def test_a_late_status_is_counted_when_the_day_is_recomputed(data):
    usage_day_rollup(day=D)
    assert daily(data.n1)["delivered"] == 2

    Message.objects.filter(pk=data.late.pk).update(status=Message.Status.DELIVERED)
    usage_day_rollup(day=D)

    assert daily(data.n1)["delivered"] == 3
    assert UsageHourly.objects.get(phone_number=data.n1, hour=at("2026-03-02", "11:00")).delivered == 1


def test_rows_of_a_day_without_messages_any_more_are_removed(data):
    usage_day_rollup(day=D)
    Message.objects.filter(phone_number=data.n3).delete()

    usage_day_rollup(day=D)

    assert not UsageDaily.objects.filter(phone_number=data.n3).exists()
    assert not UsageHourly.objects.filter(phone_number=data.n3).exists()
    assert UsageDaily.objects.filter(day=D).count() == 2


def test_other_days_are_left_alone(data):
    usage_day_rollup(day=D - timedelta(days=1))
    usage_day_rollup(day=D)

    previous = UsageDaily.objects.get(day=D - timedelta(days=1))
    assert (previous.phone_number_id, previous.sent, previous.read) == (data.n1.pk, 1, 1)
    assert previous.conversations_by_category == {"utility": 1}


@pytest.mark.parametrize(
    ("seconds", "bucket"),
    [
        (0, 0),
        (59.9, 59),
        (61, 60),
        (125, 120),
        (599, 590),
        (601, 600),
        (7199, 7140),
        (7300, 7200),
        (86399, 85500),
        (200000, 86400),
    ],
)
def test_reply_buckets(seconds, bucket):
    assert reply_bucket(seconds) == bucket


def test_histogram_median_merges_days():
    assert histogram_median([{"30": 1, "180": 1}, {"2700": 1}]) == 180
    assert histogram_median([{"30": 2}, {"180": 2}]) == 30  # the lower median
    assert histogram_median([]) is None
