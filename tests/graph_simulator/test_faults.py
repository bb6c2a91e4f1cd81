"""Fault injection: Meta errors with the right HTTP status, `times`, probability, latency, clearing."""

from __future__ import annotations

import time

import pytest

from tests.graph_simulator.conftest import PHONE_ID
from tests.graph_simulator.test_accounts import assert_meta_error
from tests.graph_simulator.test_messages import send


def test_fault_fires_n_times_then_clears_itself(graph, control):
    control.post("/faults", json={"path_contains": "/messages", "error_code": 130429, "times": 2})
    assert_meta_error(send(graph, type="text", text={"body": "a"}), 400, 130429)
    assert_meta_error(send(graph, type="text", text={"body": "b"}), 400, 130429)
    assert send(graph, type="text", text={"body": "c"}).status_code == 200
    assert control.get("/faults").json() == {"faults": []}


@pytest.mark.parametrize(
    ("fault", "status", "code"),
    [
        ({"error_code": 131056}, 400, 131056),
        ({"error_code": 131057}, 500, 131057),
        ({"error_code": 190}, 401, 190),
        ({"error_code": 429}, 429, 130429),
        ({"status": 503}, 503, 2),
        ({"status": 500, "error_code": 131000}, 500, 131000),
        ({"error_code": 80007}, 400, 80007),
    ],
    ids=["pair-rate", "upgrade", "token", "http-429", "503", "500", "waba-rate"],
)
def test_fault_codes_map_to_meta_statuses(graph, control, fault, status, code):
    control.post("/faults", json={"path_contains": "/messages", "times": 1, **fault})
    error = assert_meta_error(send(graph, type="text", text={"body": "x"}), status, code)
    assert error["error_data"]["details"]


def test_fault_matches_method_and_path_only(graph, control):
    control.post("/faults", json={"path_contains": "/messages", "method": "POST", "status": 500})
    assert graph.get(f"/{PHONE_ID}").status_code == 200
    assert send(graph, type="text", text={"body": "x"}).status_code == 500
    assert control.delete("/faults").json() == {"faults": []}
    assert send(graph, type="text", text={"body": "x"}).status_code == 200


def test_probability_zero_never_fires_and_one_always_does(graph, control):
    control.post("/faults", json={"path_contains": "/messages", "status": 500, "probability": 0})
    assert send(graph, type="text", text={"body": "x"}).status_code == 200
    control.delete("/faults")
    control.post("/faults", json={"path_contains": "/messages", "status": 500, "probability": 1})
    assert send(graph, type="text", text={"body": "x"}).status_code == 500


def test_latency_only_fault_delays_but_succeeds(graph, control):
    control.post("/faults", json={"path_contains": "/messages", "latency_ms": 150, "times": 1})
    started = time.monotonic()
    assert send(graph, type="text", text={"body": "x"}).status_code == 200
    assert time.monotonic() - started >= 0.15


def test_bad_fault_is_refused(control):
    response = control.post("/faults", json={"path_contains": "/messages"})
    assert response.status_code == 400 and "latency_ms" in response.json()["error"]["message"]
