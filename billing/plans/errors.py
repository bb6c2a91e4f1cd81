"""Billing's domain errors (stable codes; the API shapes them once)."""

from __future__ import annotations

from platform_core.errors import DomainError


class PlanVersionLocked(DomainError):
    code = "plan_version_locked"
    status = 409


class StatementImmutable(DomainError):
    code = "statement_immutable"
    status = 409


class PlanLimitReached(DomainError):
    """The plan allows no more of something this period (or at all, for accounts and numbers)."""

    code = "plan_limit_reached"
    status = 402


class NoSubscription(DomainError):
    code = "no_subscription"
    status = 404


class StatementNotFound(DomainError):
    code = "not_found"
    status = 404


class PlanNotFound(DomainError):
    code = "not_found"
    status = 404


class PlanCodeTaken(DomainError):
    code = "plan_code_taken"
    status = 409


class SubscriptionExists(DomainError):
    code = "subscription_exists"
    status = 409


class BalanceExhausted(DomainError):
    """The plan is prepaid and the tenant's credit is used up: nothing more is sent until a top-up."""

    code = "balance_exhausted"
    status = 402


class NoCreditAccount(DomainError):
    code = "no_credit_account"
    status = 404
