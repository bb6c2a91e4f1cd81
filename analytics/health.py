"""Account health checks: ask Meta whether an account still works, log what it said, act on it.

One check = `debug_token` (token valid, expiry), `GET /{phone_number_id}` for every number
(status, quality, tier, throughput, name status) and `GET /{waba_id}/subscribed_apps` (webhooks
still arrive). Every run writes an `AccountHealthLog`. A dead token, a restricted or flagged
number, a missing permission or subscription makes the account unhealthy with the reason; a
later passing check makes it healthy again. No answer from the Graph API is not a verdict:
only `health_unreachable_threshold()` such runs in a row mark the account unhealthy.

Runs inside the tenant's schema. The Graph calls happen outside any transaction; the verdict
is applied under a row lock on the account so two overlapping checks cannot interleave.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from analytics.models import AccountHealthEvent, AccountHealthLog
from analytics.selectors import accounts_health
from tenants.health_summary import account_health_summary_store
from tenants.models import AccountHealthEntry
from waba import meta
from waba.graph import GraphClient, GraphError
from waba.meta import ErrorAction
from waba.models import PhoneNumber, WhatsAppAccount
from waba.services.accounts import account_mark_healthy, account_mark_unhealthy
from waba.services.credentials import graph_client_for, secret_value
from waba.services.phone_numbers import phone_number_apply_meta, phone_number_meta_values

# Accounts in these states are checked; drafts are still in the wizard, suspended ones are off.
CHECKED_ACCOUNT_STATUSES = (WhatsAppAccount.Status.ACTIVE, WhatsAppAccount.Status.UNHEALTHY)
# Number statuses under which Meta will not let the number send normally.
UNHEALTHY_NUMBER_STATUSES = frozenset({"FLAGGED", "RESTRICTED", "BANNED", "DISCONNECTED"})
# Meta flags a number when its quality reaches RED (status FLAGGED); the simulator only moves quality.
FLAGGED_QUALITY = meta.QualityRating.RED
QUALITY_RANK: dict[str, int] = {meta.QualityRating.GREEN: 3, meta.QualityRating.YELLOW: 2, meta.QualityRating.RED: 1}
# Errors that say "try again later", not "something is wrong with this account".
INCONCLUSIVE_ACTIONS = frozenset({ErrorAction.RETRY, ErrorAction.THROTTLED})
# How far back to look for a number's previous observation (a day of 15-minute checks).
BASELINE_LOOKBACK_LOGS = 96


class Severity:
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    check: str  # token | phone_number | subscription | graph
    severity: str
    code: str
    message: str
    phone_number_id: str | None = None
    # What Meta said about the number: the baseline the next check's events are measured against.
    observed: dict[str, str] | None = None

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in asdict(self).items() if value is not None}


class _GraphUnreachable(Exception):
    def __init__(self, error: GraphError) -> None:
        super().__init__(str(error))
        self.error = error


class _Probe:
    """Times each Graph call; turns 'no answer' errors into _GraphUnreachable."""

    def __init__(self, client: GraphClient) -> None:
        self.client = client
        self.latency_s = 0.0
        self.error_code: int | None = None

    def call(self, method: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
        started = time.monotonic()
        try:
            return method(*args)
        except GraphError as error:
            self.error_code = error.code if error.code is not None else self.error_code
            if error.action in INCONCLUSIVE_ACTIONS:
                raise _GraphUnreachable(error) from None
            raise
        finally:
            self.latency_s += time.monotonic() - started


# --- the check ----------------------------------------------------------------------------------


def account_is_checkable(account: WhatsAppAccount) -> bool:
    return (
        account.status in CHECKED_ACCOUNT_STATUSES
        and account.access_token is not None
        and bool(account.waba_id)
    )


def account_health_check(*, account: WhatsAppAccount, now: datetime | None = None) -> AccountHealthLog:
    """Check one account against the Graph API, write its health log and apply the verdict."""
    now = now or timezone.now()
    started = time.monotonic()
    probe = _Probe(graph_client_for(account))
    findings: list[Finding] = []
    number_changes: list[tuple[PhoneNumber, dict[str, Any]]] = []
    reachable = True
    try:
        if _check_token(probe, account, findings, now):
            _check_numbers(probe, account, findings, number_changes, started)
            _check_subscription(probe, account, findings)
    except _GraphUnreachable as unreachable:
        reachable = False
        findings.append(
            Finding(
                "graph", Severity.WARNING, "graph_unreachable", f"No answer from the Graph API: {unreachable}"
            )
        )
    log = _verdict_apply(
        account_id=account.pk,
        now=now,
        reachable=reachable,
        findings=findings,
        number_changes=number_changes,
        latency_ms=round(probe.latency_s * 1000),
        error_code=probe.error_code,
    )
    health_summary_refresh()
    return log


def health_summary_refresh() -> None:
    """Store this tenant's accounts' health in the public summary (tenants.health_summary): its row
    and an entry per account, which the platform console and API list without entering tenant
    schemas. Runs in the tenant's schema."""
    accounts = accounts_health()
    qualities = {
        number["quality_rating"] for account in accounts for number in account["phone_numbers"]
    } - {""}
    worst = min(qualities, key=lambda quality: QUALITY_RANK.get(quality, 2), default="")
    account_health_summary_store(
        accounts=len(accounts),
        unhealthy=sum(1 for account in accounts if account["status"] == WhatsAppAccount.Status.UNHEALTHY),
        worst_quality=worst,
        worst_quality_rank=QUALITY_RANK.get(worst, 2) if worst else 4,
        last_checked_at=AccountHealthLog.objects.aggregate(last=Max("checked_at"))["last"],
        entries=[AccountHealthEntry(**account) for account in accounts],
    )


