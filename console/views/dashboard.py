"""The tenant dashboard: the analytics roll-ups over a chosen range, as charts, tables and CSV files.

Figures come from the selectors the analytics API uses (`analytics.selectors`, `analytics.journeys`)
and from the campaigns' A/B results (`broadcasts.ab_results`), so the page, its CSV files and
`/api/v1/analytics/dashboard`, `/api/v1/analytics/journey`, `/api/v1/analytics/workflows/{id}/funnel`
and `/api/v1/campaigns/ab-results` always agree.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils import timezone

from analytics import journeys, selectors
from analytics.schemas import DEFAULT_RANGE_DAYS, EARLIEST_DAY, LATEST_DAY, MAX_RANGE_DAYS
from automations.models import Workflow
from broadcasts.ab_results import AB_RULE, ab_campaigns, ab_results
from console.access import tenant_console_view
from console.charts import (
    BAD,
    BRAND,
    INFO,
    WARN,
    Chart,
    Series,
    Table,
    bar_chart,
    chart_csv,
    duration_label,
    line_chart,
    percent_label,
)
from tenants.context import TenantRequest

PRESETS = (7, 30, 90)
TOP_TEMPLATES_CHARTED = 8
AB_TESTS_SHOWN = 20


class DateRangeForm(forms.Form):
    date_from = forms.DateField(label="From", widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="To", widget=forms.DateInput(attrs={"type": "date"}))
    workflow = forms.ModelChoiceField(
        queryset=Workflow.objects.order_by("name"),
        required=False,
        label="Workflow",
        empty_label="The busiest",
    )

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        date_from, date_to = cleaned.get("date_from"), cleaned.get("date_to")
        if date_from is None or date_to is None:
            return cleaned
        if not (EARLIEST_DAY <= date_from <= LATEST_DAY and EARLIEST_DAY <= date_to <= LATEST_DAY):
            raise forms.ValidationError(
                f"Choose days between {EARLIEST_DAY:%d %b %Y} and {LATEST_DAY:%d %b %Y}."
            )
        if date_from > date_to:
            raise forms.ValidationError("The start date must be on or before the end date.")
        if (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            raise forms.ValidationError(f"Choose a range of at most {MAX_RANGE_DAYS} days.")
        return cleaned


def _range_query(date_from: date, date_to: date) -> str:
    return urlencode({"date_from": date_from.isoformat(), "date_to": date_to.isoformat()})


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _day_label(day: date) -> str:
    return f"{day:%b} {day.day}"


def dashboard_charts(*, usage: dict[str, Any], templates: list[dict[str, Any]]) -> list[Chart]:
    """The dashboard's charts, each with the table of its numbers, from `usage_daily_dashboard`."""
    series = usage["series"]
    days = [point["period_start"] for point in series]
    labels = [_day_label(day) for day in days]
    messages = line_chart(
        name="messages",
        title="Messages per day",
        description="Outbound messages by what happened to them, counted on the day they were sent.",
        categories=labels,
        series=[
            Series("Sent", [point["sent"] for point in series], INFO),
            Series("Delivered", [point["delivered"] for point in series], BRAND),
            Series("Read", [point["read"] for point in series], WARN),
            Series("Failed", [point["failed"] for point in series], BAD),
        ],
        x_label="Day (UTC)",
        y_label="Messages",
        table=Table(
            ["Day", "Sent", "Delivered", "Read", "Failed", "Received"],
            [
                [
                    p["period_start"].isoformat(),
                    p["sent"],
                    p["delivered"],
                    p["read"],
                    p["failed"],
                    p["received"],
                ]
                for p in series
            ],
        ),
    )
    rates = line_chart(
        name="rates",
        title="Delivery and read rates",
        description="Delivered out of sent, and read out of delivered, per day. Days without sends have no rate.",
        categories=labels,
        series=[
            Series("Delivery rate", [_percent(point["delivery_rate"]) for point in series], BRAND),
            Series("Read rate", [_percent(point["read_rate"]) for point in series], INFO),
        ],
        x_label="Day (UTC)",
        y_label="Percent",
        y_max=100,
        y_format=percent_label,
        table=Table(
            ["Day", "Sent", "Delivered", "Read", "Delivery rate (%)", "Read rate (%)"],
            [
                [
                    p["period_start"].isoformat(),
                    p["sent"],
                    p["delivered"],
                    p["read"],
                    _percent(p["delivery_rate"]),
                    _percent(p["read_rate"]),
                ]
                for p in series
            ],
        ),
    )
    categories = usage["conversations_by_category"]
    conversations = bar_chart(
        name="conversations",
        title="Conversations by category",
        description="Meta conversations opened in the range, by the category Meta prices them in.",
        categories=[category.capitalize() for category in categories],
        series=[Series("Conversations", list(categories.values()), BRAND)],
        x_label="Category",
        y_label="Conversations",
        table=Table(
            ["Category", "Conversations"], [[category, count] for category, count in categories.items()]
        ),
    )
    charted = templates[:TOP_TEMPLATES_CHARTED]
    template_chart = bar_chart(
        name="templates",
        title="Template performance",
        description=f"The {TOP_TEMPLATES_CHARTED} most sent templates in the chart; every template in the table.",
        categories=[template["name"] for template in charted],
        series=[
            Series("Sent", [template["sent"] for template in charted], INFO),
            Series("Delivered", [template["delivered"] for template in charted], BRAND),
            Series("Read", [template["read"] for template in charted], WARN),
            Series("Failed", [template["failed"] for template in charted], BAD),
        ],
        x_label="Template",
        y_label="Messages",
        table=Table(
            [
                "Template",
                "Language",
                "Category",
                "Sent",
                "Delivered",
                "Read",
                "Failed",
                "Replied",
                "Delivery rate (%)",
                "Read rate (%)",
                "Reply rate (%)",
            ],
            [
                [
                    t["name"],
                    t["language"],
                    t["category"],
                    t["sent"],
                    t["delivered"],
                    t["read"],
                    t["failed"],
                    t["replied"],
                    _percent(t["delivery_rate"]),
                    _percent(t["read_rate"]),
                    _percent(t["reply_rate"]),
                ]
                for t in templates
            ],
        ),
    )
    replies = usage["reply_times"]
    reply_times = line_chart(
        name="reply-times",
        title="First-reply time",
        description="Median time from a customer's message to your first reply, per day (minutes).",
        categories=labels,
        series=[
            Series(
                "Median first reply",
                [
                    None if r["median_reply_time_s"] is None else round(r["median_reply_time_s"] / 60, 1)
                    for r in replies
                ],
                BRAND,
            )
        ],
        x_label="Day (UTC)",
        y_label="Minutes",
        table=Table(
            ["Day", "Replies", "Median first reply", "Median first reply (seconds)"],
            [
                [
                    r["day"].isoformat(),
                    r["replies"],
                    None if r["median_reply_time_s"] is None else duration_label(r["median_reply_time_s"]),
                    r["median_reply_time_s"],
                ]
                for r in replies
            ],
        ),
    )
    codes = usage["top_failure_codes"]
    failures = bar_chart(
        name="failures",
        title="Top failure codes",
        description="Meta's error codes on the messages that failed, the most frequent first.",
        categories=[code["code"] for code in codes],
        series=[Series("Failed messages", [code["count"] for code in codes], BAD)],
        x_label="Error code",
        y_label="Failed messages",
        table=Table(
            ["Error code", "Meaning", "Failed messages"],
            [[code["code"], code["meaning"], code["count"]] for code in codes],
        ),
    )
    return [messages, rates, conversations, template_chart, reply_times, failures]


