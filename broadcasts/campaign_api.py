"""Tenant API of campaigns: pre-check, create, list, figures, pause, resume, cancel."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from ninja import Query, Router

from analytics.schemas import ZonedPeriodQuery
from broadcasts import campaigns
from broadcasts.ab_results import AB_RULE, AbResultRows, ab_campaigns
from broadcasts.figures import campaign_figures, campaign_state, local_time
from broadcasts.models import Broadcast
from broadcasts.schemas import AbResultOut, BroadcastCancelIn, CampaignIn, CampaignOut, PrecheckOut
from broadcasts.selectors import broadcast_get, broadcasts_list
from broadcasts.services import broadcast_cancel
from platform_core.api import ShapedRows, paginated

router = Router(tags=["campaigns"])


def campaign_out(broadcast: Broadcast) -> dict:
    figures = campaign_figures(broadcast=broadcast)
    data = figures.as_dict()
    return CampaignOut(
        id=broadcast.pk,
        name=broadcast.name,
        status=campaign_state(broadcast=broadcast, figures=figures),
        phone_number_id=broadcast.phone_number.phone_number_id,
        send_at=broadcast.send_at,
        send_at_local=local_time(broadcast.send_at, broadcast.timezone),
        timezone=broadcast.timezone,
        over_limit=broadcast.over_limit,
        audience=broadcast.audience,
        precheck=broadcast.precheck,
        created_at=broadcast.created_at,
        created_by=broadcast.created_by,
        paused_at=broadcast.paused_at,
        cancelled_at=broadcast.cancelled_at,
        finished_at=broadcast.finished_at,
        totals=data["totals"],
        variants=data["variants"],
    ).model_dump(mode="json")


def _get(campaign_id: int) -> Broadcast:
    try:
        return broadcast_get(broadcast_id=campaign_id)
    except Broadcast.DoesNotExist:
        raise Http404(f"No campaign {campaign_id} in this workspace.") from None


def _actor(request: HttpRequest) -> str:
    key = getattr(request, "auth", None)
    return f"API key {getattr(key, 'prefix', '')}".strip() if key is not None else ""


@router.post(
    "/campaigns/precheck",
    response=PrecheckOut,
    summary="What a campaign would do, without creating it",
    description="The audience after removals, the number's messaging limit and quality, the days needed "
    "and the estimated cost. Errors as creating would answer them.",
)
def campaign_precheck_endpoint(request: HttpRequest, payload: CampaignIn) -> dict:
    return campaigns.campaign_precheck(request=payload).as_dict()


@router.post(
    "/campaigns",
    response={201: CampaignOut},
    summary="Create a campaign",
    description="Checks everything first (templates, every recipient's parameters, the messaging limit), "
    "then queues every message at its slot from `send_at`. Over the limit it answers 422 "
    "`messaging_limit_exceeded` with the figures unless `over_limit` is `spread`.",
)
def campaign_create_endpoint(request: HttpRequest, payload: CampaignIn) -> HttpResponse:
    broadcast = campaigns.campaign_create(request=payload, created_by=_actor(request))
    return JsonResponse(campaign_out(broadcast), status=201)


@router.get("/campaigns", response=list[CampaignOut], summary="Campaigns with their figures, newest first")
@paginated
def campaign_list_endpoint(request: HttpRequest) -> ShapedRows:
    return ShapedRows(broadcasts_list(), campaign_out)


@router.get(
    "/campaigns/ab-results",
    response=list[AbResultOut],
    summary="A/B tests: campaigns with two or more variants, compared",
    description="Campaigns whose first message was due in the range (days in `timezone`, by default "
    f"the workspace's), newest first, each variant's rates and the verdict. {AB_RULE}",
)
@paginated
def campaign_ab_results_endpoint(request: HttpRequest, query: Query[ZonedPeriodQuery]) -> AbResultRows:
    date_from, date_to = query.period
    return AbResultRows(ab_campaigns(date_from=date_from, date_to=date_to, zone=query.zone))


@router.get(
    "/campaigns/{campaign_id}", response=CampaignOut, summary="A campaign and its figures per variant"
)
def campaign_get_endpoint(request: HttpRequest, campaign_id: int) -> dict:
    return campaign_out(_get(campaign_id))


@router.post("/campaigns/{campaign_id}/pause", response=CampaignOut, summary="Hold the messages not yet sent")
def campaign_pause_endpoint(request: HttpRequest, campaign_id: int) -> dict:
    broadcast, _ = campaigns.campaign_pause(broadcast=_get(campaign_id))
    return campaign_out(broadcast)


@router.post(
    "/campaigns/{campaign_id}/resume", response=CampaignOut, summary="Send the held messages from now"
)
def campaign_resume_endpoint(request: HttpRequest, campaign_id: int) -> dict:
    broadcast, _ = campaigns.campaign_resume(broadcast=_get(campaign_id))
    return campaign_out(broadcast)


@router.post(
    "/campaigns/{campaign_id}/cancel",
    response=CampaignOut,
    summary="Cancel a campaign",
    description="Messages not yet sent fail with the reason and are never sent.",
)
def campaign_cancel_endpoint(
    request: HttpRequest, campaign_id: int, payload: BroadcastCancelIn | None = None
) -> dict:
    broadcast, _ = broadcast_cancel(broadcast=_get(campaign_id), reason=payload.reason if payload else "")
    return campaign_out(broadcast)
