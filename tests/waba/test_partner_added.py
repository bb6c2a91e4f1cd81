"""The `account_update` webhook with event PARTNER_ADDED: the Graph API simulator sends it to the
platform's app when a signup shares a WABA, as Meta does; signed through the real endpoint and the
webhook worker it is recorded in the account's event log, and one about a WABA no workspace holds yet
stays with the operators (a dead letter naming the WABA) until the account exists and it is replayed.
"""

from __future__ import annotations

import json

import pytest

from messaging.models import WebhookEventLogEntry
from tests.conftest import ApiClient
from tests.waba import test_embedded_signup as signup_tests
from tests.waba.conftest import BUSINESS_ID, PHONE_ID, WABA_ID
from tests.waba.factories import AccountFactory
from tests.waba.test_embedded_signup import (
    PLATFORM_APP_ID,
    PLATFORM_APP_SECRET,
    URL,
    completion,
    signup_window,
)
from tests.webhooks.conftest import WebhookPoster, process_journal
from waba.models import AccountEventLog
from waba.services.events import account_event_apply
from webhooks.models import WebhookDeadLetter, WebhookJournalEntry

platform_app = signup_tests.platform_app
_fresh_limiter = signup_tests._fresh_limiter

PARTNER_ADDED = {"event": "PARTNER_ADDED", "waba_info": {"waba_id": WABA_ID, "owner_business_id": BUSINESS_ID}}


@pytest.fixture
def platform_webhook(platform_app) -> WebhookPoster:
    """Signed webhooks of the platform's own app, through the real endpoint."""
    return WebhookPoster(ApiClient("localhost"), app_id=PLATFORM_APP_ID, secret=PLATFORM_APP_SECRET)


def _partner_added_sent(sim) -> dict:
    [sent] = sim.webhooks(limit=0, field_name="account_update")
    return sent["payload"]


def test_the_signup_window_sends_partner_added_about_the_shared_waba(platform_app):
    signup_window(platform_app, account=f"{WABA_ID}:{PHONE_ID}")

    payload = _partner_added_sent(platform_app)

    [entry] = payload["entry"]
    assert entry["id"] == WABA_ID and isinstance(entry["time"], int)
    assert entry["changes"] == [{"field": "account_update", "value": PARTNER_ADDED}]


def test_partner_added_for_a_connected_account_is_recorded_in_its_event_log(
    platform_app, platform_webhook, api_a, tenant_a, in_tenant
):
    sim = platform_app
    signup = signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}")
    account_id = api_a.post_json(URL, completion(signup)).json()["account"]["id"]
    body = json.dumps(_partner_added_sent(sim))

    for _ in range(2):  # Meta delivers at least once
        assert platform_webhook.post(body).status_code == 200
        process_journal()

    with in_tenant(tenant_a):
        [logged] = AccountEventLog.objects.filter(field="account_update")
        assert (logged.account_id, logged.waba_id, logged.event, logged.outcome) == (
            account_id, WABA_ID, "PARTNER_ADDED", AccountEventLog.Outcome.APPLIED)
        assert logged.value == PARTNER_ADDED
        [received] = WebhookEventLogEntry.objects.filter(field="account_update")
        assert (received.waba_id, received.status) == (WABA_ID, WebhookEventLogEntry.Status.PROCESSED)
    assert not WebhookDeadLetter.objects.exists()


def test_partner_added_before_any_workspace_holds_the_waba_is_expected_and_leaves_no_dead_letter(
    platform_app, platform_webhook, api_a, tenant_a, in_tenant
):
    """Meta sends it when the window finishes, before the workspace's completion connects the WABA:
    the journal notes it, operators get no dead letter for a signup that went as it should."""
    sim = platform_app
    signup = signup_window(sim, account=f"{WABA_ID}:{PHONE_ID}")
    assert platform_webhook.post(json.dumps(_partner_added_sent(sim))).status_code == 200

    process_journal()

    [entry] = WebhookJournalEntry.objects.filter(app_id=PLATFORM_APP_ID)
    assert entry.state == WebhookJournalEntry.State.PROCESSED
    assert entry.outcome == {"partner_added_before_connection": 1}
    assert not WebhookDeadLetter.objects.exists()
    assert api_a.post_json(URL, completion(signup)).status_code == 201


def test_an_unrouted_account_update_of_another_kind_is_still_dead_lettered(platform_app, platform_webhook, db):
    body = json.dumps({"object": "whatsapp_business_account", "entry": [{"id": WABA_ID, "time": 1, "changes": [
        {"field": "account_update", "value": {"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "DISABLE"}}}
    ]}]})
    assert platform_webhook.post(body).status_code == 200

    process_journal()

    [kept] = WebhookDeadLetter.objects.all()
    assert (kept.reason, kept.field, kept.routing_id) == (WebhookDeadLetter.Reason.UNROUTED, "account_update", WABA_ID)


def test_partner_added_fills_a_missing_owner_business_and_keeps_a_known_one(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        blank = AccountFactory(waba_id="720000000000011", business_account_id="")
        known = AccountFactory(waba_id="720000000000012", business_account_id="740000000000099")
        for account in (blank, known):
            value = {"event": "PARTNER_ADDED",
                     "waba_info": {"waba_id": account.waba_id, "owner_business_id": "740000000000055"}}
            account_event_apply(waba_id=account.waba_id, field="account_update", value=value)
            account.refresh_from_db()

        assert blank.business_account_id == "740000000000055"
        assert known.business_account_id == "740000000000099"
        assert set(AccountEventLog.objects.values_list("event", "outcome")) == {("PARTNER_ADDED", "applied")}


def test_partner_added_naming_a_waba_this_workspace_has_no_account_for_is_logged_unmatched(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account_event_apply(waba_id="720000000000077", field="account_update",
                            value={"event": "PARTNER_ADDED", "waba_info": {"waba_id": "720000000000077"}})

        [logged] = AccountEventLog.objects.all()
        assert (logged.account_id, logged.event, logged.outcome) == (None, "PARTNER_ADDED", "unmatched")
