"""Account health checks against the Graph API simulator, with injected faults."""

from __future__ import annotations

import time

import pytest

from analytics.health import account_health_check
from analytics.models import AccountHealthEvent, AccountHealthLog
from tests.analytics.conftest import ALPHA, APP_ID, account_with_number, simulator_seed
from waba import meta
from waba.models import PhoneNumber, WhatsAppAccount


@pytest.fixture
def alpha_account(simulator, tenant_a, in_tenant):
    simulator_seed(simulator)
    with in_tenant(tenant_a):
        yield account_with_number(ALPHA)


def check(account: WhatsAppAccount) -> AccountHealthLog:
    log = account_health_check(account=account)
    account.refresh_from_db()
    return log


def codes(log: AccountHealthLog) -> dict[str, str]:
    return {finding["code"]: finding["severity"] for finding in log.findings}


def set_phone(simulator, **fields) -> None:
    simulator.seed(
        {"phone_numbers": [{"id": ALPHA["phone_number_id"], "waba_id": ALPHA["waba_id"], **fields}]}
    )


def test_healthy_account_is_logged_with_each_check_and_the_exact_graph_calls(alpha_account, simulator):
    log = check(alpha_account)

    assert log.healthy is True and log.reachable is True
    assert codes(log) == {"token_valid": "ok", "number_ok": "ok", "subscribed": "ok"}
    assert log.graph_latency_ms is not None and log.error_code is None
    assert alpha_account.status == WhatsAppAccount.Status.ACTIVE
    paths = [(entry["method"], entry["path"]) for entry in simulator.requests()]
    assert paths == [
        ("GET", "/v23.0/debug_token"),
        ("GET", f"/v23.0/{ALPHA['phone_number_id']}"),
        ("GET", f"/v23.0/{ALPHA['waba_id']}/subscribed_apps"),
    ]
    assert ALPHA["token"] not in str(log.findings)


def test_expired_token_makes_the_account_unhealthy_and_a_later_pass_heals_it(alpha_account, simulator):
    simulator_seed(simulator, expires_at=int(time.time()) - 60)

    log = check(alpha_account)

    assert log.healthy is False and log.error_code == 190
    assert codes(log) == {"token_invalid": "error"}
    assert alpha_account.status == WhatsAppAccount.Status.UNHEALTHY
    assert "expired" in alpha_account.status_reason.lower()
    assert ALPHA["token"] not in alpha_account.status_reason
    assert log.account_status == WhatsAppAccount.Status.UNHEALTHY

    simulator_seed(simulator, expires_at=0)
    log = check(alpha_account)

    assert log.healthy is True
    assert alpha_account.status == WhatsAppAccount.Status.ACTIVE and alpha_account.status_reason == ""
    kinds = list(AccountHealthEvent.objects.order_by("occurred_at", "id").values_list("kind", flat=True))
    assert kinds == ["became_unhealthy", "became_healthy"]


def test_token_expiring_soon_is_a_warning_and_its_expiry_is_stored(alpha_account, simulator):
    expires_at = int(time.time()) + 2 * 86400
    simulator_seed(simulator, expires_at=expires_at)

    log = check(alpha_account)

    assert log.healthy is True
    assert codes(log)["token_expiring"] == "warning"
    assert int(alpha_account.access_token_expires_at.timestamp()) == expires_at


def test_error_190_from_the_graph_api_marks_the_account_unhealthy(alpha_account, simulator):
    simulator.simulator.faults.add(_fault(path_contains=ALPHA["phone_number_id"], error_code=190))

    log = check(alpha_account)

    assert log.healthy is False and log.error_code == 190
    assert codes(log)["token_invalid"] == "error"
    assert alpha_account.status == WhatsAppAccount.Status.UNHEALTHY


def test_unknown_token_is_invalid(alpha_account, simulator):
    WhatsAppAccount.objects.filter(pk=alpha_account.pk).update(access_token="EAA-never-issued")
    alpha_account.refresh_from_db()

    log = check(alpha_account)

    assert log.healthy is False and codes(log) == {"token_invalid": "error"}
    assert alpha_account.status == WhatsAppAccount.Status.UNHEALTHY


def test_quality_drops_and_tier_changes_are_events_and_red_makes_the_account_unhealthy(
    alpha_account, simulator
):
    set_phone(simulator, quality_rating="YELLOW", messaging_limit_tier="TIER_10K")
    log = check(alpha_account)

    assert log.healthy is True and codes(log)["quality_yellow"] == "warning"
    number = PhoneNumber.objects.get()
    assert (number.quality_rating, number.messaging_limit_tier) == ("YELLOW", "TIER_10K")
    assert number.last_synced_at == log.checked_at

    set_phone(simulator, quality_rating="RED")
    log = check(alpha_account)

    assert log.healthy is False and codes(log)["number_flagged"] == "error"
    assert alpha_account.status == WhatsAppAccount.Status.UNHEALTHY
    assert "quality rating RED" in alpha_account.status_reason
    events = list(
        AccountHealthEvent.objects.order_by("occurred_at", "id").values_list("kind", "old_value", "new_value")
    )
    assert events == [
        ("quality_downgrade", "GREEN", "YELLOW"),
        ("tier_change", "TIER_1K", "TIER_10K"),
        ("quality_downgrade", "YELLOW", "RED"),
        ("became_unhealthy", "active", "unhealthy"),
    ]

    set_phone(simulator, quality_rating="GREEN")
    check(alpha_account)
    assert alpha_account.status == WhatsAppAccount.Status.ACTIVE
    assert AccountHealthEvent.objects.filter(
        kind="quality_upgrade", old_value="RED", new_value="GREEN"
    ).exists()