def _check_token(probe: _Probe, account: WhatsAppAccount, findings: list[Finding], now: datetime) -> bool:
    """True when the token works, so the other checks are worth making."""
    token = secret_value(account.access_token)
    try:
        data = probe.call(probe.client.debug_token, token).get("data") or {}
    except GraphError as error:
        findings.append(_failure_finding("token", error))
        return False
    if not data.get("is_valid"):
        meta_error = data.get("error") or {}
        probe.error_code = meta_error.get("code") or meta.ErrorCode.ACCESS_TOKEN_INVALID
        message = meta_error.get("message") or "Meta says the access token is not valid."
        findings.append(Finding("token", Severity.ERROR, "token_invalid", f"Access token invalid: {message}"))
        return False
    expires_at = int(data.get("expires_at") or 0)
    expiry = datetime.fromtimestamp(expires_at, tz=UTC) if expires_at else None
    if expiry != account.access_token_expires_at:
        WhatsAppAccount.objects.filter(pk=account.pk).update(access_token_expires_at=expiry)
    if expiry and expiry - now < timedelta(days=settings.HEALTH_TOKEN_EXPIRY_WARNING_DAYS):
        findings.append(
            Finding(
                "token",
                Severity.WARNING,
                "token_expiring",
                f"The access token expires at {expiry:%Y-%m-%d %H:%M} UTC.",
            )
        )
    else:
        findings.append(Finding("token", Severity.OK, "token_valid", "The access token is valid."))
    return True


def _check_numbers(
    probe: _Probe,
    account: WhatsAppAccount,
    findings: list[Finding],
    number_changes: list[tuple[PhoneNumber, dict[str, Any]]],
    started: float,
) -> None:
    for number in account.phone_numbers.all():
        if time.monotonic() - started > settings.HEALTH_CHECK_BUDGET_S:
            findings.append(
                Finding(
                    "phone_number",
                    Severity.WARNING,
                    "check_incomplete",
                    "Not checked: the check ran out of time.",
                    number.phone_number_id,
                )
            )
            continue
        try:
            fields = probe.call(probe.client.get_phone_number, number.phone_number_id)
        except GraphError as error:
            findings.append(_failure_finding("phone_number", error, number.phone_number_id))
            continue
        observed = phone_number_observed(fields)
        number_changes.append((number, fields))
        findings.append(replace(_number_finding(number, observed), observed=observed))


def _number_finding(number: PhoneNumber, observed: dict[str, str]) -> Finding:
    label = number.display_phone_number or number.phone_number_id
    status, quality = observed.get("status", ""), observed.get("quality_rating", "")
    if status.upper() in UNHEALTHY_NUMBER_STATUSES:
        return Finding(
            "phone_number",
            Severity.ERROR,
            "number_restricted",
            f"Number {label} is {status} at Meta.",
            number.phone_number_id,
        )
    if quality == FLAGGED_QUALITY:
        return Finding(
            "phone_number",
            Severity.ERROR,
            "number_flagged",
            f"Number {label} is flagged: quality rating RED.",
            number.phone_number_id,
        )
    if quality == meta.QualityRating.YELLOW:
        return Finding(
            "phone_number",
            Severity.WARNING,
            "quality_yellow",
            f"Number {label} has quality rating YELLOW.",
            number.phone_number_id,
        )
    return Finding(
        "phone_number",
        Severity.OK,
        "number_ok",
        f"Number {label}: {status or 'status unknown'}, quality {quality or 'UNKNOWN'}.",
        number.phone_number_id,
    )


