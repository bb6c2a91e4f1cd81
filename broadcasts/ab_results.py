"""A/B results: the campaigns of a period that tried two or more template variants, compared.

A campaign belongs to the period when its first message was due (`send_at`, else its creation)
on one of the period's days, read in the workspace's time zone like the analytics figures.

Each variant's rates are shares of the messages Meta accepted ("sent"), as in the campaign's own
figures (`broadcasts.figures`). The rule that names a winner: every variant must have at least
`AB_MIN_SENT` messages accepted, else the campaign is "too few to call"; then the variant with the
highest reply rate leads, or it is a tie when two or more share that rate.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from typing import Any, overload
from zoneinfo import ZoneInfo

from django.db.models import Count, QuerySet
from django.db.models.functions import Coalesce

from analytics.journeys import period_bounds
from broadcasts.figures import VariantFigures, campaigns_variant_figures
from broadcasts.models import Broadcast

AB_MIN_SENT = 100
TOO_FEW = "too_few_to_call"
LEADS = "leads"
TIE = "tie"
AB_RULE = (
    f"A variant leads on reply rate once every variant has at least {AB_MIN_SENT} messages accepted "
    "by Meta; below that the test is too few to call, and equal top rates are a tie."
)


def ab_campaigns(*, date_from: date, date_to: date, zone: ZoneInfo) -> QuerySet[Broadcast]:
    """Campaigns with two or more variants whose first message was due in the period, newest first."""
    start, end = period_bounds(date_from=date_from, date_to=date_to, zone=zone)
    return (
        Broadcast.objects.annotate(
            starts_at=Coalesce("send_at", "created_at"), variant_count=Count("variants")
        )
        .filter(variant_count__gte=2, starts_at__gte=start, starts_at__lt=end)
        .order_by("-starts_at", "-id")
    )


def _variant(figures: VariantFigures) -> dict[str, Any]:
    return {
        "label": figures.label,
        "template": {"name": figures.template_name, "language": figures.template_language},
        "share": figures.share,
        "recipients": figures.recipients,
        "sent": figures.accepted,
        "delivered": figures.delivered + figures.read,
        "read": figures.read,
        "replied": figures.replied,
        "delivery_rate": figures.delivery_rate,
        "read_rate": figures.read_rate,
        "reply_rate": figures.reply_rate,
    }


def ab_verdict(variants: Sequence[VariantFigures]) -> tuple[str, str | None]:
    """(`leads`, the leading label), (`tie`, None) or (`too_few_to_call`, None): see the module docstring."""
    if len(variants) < 2 or any(figures.accepted < AB_MIN_SENT for figures in variants):
        return TOO_FEW, None
    best = max(figures.reply_rate or 0.0 for figures in variants)
    leaders = [figures for figures in variants if (figures.reply_rate or 0.0) == best]
    return (LEADS, leaders[0].label) if len(leaders) == 1 else (TIE, None)


def ab_results(*, broadcasts: list[Broadcast]) -> list[dict[str, Any]]:
    """Each campaign's variants compared, in the order given. Two queries for all of them."""
    figures = campaigns_variant_figures(broadcasts=broadcasts)
    results = []
    for broadcast in broadcasts:
        variants = figures[broadcast.pk]
        verdict, leader = ab_verdict(variants)
        results.append(
            {
                "id": broadcast.pk,
                "name": broadcast.name,
                "starts_at": broadcast.send_at or broadcast.created_at,
                "verdict": verdict,
                "leader": leader,
                "variants": [_variant(variant) for variant in variants],
            }
        )
    return results


class AbResultRows(Sequence[dict[str, Any]]):
    """`ab_results` of a queryset's campaigns, counted a page at a time when sliced (for `paginated`)."""

    def __init__(self, campaigns: QuerySet[Broadcast]) -> None:
        self.campaigns = campaigns

    def __len__(self) -> int:
        return self.campaigns.count()

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return ab_results(broadcasts=list(self.campaigns[index]))
        return ab_results(broadcasts=[self.campaigns[index]])[0]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(ab_results(broadcasts=list(self.campaigns)))