def funnel_chart(funnel: dict[str, Any] | None) -> Chart:
    """The chosen workflow's funnel: distinct contacts per step, in the workflow's order."""
    steps = funnel["steps"] if funnel else []
    return bar_chart(
        name="funnel",
        title=f"Funnel of {funnel['name']}" if funnel else "Workflow funnel",
        description="Contacts who entered each step in the range, in the order the workflow leads through them.",
        categories=[step["step"] for step in steps],
        series=[Series("Contacts", [step["contacts"] for step in steps], BRAND)],
        x_label="Step",
        y_label="Contacts",
        table=Table(
            ["Step", "Contacts", "Share of the first step (%)", "After step", "Drop", "Drop (%)"],
            [
                [
                    s["step"],
                    s["contacts"],
                    _percent(s["share_of_first"]),
                    s["after"],
                    s["drop"],
                    _percent(s["drop_rate"]),
                ]
                for s in steps
            ],
        ),
    )


def _journey_summary(journey: dict[str, Any]) -> list[dict[str, str]]:
    median, p90 = journey["median_time_to_first_order_s"], journey["p90_time_to_first_order_s"]
    conversion = journey["conversion_rate"]
    return [
        {
            "label": "First contacts",
            "value": f"{journey['first_contacts']:,}",
            "hint": "Customers who wrote to you for the first time in the range.",
        },
        {
            "label": "Conversion to first order",
            "value": "—" if conversion is None else f"{_percent(conversion)}%",
            "hint": f"{journey['first_orders']:,} of them placed an order since.",
        },
        {
            "label": "Median time to first order",
            "value": "—" if median is None else duration_label(median),
            "hint": "From the first message to the first order.",
        },
        {
            "label": "90% ordered within",
            "value": "—" if p90 is None else duration_label(p90),
            "hint": "Nine in ten first orders came this soon or sooner.",
        },
    ]


