"""The state file: what an account needs survives a restart of the simulator; nothing is written without one."""

from __future__ import annotations

import json
import time

import httpx
import pytest

from graph_simulator import main, spawn_simulator, start_simulator
from graph_simulator.persistence import StateFileError
from tests.graph_simulator.conftest import (
    APP_ID,
    CUSTOMER,
    FAST_CONFIG,
    OUTSIDER_TOKEN,
    PHONE_ID,
    TOKEN,
    WABA_ID,
    seed_document,
)

NEW_TEMPLATE = {
    "name": "pickup_ready",
    "language": "en_US",
    "category": "UTILITY",
    "components": [{"type": "BODY", "text": "Your order {{1}} is ready."}],
}


def graph(handle) -> httpx.Client:
    return httpx.Client(base_url=f"{handle.base_url}/v23.0", headers={"Authorization": f"Bearer {TOKEN}"})


def eventually(check, timeout_s: float = 5.0):
    """Poll `check` until it returns something truthy (the simulator works on background threads)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result or time.monotonic() > deadline:
            return result
        time.sleep(0.02)


def test_accounts_survive_a_restart(tmp_path, receiver):
    path = tmp_path / "simulator-state.json"
    first = start_simulator(port=0, seed=seed_document(receiver.url), config=FAST_CONFIG, state_file=path)
    with first, graph(first) as client:
        client.post(f"/{WABA_ID}/subscribed_apps").raise_for_status()
        created = client.post(f"/{WABA_ID}/message_templates", json=NEW_TEMPLATE).json()
        httpx.post(
            f"{first.base_url}/_sim/inject/message",
            json={"phone_number_id": PHONE_ID, "from": CUSTOMER, "text": {"body": "hi"}},
        ).raise_for_status()
        httpx.post(
            f"{first.base_url}/_sim/seed", json={"tokens": [{"token": OUTSIDER_TOKEN, "valid": False}]}
        ).raise_for_status()
        httpx.post(
            f"{first.base_url}/_sim/phone_quality", json={"phone_number_id": PHONE_ID, "quality_rating": "YELLOW"}
        ).raise_for_status()
        assert eventually(lambda: first.state.templates[created["id"]].status == "APPROVED")

    second = start_simulator(port=0, state_file=path)  # no seed: everything comes from the file
    with second, graph(second) as client:
        token = httpx.get(f"{second.base_url}/debug_token", params={"input_token": TOKEN}).json()["data"]
        outsider = httpx.get(f"{second.base_url}/debug_token", params={"input_token": OUTSIDER_TOKEN}).json()
        numbers = client.get(f"/{WABA_ID}/phone_numbers").json()["data"]
        templates = client.get(f"/{WABA_ID}/message_templates").json()["data"]
        subscribed = client.get(f"/{WABA_ID}/subscribed_apps").json()["data"]
        windows = second.state.snapshot()["windows"]

    assert (token["is_valid"], token["app_id"]) == (True, APP_ID)
    assert outsider["data"]["is_valid"] is False
    assert [(n["id"], n["display_phone_number"], n["quality_rating"]) for n in numbers] == [
        (PHONE_ID, "+1 555-010-0001", "YELLOW")
    ]
    assert sorted((t["name"], t["status"]) for t in templates) == [
        ("order_update", "APPROVED"),
        ("pickup_ready", "APPROVED"),
    ]
    assert created["id"] in {t["id"] for t in templates}
    assert [app["whatsapp_business_api_data"]["id"] for app in subscribed] == [APP_ID]
    assert [(w["phone_number_id"], w["wa_id"], w["open"]) for w in windows] == [(PHONE_ID, CUSTOMER, True)]


def test_the_file_follows_changes_while_running_and_is_replaced_whole(tmp_path):
    path = tmp_path / "state.json"
    with start_simulator(port=0, state_file=path) as handle:
        httpx.post(
            f"{handle.base_url}/_sim/seed",
            json={"wabas": [{"id": "2999", "phone_numbers": [{"id": "3999", "display_phone_number": "+1 555 0199"}]}]},
        ).raise_for_status()

        def saved_waba_ids():
            if not path.exists():
                return []
            return [waba["id"] for waba in json.loads(path.read_text())["wabas"]]

        assert eventually(lambda: saved_waba_ids() == ["2999"])  # written before any stop
        assert [p.name for p in tmp_path.iterdir()] == ["state.json"]  # no temporary file left behind


def test_a_template_still_in_review_at_the_stop_is_decided_after_the_restart(tmp_path, receiver):
    path = tmp_path / "state.json"
    slow_review = {**FAST_CONFIG, "template_review_delay_s": 600}
    with start_simulator(port=0, seed=seed_document(receiver.url), config=slow_review, state_file=path) as first:
        with graph(first) as client:
            template_id = client.post(f"/{WABA_ID}/message_templates", json=NEW_TEMPLATE).json()["id"]
        assert first.state.templates[template_id].status == "PENDING"

    with start_simulator(port=0, config=FAST_CONFIG, state_file=path) as second:
        assert eventually(lambda: second.state.templates[template_id].status == "APPROVED")


def test_reset_empties_the_file_too(tmp_path, receiver):
    path = tmp_path / "state.json"
    with start_simulator(port=0, seed=seed_document(receiver.url), state_file=path) as handle:
        httpx.post(f"{handle.base_url}/_sim/reset").raise_for_status()

    with start_simulator(port=0, state_file=path) as again:
        assert again.state.snapshot()["wabas"] == []


def test_without_a_state_file_nothing_is_kept(tmp_path, monkeypatch, receiver):
    monkeypatch.chdir(tmp_path)
    with start_simulator(port=0, seed=seed_document(receiver.url)) as handle:
        assert handle.simulator.saver is None

    assert list(tmp_path.iterdir()) == []


def test_an_unreadable_state_file_is_a_clear_error(tmp_path, capsys):
    path = tmp_path / "state.json"
    path.write_text("{not json")

    with pytest.raises(StateFileError, match="state.json is not valid JSON"):
        start_simulator(port=0, state_file=path)
    assert main(["--port", "0", "--state-file", str(path)]) == 2
    assert "cannot load the state file" in capsys.readouterr().err


@pytest.mark.slow
def test_the_command_line_keeps_its_state_across_a_restart(tmp_path, receiver):
    path = tmp_path / "state.json"
    with spawn_simulator(seed=seed_document(receiver.url), extra_args=["--state-file", str(path)]) as first:
        httpx.post(
            f"{first.base_url}/_sim/seed",
            json={"tokens": [{"token": "EAAsandbox-new", "app_id": APP_ID, "waba_ids": [WABA_ID]}]},
        ).raise_for_status()
    # SIGTERM stopped it; the next start (as `make run` restarts it) has no seed for that token.
    with spawn_simulator(extra_args=["--state-file", str(path)]) as second:
        token = httpx.get(f"{second.base_url}/debug_token", params={"input_token": "EAAsandbox-new"}).json()
        numbers = httpx.get(
            f"{second.base_url}/v23.0/{WABA_ID}/phone_numbers", headers={"Authorization": "Bearer EAAsandbox-new"}
        )

    assert token["data"]["is_valid"] is True
    assert numbers.status_code == 200 and [n["id"] for n in numbers.json()["data"]] == [PHONE_ID]
