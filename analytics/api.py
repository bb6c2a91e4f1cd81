"""Tenant analytics API: dashboards from the usage roll-ups, and each account's health."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Query, Router

from analytics import journeys, selectors
from analytics.schemas import (
    AccountAnalyticsOut,
    AccountHealthOut,
    AnalyticsQuery,
    DashboardOut,
    HealthQuery,
    JourneyOut,
    PeriodQuery,
    ReferralAdOut,
    TemplateAnalyticsOut,
    WorkflowFunnelOut,
    ZonedPeriodQuery,
)
from platform_core.api import paginated

router = Router(tags=["analytics"])


@router.get("/analytics/dashboard", response=DashboardOut)
def analytics_dashboard(request: HttpRequest, query: Query[AnalyticsQuery]):
    date_from, date_to = query.period
    return selectors.analytics_dashboard(date_from=date_from, date_to=date_to, group_by=query.group_by)


@router.get("/analytics/referrals", response=list[ReferralAdOut])
@paginated
def analytics_referrals(request: HttpRequest, query: Query[PeriodQuery]):
    """Inbound messages per Click-to-WhatsApp ad or post (Meta's `referral.source_id`) in the range."""
    date_from, date_to = query.period
    return selectors.referrals_by_ad(date_from=date_from, date_to=date_to)


@router.get("/analytics/journey", response=JourneyOut)
def analytics_journey(request: HttpRequest, query: Query[ZonedPeriodQuery]):
    """Contacts whose first inbound message fell in the range, and how many went on to a first order."""
    date_from, date_to = query.period
    return journeys.customer_journey(date_from=date_from, date_to=date_to, zone=query.zone)


@router.get("/analytics/workflows/{workflow_id}/funnel", response=WorkflowFunnelOut)
def analytics_workflow_funnel(request: HttpRequest, workflow_id: int, query: Query[ZonedPeriodQuery]):
    """Distinct contacts who entered each step of the workflow in the range, and the drop between steps."""
    date_from, date_to = query.period
    return journeys.workflow_funnel(
        workflow=journeys.workflow_get(workflow_id=workflow_id),
        date_from=date_from,
        date_to=date_to,
        zone=query.zone,
    )


@router.get("/accounts/{account_id}/analytics", response=AccountAnalyticsOut)
def account_analytics(request: HttpRequest, account_id: int, query: Query[AnalyticsQuery]):
    date_from, date_to = query.period
    return selectors.account_analytics(
        account=selectors.account_get(account_id=account_id),
        date_from=date_from,
        date_to=date_to,
        group_by=query.group_by,
    )


@router.get("/templates/{template_id}/analytics", response=TemplateAnalyticsOut)
def template_analytics(request: HttpRequest, template_id: int, query: Query[AnalyticsQuery]):
    date_from, date_to = query.period
    return selectors.template_analytics(
        template=selectors.template_get(template_id=template_id),
        date_from=date_from,
        date_to=date_to,
        group_by=query.group_by,
    )


@router.get("/accounts/{account_id}/health", response=AccountHealthOut)
def account_health(request: HttpRequest, account_id: int, query: Query[HealthQuery]):
    return selectors.account_health(account=selectors.account_get(account_id=account_id), limit=query.limit)
