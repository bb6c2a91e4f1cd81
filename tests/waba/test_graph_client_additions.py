"""What this area added to the Graph client, against the simulator: numbers page by page, unsubscribing."""

from __future__ import annotations

from tests.waba.conftest import PHONE_ID, SECOND_PHONE_ID, TOKEN, WABA_ID
from waba.graph import GraphClient


def test_iter_phone_numbers_follows_the_pages(sim):
    numbers = list(GraphClient(TOKEN).iter_phone_numbers(WABA_ID, page_size=1, fields=["id"]))

    assert [number["id"] for number in numbers] == [PHONE_ID, SECOND_PHONE_ID]
    assert [r["query"].get("limit") for r in sim.requests(path_contains="phone_numbers")][:2] == ["1", "1"]


def test_unsubscribe_undoes_subscribe(sim):
    client = GraphClient(TOKEN)
    client.subscribe_app(WABA_ID)
    assert sim.state.snapshot()["wabas"][0]["subscribed_apps"]

    client.unsubscribe_app(WABA_ID)

    assert sim.state.snapshot()["wabas"][0]["subscribed_apps"] == []
    assert sim.requests()[-1]["method"] == "DELETE"
