"""The send worker's counters for /metrics: a real send through the simulator counts its outcome,
Meta's throttling answers, the Graph latency and errors by code (platform_core.counters)."""

from __future__ import annotations

import json

import pytest

from platform_core import counters
from platform_core.models import MetricCounter
from tests.sending.factories import simulator_seed_for
from tests.sending.helpers import drain, graph_sends, queue_text


@pytest.fixture(autouse=True)
def _no_counts_from_earlier_tests():
    counters.counters_discard()
    yield
    counters.counters_discard()


@pytest.fixture
def sim(graph_simulator, number_a, fast_retries):
    simulator_seed_for(graph_simulator, number_a)
    return graph_simulator


def fault(sim, **rule):
    from graph_simulator.faults import fault_rule_parse

    sim.simulator.faults.add(fault_rule_parse(rule))


def _totals() -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (name, tuple(sorted(json.loads(labels).items()))): total
        for (name, labels), total in counters.counter_totals().items()
    }


def test_a_send_through_the_simulator_counts_outcomes_throttles_latency_and_error_codes(
    sim, tenant_a, in_tenant, number_a, open_window_a
):
    fault(sim, path_contains="/messages", error_code=130429, times=1)  # the first request: throttled
    fault(sim, path_contains="/messages", error_code=131026, times=1)  # the second: undeliverable
    with in_tenant(tenant_a):
        queue_text(number_a, open_window_a.contact.wa_id, "one")
        queue_text(number_a, open_window_a.contact.wa_id, "two")

    drain(tenant_a)  # the worker writes its counts when it stops

    assert [r["status"] for r in graph_sends(sim, number_a)] == [400, 400, 200]
    number = number_a.phone_number_id
    totals = _totals()
    assert totals[(counters.SENDS, (("outcome", "sent"), ("phone_number_id", number)))] == 1
    assert totals[(counters.SENDS, (("outcome", "retry"), ("phone_number_id", number)))] == 1
    assert totals[(counters.SENDS, (("outcome", "fail"), ("phone_number_id", number)))] == 1
    assert totals[(counters.SEND_THROTTLED, (("phone_number_id", number), ("reason", "130429")))] == 1
    assert totals[(counters.GRAPH_ERRORS, (("code", "130429"),))] == 1
    assert totals[(counters.GRAPH_ERRORS, (("code", "131026"),))] == 1
    assert totals[(f"{counters.GRAPH_REQUEST_DURATION}_count", (("kind", "messages"),))] == 3
    buckets = {
        dict(labels)["le"]: value
        for (name, labels), value in totals.items()
        if name == f"{counters.GRAPH_REQUEST_DURATION}_bucket" and dict(labels)["kind"] == "messages"
    }
    assert sum(buckets.values()) == 3
    summary = counters.traffic_summary(minutes=5)
    [traffic] = [n for n in summary.numbers if n.phone_number_id == number]
    assert (traffic.sent, traffic.retried, traffic.failed, traffic.throttled) == (1, 1, 1, {"130429": 1})
    assert summary.graph_errors == {"130429": 1, "131026": 1}


def test_messages_the_pair_rate_limiter_holds_back_are_counted_as_throttled(
    sim, tenant_a, in_tenant, number_a, open_window_a, settings
):
    settings.PAIR_RATE_BURST = 1  # one message to a recipient now, the next one interval later
    with in_tenant(tenant_a):
        for body in ("one", "two", "three"):
            queue_text(number_a, open_window_a.contact.wa_id, body)

    drain(tenant_a, max_seconds=1.0)

    totals = _totals()
    number = number_a.phone_number_id
    assert totals[(counters.SENDS, (("outcome", "sent"), ("phone_number_id", number)))] == 1
    assert totals[(counters.SEND_THROTTLED, (("phone_number_id", number), ("reason", "pair_limiter")))] == 2
    assert MetricCounter.objects.filter(name=counters.SEND_THROTTLED).count() == 1
