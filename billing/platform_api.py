"""Platform billing API (public host): plans and their versions, tenants' subscriptions and statements."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Status

from billing import selectors
from billing.credit import credit_top_up
from billing.plans import services
from billing.plans.errors import NoCreditAccount, NoSubscription, PlanNotFound
from billing.plans.models import CreditAccount, Plan, PlanVersion, Subscription
from billing.schemas import (
    CreditMovementOut,
    CreditOut,
    PlanChangeIn,
    PlanIn,
    PlanVersionIn,
    PlanVersionOut,
    StatementOut,
    SubscriptionIn,
    SubscriptionOut,
    TopUpIn,
)
from platform_core.api import ShapedRows, paginated
from tenants.context import TenantRequest
from tenants.schemas import TenantSlug
from tenants.services import tenant_get

platform_router = Router(tags=["platform: billing"])


def plan_version_out(version: PlanVersion) -> dict:
    return {
        **{name: getattr(version, name) for name in PlanVersionIn.model_fields},
        "id": version.pk,
        "plan_code": version.plan.code,
        "plan_name": version.plan.name,
        "version": version.version,
        "locked": version.is_locked,
    }


def subscription_out(subscription: Subscription) -> dict:
    return {
        "tenant": subscription.tenant.slug,
        "plan_version_id": subscription.plan_version_id,
        "plan": str(subscription.plan_version),
        "next_plan_version_id": subscription.next_plan_version_id,
        "anchor_day": subscription.anchor_day,
        "status": subscription.status,
        "trial_ends_at": subscription.trial_ends_at,
        "tax_percent": subscription.tax_percent,
    }


def _version(version_id: int) -> PlanVersion:
    version = PlanVersion.objects.select_related("plan").filter(pk=version_id).first()
    if version is None:
        raise PlanNotFound(f"No plan version {version_id}.")
    return version


def _subscription(slug: str) -> Subscription:
    subscription = selectors.subscription_of(tenant_id=tenant_get(slug=slug).pk)
    if subscription is None:
        raise NoSubscription(f"Tenant {slug!r} has no subscription.")
    return subscription


@platform_router.get("/billing/plans", response=list[PlanVersionOut])
@paginated
def plans_list(request: HttpRequest):
    """Every version of every plan, newest version first within a plan."""
    return ShapedRows(selectors.plan_versions(), plan_version_out)


@platform_router.post("/billing/plans", response={201: PlanVersionOut})
def plan_create(request: HttpRequest, payload: PlanIn):
    plan = services.plan_create(code=payload.code, name=payload.name)
    return Status(201, plan_version_out(services.plan_version_create(plan=plan, terms=payload.terms.terms())))


@platform_router.post("/billing/plans/{code}/versions", response={201: PlanVersionOut})
def plan_version_create(request: HttpRequest, code: str, payload: PlanVersionIn):
    plan = Plan.objects.filter(code=code).first()
    if plan is None:
        raise PlanNotFound(f"No plan {code!r}.")
    return Status(201, plan_version_out(services.plan_version_create(plan=plan, terms=payload.terms())))


@platform_router.put("/billing/plan-versions/{int:version_id}", response=PlanVersionOut)
def plan_version_update(request: HttpRequest, version_id: int, payload: PlanVersionIn):
    """Change a version's terms; 409 `plan_version_locked` once a closed statement used it."""
    return plan_version_out(services.plan_version_update(version=_version(version_id), terms=payload.terms()))


@platform_router.get("/billing/subscriptions/{slug}", response=SubscriptionOut)
def subscription_get(request: HttpRequest, slug: TenantSlug):
    return subscription_out(_subscription(slug))


@platform_router.post("/billing/subscriptions/{slug}", response={201: SubscriptionOut})
def subscription_create(request: HttpRequest, slug: TenantSlug, payload: SubscriptionIn):
    subscription = services.subscription_create(
        tenant=tenant_get(slug=slug),
        plan_version=_version(payload.plan_version_id),
        anchor_day=payload.anchor_day,
        trial_ends_at=payload.trial_ends_at,
        tax_percent=payload.tax_percent,
    )
    return Status(
        201, subscription_out(selectors.subscription_of(tenant_id=subscription.tenant_id) or subscription)
    )


@platform_router.post("/billing/subscriptions/{slug}/plan", response=SubscriptionOut)
def subscription_change_plan(request: HttpRequest, slug: TenantSlug, payload: PlanChangeIn):
    """Change the plan now (the whole current period is billed on it) or at the next period."""
    subscription = _subscription(slug)
    services.subscription_change_plan(
        subscription=subscription, plan_version=_version(payload.plan_version_id), timing=payload.timing
    )
    return subscription_out(_subscription(slug))


@platform_router.get("/billing/statements/{slug}", response=list[StatementOut])
@paginated
def statements_list(request: HttpRequest, slug: TenantSlug):
    return selectors.statements_of(tenant_id=tenant_get(slug=slug).pk).prefetch_related("lines")


def credit_out(account: CreditAccount) -> dict:
    return {
        "tenant": account.tenant.slug,
        "currency": account.currency,
        "balance": account.balance,
        "alert_base": account.alert_base,
        "alert_percents": account.alert_percents,
        "alerts": selectors.credit_alerts_current(account=account),
    }


def _credit_account(slug: str) -> CreditAccount:
    account = selectors.credit_account_of(tenant_id=tenant_get(slug=slug).pk)
    if account is None:
        raise NoCreditAccount(f"Tenant {slug!r} has no prepaid balance yet; a top-up opens one.")
    return account


@platform_router.get("/billing/credit/{slug}", response=CreditOut)
def credit_get(request: HttpRequest, slug: TenantSlug):
    """The tenant's prepaid balance and the spend alerts raised since its last top-up."""
    return credit_out(_credit_account(slug))


@platform_router.post("/billing/credit/{slug}/top-ups", response={201: CreditOut})
def credit_top_up_create(request: TenantRequest, slug: TenantSlug, payload: TopUpIn):
    """Add credit (in the account's currency; the first top-up opens the account in the plan's)."""
    movement = credit_top_up(
        tenant=tenant_get(slug=slug),
        amount=payload.amount,
        note=payload.note,
        alert_percents=payload.alert_percents,
        created_by=f"platform-key:{request.auth.prefix}",
    )
    return Status(201, credit_out(CreditAccount.objects.select_related("tenant").get(pk=movement.account_id)))


@platform_router.get("/billing/credit/{slug}/movements", response=list[CreditMovementOut])
@paginated
def credit_movements(request: HttpRequest, slug: TenantSlug):
    """Top-ups and draw-downs, newest first."""
    return selectors.credit_movements_of(tenant_id=tenant_get(slug=slug).pk)