def _check_subscription(probe: _Probe, account: WhatsAppAccount, findings: list[Finding]) -> None:
    try:
        data = probe.call(probe.client.list_subscribed_apps, account.waba_id).get("data") or []
    except GraphError as error:
        findings.append(_failure_finding("subscription", error))
        return
    app_ids = {str((item.get("whatsapp_business_api_data") or {}).get("id")) for item in data}
    subscribed = account.app_id in app_ids if account.app_id else bool(app_ids)
    if subscribed:
        findings.append(Finding("subscription", Severity.OK, "subscribed", "Webhooks are subscribed."))
    else:
        findings.append(
            Finding(
                "subscription",
                Severity.ERROR,
                "webhook_subscription_missing",
                "The app is no longer subscribed to this WABA's webhooks: nothing will arrive.",
            )
        )


def _failure_finding(check: str, error: GraphError, phone_number_id: str | None = None) -> Finding:
    codes = {
        ErrorAction.AUTH_INVALID: "token_invalid",
        ErrorAction.ACCOUNT_RESTRICTED: "account_restricted",
        ErrorAction.PERMISSION: "permission_missing",
    }
    code = codes.get(error.action, "graph_error")
    return Finding(
        check,
        Severity.ERROR,
        code,
        f"Graph API refused the {check} check: {error.message} (code {error.code})",
        phone_number_id,
    )


# --- phone number state ----------------------------------------------------------------------


# What Meta says about a number that the health check watches (and makes events of).
OBSERVED_FIELDS = ("quality_rating", "messaging_limit_tier", "throughput_level", "status", "name_status")


def phone_number_observed(fields: dict[str, Any]) -> dict[str, str]:
    """The health-relevant fields of a Graph phone number object, as the number stores them."""
    values = phone_number_meta_values(fields)
    return {field: values[field] for field in OBSERVED_FIELDS if field in values}


def phone_number_health_apply(
    *,
    phone_number: PhoneNumber,
    fields: dict[str, Any],
    at: datetime,
    reason: str = "",
    baseline: dict[str, str] | None = None,
) -> list[AccountHealthEvent]:
    """Store what Meta says about a number (its Graph object `fields`, applied as every refresh
    applies it) and record each change worth an event.

    Changes are measured against `baseline` (what the previous check saw) when given, else
    against the number as stored: a drop that a webhook already wrote to the number between
    two checks is still an event. A first observation (nothing known before) makes no event.
    Call inside a transaction.
    """
    events: list[AccountHealthEvent] = []
    kinds = {
        "messaging_limit_tier": AccountHealthEvent.Kind.TIER_CHANGE,
        "throughput_level": AccountHealthEvent.Kind.THROUGHPUT_CHANGE,
        "status": AccountHealthEvent.Kind.NUMBER_STATUS_CHANGE,
        "name_status": AccountHealthEvent.Kind.NAME_STATUS_CHANGE,
    }
    observed = phone_number_observed(fields)
    stored = {field: getattr(phone_number, field) for field in observed}
    changed = phone_number_apply_meta(phone=phone_number, fields=fields)
    for field, new in observed.items():
        old = (baseline or {}).get(field, stored[field])
        if new == old or not old or old == meta.QualityRating.UNKNOWN:
            continue
        if field == "quality_rating":
            if new not in QUALITY_RANK or old not in QUALITY_RANK:
                continue
            kind = (
                AccountHealthEvent.Kind.QUALITY_DOWNGRADE
                if QUALITY_RANK[new] < QUALITY_RANK[old]
                else AccountHealthEvent.Kind.QUALITY_UPGRADE
            )
        else:
            kind = kinds[field]
        events.append(
            AccountHealthEvent(
                account_id=phone_number.account_id,
                phone_number=phone_number,
                kind=kind,
                old_value=old,
                new_value=new,
                reason=reason[:500],
                occurred_at=at,
            )
        )
    phone_number.last_synced_at = at
    phone_number.save(update_fields=[*changed, "last_synced_at", "updated_at"])
    AccountHealthEvent.objects.bulk_create(events)
    return events


