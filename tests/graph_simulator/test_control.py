"""The /_sim control API: seeding, the request log, stats, config, reset; and the CLI."""

from __future__ import annotations

import httpx

from graph_simulator.process import spawn_simulator
from tests.graph_simulator.conftest import PHONE_ID, TOKEN, WABA_ID, seed_document
from tests.graph_simulator.test_messages import send


def test_seeding_twice_is_idempotent(control, receiver):
    first = control.post("/seed", json=seed_document(receiver.url)).json()
    second = control.post("/seed", json=seed_document(receiver.url)).json()
    assert first["templates"] == second["templates"]
    state = control.get("/state").json()
    assert len(state["wabas"]) == 2 and len(state["phone_numbers"]) == 2 and len(state["templates"]) == 1


def test_bad_seed_is_refused(control):
    response = control.post("/seed", json={"wabas": [{"name": "no id"}]})
    assert response.status_code == 400 and "id" in response.json()["error"]["message"]


def test_request_log_records_what_the_platform_sent(graph, control):
    since = control.get("/requests", params={"limit": 1}).json()["last_seq"]
    send(graph, type="text", text={"body": "logged"})
    graph.get(f"/{PHONE_ID}")
    log = control.get("/requests", params={"path_contains": "/messages", "since_seq": since}).json()
    (entry,) = log["requests"]
    assert entry["method"] == "POST" and entry["path"] == f"/v23.0/{PHONE_ID}/messages"
    assert entry["body"]["text"] == {"body": "logged"}
    assert entry["authorization"] == f"Bearer …{TOKEN[-4:]}"
    assert entry["status"] == 200 and entry["object_id"] == PHONE_ID
    assert entry["received_at"] > 0 and entry["received_wall"] > 0
    assert len(control.get("/requests", params={"since_seq": since}).json()["requests"]) == 2


def test_stats_count_sends_per_phone_per_second(graph, control):
    for _ in range(3):
        send(graph, type="text", text={"body": "x"})
    send(graph, type="text", text={})
    phone = control.get("/stats").json()["messages"][PHONE_ID]
    assert phone["total"] == 3 and phone["rejected"] == 1 and sum(phone["per_second"].values()) == 3


def test_config_round_trip_and_unknown_key(control):
    config = control.post("/config", json={"status_delay_ms": 20, "undeliverable": ["+15550009999"]}).json()
    assert config["status_delay_ms"] == 20 and config["undeliverable"] == ["15550009999"]
    assert control.post("/config", json={"nonsense": 1}).status_code == 400


def test_reset_forgets_everything(control, graph):
    control.post("/reset")
    assert control.get("/state").json()["wabas"] == []
    assert graph.get(f"/{WABA_ID}/phone_numbers").status_code == 401


def test_unknown_control_endpoint(control):
    assert control.get("/nope").status_code == 404


def test_embedding_handle_gives_direct_state_access(sim):
    with sim.state.lock:
        assert sim.state.phones[PHONE_ID].waba_id == WABA_ID


def test_command_line_runs_in_its_own_process():
    with spawn_simulator(seed={"apps": [{"app_id": "1"}]}) as child:
        assert child.base_url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{child.base_url}/_sim/state").json()["apps"][0]["app_id"] == "1"
    assert child.process.returncode == 0  # SIGTERM is a clean stop