def test_a_throughput_upgrade_seen_by_the_check_changes_the_pace_the_send_worker_keeps(
    alpha_account, simulator
):
    assert PhoneNumber.objects.get().throughput_mps == meta.DEFAULT_THROUGHPUT_MPS
    set_phone(simulator, throughput={"level": "HIGH"})

    check(alpha_account)

    number = PhoneNumber.objects.get()
    assert (number.throughput_level, number.throughput_mps) == ("HIGH", meta.MAX_THROUGHPUT_MPS)
    event = AccountHealthEvent.objects.get(kind="throughput_change")
    assert (event.old_value, event.new_value) == ("STANDARD", "HIGH")


def test_restricted_number_makes_the_account_unhealthy(alpha_account, simulator):
    set_phone(simulator, status="RESTRICTED")

    log = check(alpha_account)

    assert codes(log)["number_restricted"] == "error"
    assert alpha_account.status == WhatsAppAccount.Status.UNHEALTHY
    assert AccountHealthEvent.objects.filter(kind="number_status_change", new_value="RESTRICTED").exists()


def test_missing_webhook_subscription_is_an_error(alpha_account, simulator):
    simulator.state.wabas[ALPHA["waba_id"]].subscriptions.pop(APP_ID)

    log = check(alpha_account)

    assert codes(log)["webhook_subscription_missing"] == "error"
    assert alpha_account.status == WhatsAppAccount.Status.UNHEALTHY


def test_unreachable_once_is_recorded_but_not_a_verdict(alpha_account, settings, closed_port_url):
    settings.GRAPH_API_BASE_URL = closed_port_url

    log = check(alpha_account)

    assert log.reachable is False and log.healthy is None
    assert codes(log) == {"graph_unreachable": "warning"}
    assert alpha_account.status == WhatsAppAccount.Status.ACTIVE


def test_three_unreachable_checks_in_a_row_make_it_unhealthy_and_a_pass_heals_it(
    alpha_account, simulator, settings, closed_port_url
):
    simulator_url = settings.GRAPH_API_BASE_URL
    settings.GRAPH_API_BASE_URL = closed_port_url
    logs = [check(alpha_account) for _ in range(2)]
    assert alpha_account.status == WhatsAppAccount.Status.ACTIVE

    logs.append(check(alpha_account))

    assert [log.healthy for log in logs] == [None, None, False]
    assert codes(logs[-1])["graph_unreachable_repeatedly"] == "error"
    assert alpha_account.status == WhatsAppAccount.Status.UNHEALTHY
    assert "did not answer 3 health checks in a row" in alpha_account.status_reason

    settings.GRAPH_API_BASE_URL = simulator_url
    assert check(alpha_account).healthy is True
    assert alpha_account.status == WhatsAppAccount.Status.ACTIVE


def test_server_errors_count_as_unreachable_and_a_reachable_check_resets_the_streak(alpha_account, simulator):
    simulator.simulator.faults.add(_fault(path_contains="debug_token", status=503, times=2))
    assert check(alpha_account).healthy is None
    assert check(alpha_account).healthy is None
    assert check(alpha_account).healthy is True  # the fault is spent: the streak ends here

    simulator.simulator.faults.add(_fault(path_contains="debug_token", status=503, times=1))
    assert check(alpha_account).healthy is None
    assert alpha_account.status == WhatsAppAccount.Status.ACTIVE


def test_slow_graph_beyond_the_client_timeout_is_unreachable(alpha_account, simulator, settings):
    settings.GRAPH_API_TIMEOUT_S = 1
    simulator.simulator.faults.add(_fault(path_contains="debug_token", latency_ms=1500, times=1))

    log = check(alpha_account)

    assert log.reachable is False and log.healthy is None


def _fault(**fields):
    from graph_simulator.faults import fault_rule_parse

    return fault_rule_parse(fields)


def test_a_drop_a_webhook_already_stored_is_still_an_event_at_the_next_check(alpha_account, simulator):
    check(alpha_account)  # the baseline: GREEN
    set_phone(simulator, quality_rating="YELLOW")
    PhoneNumber.objects.update(quality_rating="YELLOW")  # what the webhook path did in between

    check(alpha_account)

    drop = AccountHealthEvent.objects.get(kind="quality_downgrade")
    assert (drop.old_value, drop.new_value) == ("GREEN", "YELLOW")
    check(alpha_account)
    assert AccountHealthEvent.objects.filter(kind="quality_downgrade").count() == 1  # recorded once