def _ab_rows(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One table row per variant, the campaign's name and verdict on its first."""
    verdicts = {"leads": "{} leads", "tie": "Tie", "too_few_to_call": "Too few to call"}
    rows = []
    for result in results:
        for position, variant in enumerate(result["variants"]):
            rows.append(
                {
                    "campaign": result if position == 0 else None,
                    "span": len(result["variants"]),
                    "verdict": verdicts[result["verdict"]].format(result["leader"]),
                    "leading": variant["label"] == result["leader"],
                    **variant,
                    **{
                        name: _percent(variant[name])
                        for name in ("delivery_rate", "read_rate", "reply_rate")
                    },
                }
            )
    return rows


def _summary(usage: dict[str, Any]) -> list[dict[str, str]]:
    totals, rates = usage["totals"], usage["rates"]
    median = usage["median_reply_time_s"]

    def rate_text(value: float | None) -> str:
        return "—" if value is None else f"{_percent(value)}%"

    return [
        {"label": "Sent", "value": f"{totals['sent']:,}", "hint": "Outbound messages that left the queue."},
        {
            "label": "Delivery rate",
            "value": rate_text(rates["delivery_rate"]),
            "hint": f"{totals['delivered']:,} delivered out of {totals['sent']:,} sent.",
        },
        {
            "label": "Read rate",
            "value": rate_text(rates["read_rate"]),
            "hint": f"{totals['read']:,} read out of {totals['delivered']:,} delivered.",
        },
        {
            "label": "Failed",
            "value": f"{totals['failed']:,}",
            "hint": f"Failure rate {rate_text(rates['failure_rate'])} of sent.",
        },
        {
            "label": "Received",
            "value": f"{totals['received']:,}",
            "hint": "Messages your customers sent you.",
        },
        {
            "label": "Median first reply",
            "value": "—" if median is None else duration_label(median),
            "hint": f"Over {usage['replies']:,} answered customer messages.",
        },
    ]


@tenant_console_view(area="dashboard")
def dashboard(request: TenantRequest) -> HttpResponse:
    today = timezone.now().date()
    if "date_from" in request.GET or "date_to" in request.GET:
        form = DateRangeForm(request.GET)
    else:
        default_from = today - timedelta(days=DEFAULT_RANGE_DAYS - 1)
        form = DateRangeForm({"date_from": default_from.isoformat(), "date_to": today.isoformat()})
    presets = [
        {"days": days, "url": "?" + _range_query(today - timedelta(days=days - 1), today)} for days in PRESETS
    ]
    wants_csv = request.GET.get("format") == "csv"
    if not form.is_valid():
        if wants_csv:
            return HttpResponse(
                " ".join(str(error) for errors in form.errors.values() for error in errors),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        return render(
            request,
            "console/dashboard/index.html",
            {"section": "dashboard", "form": form, "presets": presets, "charts": []},
        )

    date_from, date_to = form.cleaned_data["date_from"], form.cleaned_data["date_to"]
    usage = selectors.usage_daily_dashboard(date_from=date_from, date_to=date_to)
    templates = selectors.templates_performance(date_from=date_from, date_to=date_to)
    charts = dashboard_charts(usage=usage, templates=templates)
    zone = journeys.workspace_zone()
    workflow = form.cleaned_data["workflow"] or journeys.workflow_busiest(
        date_from=date_from, date_to=date_to, zone=zone
    )
    funnel = (
        journeys.workflow_funnel(workflow=workflow, date_from=date_from, date_to=date_to, zone=zone)
        if workflow is not None
        else None
    )
    funnel_bars = funnel_chart(funnel)
    if wants_csv:
        return _csv_response([*charts, funnel_bars], request.GET.get("chart", ""), date_from, date_to)
    journey = journeys.customer_journey(date_from=date_from, date_to=date_to, zone=zone)
    campaigns = list(ab_campaigns(date_from=date_from, date_to=date_to, zone=zone)[:AB_TESTS_SHOWN])
    query = _range_query(date_from, date_to)
    for preset in presets:
        preset["current"] = preset["url"] == "?" + query
    return render(
        request,
        "console/dashboard/index.html",
        {
            "section": "dashboard",
            "form": form,
            "presets": presets,
            "charts": charts,
            "summary": _summary(usage),
            "date_from": date_from,
            "date_to": date_to,
            "query": query,
            "nothing_happened": all(chart.is_empty for chart in charts),
            "zone": zone.key,
            "journey": _journey_summary(journey),
            "funnel": funnel,
            "funnel_chart": funnel_bars,
            "funnel_query": f"{query}&workflow={funnel['workflow_id']}" if funnel else query,
            "ab_rows": _ab_rows(ab_results(broadcasts=campaigns)),
            "ab_rule": AB_RULE,
            "ab_shown": AB_TESTS_SHOWN,
        },
    )


def _csv_response(charts: list[Chart], name: str, date_from: date, date_to: date) -> HttpResponse:
    chart = next((chart for chart in charts if chart.name == name), None)
    if chart is None:
        raise Http404("No such chart.")
    response = HttpResponse(chart_csv(chart), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{chart.name}-{date_from}-to-{date_to}.csv"'
    return response


urlpatterns = [path("dashboard/", dashboard, name="dashboard")]
