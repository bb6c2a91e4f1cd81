"""Finishing the simulator's signup window sends the signing app, as Meta does, the `account_update`
webhook with event PARTNER_ADDED about the shared WABA: at the app's own URL, signed with its secret,
and to no other app subscribed to that WABA."""

from __future__ import annotations

import httpx

from tests.graph_simulator.conftest import APP_ID, APP_SECRET, PHONE_ID, WABA_ID

PARTNER_APP_ID = "100000000000077"
PARTNER_APP_SECRET = "partner-app-secret-77"
OPENER = "http://alpha.localhost:8000"


def test_the_shared_waba_is_announced_to_the_signing_app_only(sim, graph, receiver):
    sim.seed({"apps": [{"app_id": PARTNER_APP_ID, "app_secret": PARTNER_APP_SECRET,
                        "webhook_url": receiver.url + "/partner", "name": "Partner"}]})
    assert graph.post(f"/{WABA_ID}/subscribed_apps").status_code == 200  # APP_ID listens to the WABA

    finished = httpx.post(f"{sim.base_url}/_signup/dialog",
                          data={"client_id": PARTNER_APP_ID, "origin": OPENER, "account": f"{WABA_ID}:{PHONE_ID}"})
    assert finished.status_code == 200

    receiver.wait_for(lambda: receiver.changes("account_update") and sim.simulator.webhooks.idle())
    [delivery] = [d for d in receiver.deliveries if dict(d.changes()).get("account_update")]
    assert delivery.path.endswith("/partner")
    assert delivery.signature_valid(PARTNER_APP_SECRET) and not delivery.signature_valid(APP_SECRET)
    [entry] = delivery.payload["entry"]
    assert entry["id"] == WABA_ID and isinstance(entry["time"], int)
    assert entry["changes"] == [{"field": "account_update", "value": {
        "event": "PARTNER_ADDED", "waba_info": {"waba_id": WABA_ID, "owner_business_id": "900"},
    }}]


def test_a_new_waba_made_in_the_window_is_announced_with_its_new_business(sim, receiver):
    finished = httpx.post(f"{sim.base_url}/_signup/dialog", data={
        "client_id": APP_ID, "origin": OPENER, "account": "new",
        "business_name": "Gamma Bakery", "display_phone_number": "+1 555 010 0444",
    })
    assert finished.status_code == 200

    [(field, value)] = receiver.wait_for(lambda: receiver.changes("account_update"))
    waba = next(w for w in sim.simulator.state.snapshot()["wabas"] if w["name"] == "Gamma Bakery")
    assert value == {"event": "PARTNER_ADDED",
                     "waba_info": {"waba_id": waba["id"], "owner_business_id": waba["business_id"]}}
