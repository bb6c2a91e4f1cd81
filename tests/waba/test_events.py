"""`account_event_apply`: Meta's recorded account-level webhooks replayed onto templates, numbers
and the account; applied once, logged once, older events ignored."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.fixtures import load_webhook_fixture
from tests.waba.factories import AccountFactory, PhoneNumberFactory, TemplateFactory
from waba.models import AccountEventLog, MessageTemplate, PhoneNumber, WhatsAppAccount
from waba.services.events import account_event_apply

FIXTURE_WABA_ID = "102290129340398"


def _change(name: str) -> tuple[str, dict]:
    change = load_webhook_fixture(name)["entry"][0]["changes"][0]
    return change["field"], change["value"]


def _apply(name: str, **kwargs) -> None:
    field, value = _change(name)
    account_event_apply(waba_id=FIXTURE_WABA_ID, field=field, value=value, **kwargs)


@pytest.fixture
def account(tenant_a, in_tenant):
    with in_tenant(tenant_a):
        account = AccountFactory(waba_id=FIXTURE_WABA_ID)
        PhoneNumberFactory(account=account, phone_number_id="106540352242922", e164_number="+15550783881", display_phone_number="+1 555-078-3881")
        TemplateFactory(account=account, name="appointment_reminder", meta_template_id="1689556908129832", status="PENDING")
        TemplateFactory(account=account, name="summer_sale", meta_template_id="", status="PENDING")
        TemplateFactory(account=account, name="weekly_digest", language="en_GB", meta_template_id="1689556908129834")
        TemplateFactory(account=account, name="loyalty_points", meta_template_id="1689556908129835")
    with in_tenant(tenant_a):
        yield account


def _template(name: str) -> MessageTemplate:
    return MessageTemplate.objects.get(name=name)


def test_template_status_updates_by_meta_id_or_by_name_and_language(account):
    _apply("template_status_approved")
    _apply("template_status_rejected")
    _apply("template_status_paused")

    assert _template("appointment_reminder").status == "APPROVED"
    rejected = _template("summer_sale")
    assert (rejected.status, rejected.rejection_reason) == ("REJECTED", "INCORRECT_CATEGORY")
    assert rejected.meta_template_id == "1689556908129833"  # learnt from the event
    paused = _template("weekly_digest")
    assert paused.status == "PAUSED" and "low quality" in paused.rejection_reason


def test_template_quality_and_category_updates(account):
    _apply("template_quality_update")
    _apply("template_category_update")

    assert _template("weekly_digest").quality_score == "YELLOW"
    assert _template("loyalty_points").category == "MARKETING"


def test_phone_quality_downgrade_throughput_upgrade_and_name(account):
    _apply("phone_number_quality_downgrade")
    phone = PhoneNumber.objects.get()
    assert phone.messaging_limit_tier == "TIER_2K"

    _apply("phone_number_quality_throughput_upgrade")
    _apply("phone_number_name_update")
    phone.refresh_from_db()
    assert (phone.messaging_limit_tier, phone.throughput_level, phone.throughput_mps) == ("TIER_UNLIMITED", "HIGH", 1000)
    assert (phone.verified_name, phone.name_status) == ("Fisher Flowers", "APPROVED")


def test_account_violation_marks_the_account_unhealthy_and_a_ban_suspends_it(account):
    _apply("account_update_violation")
    account.refresh_from_db()
    assert account.status == "unhealthy" and "ACCOUNT_VIOLATION" in account.status_reason
    assert "SCAM" in account.status_reason

    ban = {"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "DISABLE", "waba_ban_date": "2026-11-25"}}
    account_event_apply(waba_id=FIXTURE_WABA_ID, field="account_update", value=ban)
    account.refresh_from_db()
    assert account.status == "suspended"

    account_event_apply(
        waba_id=FIXTURE_WABA_ID, field="account_update", value={"event": "DISABLED_UPDATE", "ban_info": {"waba_ban_state": "REINSTATE"}}
    )
    account.refresh_from_db()
    assert account.status == "active"


def test_business_capabilities_are_kept(account):
    _apply("business_capability_update")
    account.refresh_from_db()
    assert account.meta_capabilities["max_daily_conversations_per_business"] == 2000


def test_the_same_event_twice_changes_nothing_more(account):
    _apply("template_status_approved")
    template = _template("appointment_reminder")
    updated_at = template.updated_at

    _apply("template_status_approved")

    assert AccountEventLog.objects.filter(field="message_template_status_update").count() == 1
    assert _template("appointment_reminder").updated_at == updated_at


def test_a_status_coming_back_later_is_applied_again(account):
    field, approved = _change("template_status_approved")
    paused = {**approved, "event": "PAUSED"}
    for value in (approved, paused, approved):
        account_event_apply(waba_id=FIXTURE_WABA_ID, field=field, value=value)
    assert _template("appointment_reminder").status == "APPROVED"
    assert AccountEventLog.objects.filter(field=field).count() == 3


def test_an_older_event_arriving_late_is_logged_as_stale_and_not_applied(account):
    field, approved = _change("template_status_approved")
    now = datetime.now(tz=UTC)
    account_event_apply(waba_id=FIXTURE_WABA_ID, field=field, value={**approved, "event": "PAUSED"}, occurred_at=now)
    account_event_apply(waba_id=FIXTURE_WABA_ID, field=field, value=approved, occurred_at=now - timedelta(minutes=5))

    assert _template("appointment_reminder").status == "PAUSED"
    assert AccountEventLog.objects.order_by("id").last().outcome == "stale"


def test_events_for_unknown_templates_or_wabas_are_logged_not_applied(tenant_a, in_tenant, account):
    account_event_apply(
        waba_id=FIXTURE_WABA_ID,
        field="message_template_status_update",
        value={"event": "APPROVED", "message_template_id": 1, "message_template_name": "nope", "message_template_language": "en"},
    )
    account_event_apply(waba_id="999", field="account_update", value={"event": "ACCOUNT_VIOLATION"})

    outcomes = list(AccountEventLog.objects.order_by("id").values_list("outcome", "account_id"))
    assert outcomes == [("unmatched", account.pk), ("unmatched", None)]
    assert WhatsAppAccount.objects.get().status == "active"


def test_the_event_log_is_listed_per_account(account, api_a):
    _apply("template_status_approved")
    events = api_a.get(f"/api/v1/accounts/{account.pk}/events").json()
    assert [(e["field"], e["event"], e["outcome"]) for e in events] == [("message_template_status_update", "APPROVED", "applied")]


def test_a_template_review_reaches_the_template_through_the_real_webhook_path(live_account, sim, api_a, tenant_a, in_tenant):
    """Wizard-registered app and routes, Meta's signed POST, the journal worker, then this service."""
    import json

    from tests.conftest import ApiClient
    from tests.waba.conftest import APP_ID, APP_SECRET, WABA_ID
    from tests.waba.test_templates import ORDER_CONFIRMATION
    from webhooks.meta_apps import webhook_apps_forget
    from webhooks.signature import compute_signature
    from webhooks.tasks import webhook_worker_run

    sim.configure(template_review_delay_s=60)
    created = api_a.post_json(f"/api/v1/accounts/{live_account.pk}/templates", ORDER_CONFIRMATION).json()
    body = json.dumps(
        {
            "object": "whatsapp_business_account",
            "entry": [
                {
                    "id": WABA_ID,
                    "time": 1764000000,
                    "changes": [
                        {
                            "field": "message_template_status_update",
                            "value": {
                                "event": "APPROVED",
                                "message_template_id": int(created["meta_template_id"]),
                                "message_template_name": "order_confirmation",
                                "message_template_language": "en_US",
                                "reason": "NONE",
                            },
                        }
                    ],
                }
            ],
        }
    ).encode()
    webhook_apps_forget()

    response = ApiClient("localhost").generic(
        "POST",
        f"/webhooks/whatsapp/{APP_ID}",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": compute_signature(body, APP_SECRET)},
    )
    webhook_worker_run(should_stop=lambda: False, exit_when_idle=True)

    assert response.status_code == 200
    assert api_a.get(f"/api/v1/templates/{created['id']}").json()["status"] == "APPROVED"
    webhook_apps_forget()