# --- verdict -------------------------------------------------------------------------------------


def _verdict_apply(
    *,
    account_id: int,
    now: datetime,
    reachable: bool,
    findings: list[Finding],
    number_changes: list[tuple[PhoneNumber, dict[str, Any]]],
    latency_ms: int,
    error_code: int | None,
) -> AccountHealthLog:
    with transaction.atomic():
        account = WhatsAppAccount.objects.select_for_update().get(pk=account_id)
        baselines = _last_observations(account)
        for number, fields in number_changes:
            phone_number_health_apply(
                phone_number=number,
                fields=fields,
                at=now,
                reason="health check",
                baseline=baselines.get(number.phone_number_id),
            )
        errors = [finding for finding in findings if finding.severity == Severity.ERROR]
        if not reachable:
            healthy = None
            misses = _consecutive_unreachable(account) + 1
            if misses >= settings.HEALTH_UNREACHABLE_THRESHOLD:
                healthy = False
                errors = [
                    Finding(
                        "graph",
                        Severity.ERROR,
                        "graph_unreachable_repeatedly",
                        f"The Graph API did not answer {misses} health checks in a row.",
                    )
                ]
                findings = [*findings, errors[0]]
        else:
            healthy = not errors
        if account.status not in CHECKED_ACCOUNT_STATUSES:
            pass  # suspended or reset to draft while we were asking Meta: log only
        elif healthy is False:
            reason = "; ".join(finding.message for finding in errors)[:500]
            if account.status != WhatsAppAccount.Status.UNHEALTHY or account.status_reason != reason:
                _mark_unhealthy(account, reason=reason, code=error_code, at=now)
        elif healthy is True and account.status == WhatsAppAccount.Status.UNHEALTHY:
            _mark_healthy(account, at=now)
        return AccountHealthLog.objects.create(
            account=account,
            checked_at=now,
            healthy=healthy,
            reachable=reachable,
            findings=[finding.as_dict() for finding in findings],
            graph_latency_ms=latency_ms,
            error_code=error_code,
            account_status=account.status,
        )


def _last_observations(account: WhatsAppAccount) -> dict[str, dict[str, str]]:
    """Each number's observation from the latest check that saw it (among the recent ones)."""
    observations: dict[str, dict[str, str]] = {}
    for findings in AccountHealthLog.objects.filter(account=account, reachable=True).values_list(
        "findings", flat=True
    )[:BASELINE_LOOKBACK_LOGS]:
        for finding in findings:
            number_id, observed = finding.get("phone_number_id"), finding.get("observed")
            if number_id and observed and number_id not in observations:
                observations[number_id] = observed
    return observations


def _consecutive_unreachable(account: WhatsAppAccount) -> int:
    recent = AccountHealthLog.objects.filter(account=account).values_list("reachable", flat=True)
    count = 0
    for was_reachable in recent[: settings.HEALTH_UNREACHABLE_THRESHOLD]:
        if was_reachable:
            break
        count += 1
    return count


# --- account status: the waba app's services own it -----------------------------------------------


def _mark_unhealthy(account: WhatsAppAccount, *, reason: str, code: int | None, at: datetime) -> None:
    was = account.status
    account_mark_unhealthy(account=account, reason=reason, code=code)
    if was != WhatsAppAccount.Status.UNHEALTHY and account.status == WhatsAppAccount.Status.UNHEALTHY:
        AccountHealthEvent.objects.create(
            account=account,
            kind=AccountHealthEvent.Kind.BECAME_UNHEALTHY,
            old_value=was,
            new_value=account.status,
            reason=reason,
            occurred_at=at,
        )


def _mark_healthy(account: WhatsAppAccount, *, at: datetime) -> None:
    was, reason = account.status, account.status_reason
    account_mark_healthy(account=account)
    if account.status != was:
        AccountHealthEvent.objects.create(
            account=account,
            kind=AccountHealthEvent.Kind.BECAME_HEALTHY,
            old_value=was,
            new_value=account.status,
            reason=f"A health check passed (was: {reason})"[:500],
            occurred_at=at,
        )
