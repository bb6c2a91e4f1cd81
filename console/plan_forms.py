"""The platform console's forms for plans and subscriptions.

The fields only give each value its type and widget; the rules are the platform API's
(`billing.schemas`), so a value the API refuses is refused here too, next to its field.
"""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from django import forms
from django.utils.html import strip_tags
from pydantic import BaseModel, ValidationError

from billing.plans.models import CATEGORIES, PlanChange, PlanVersion
from billing.schemas import PlanChangeIn, PlanIn, PlanVersionIn, SubscriptionIn
from billing.selectors import plan_versions
from platform_core.errors import DomainError

LIMITS = ("max_accounts", "max_phone_numbers", "max_users")
NO_LIMIT = forms.NumberInput(attrs={"placeholder": "no limit", "min": 0})


def _category_label(category: str) -> str:
    return category.replace("_", " ").capitalize()


def schema_message(form: forms.Form, name: str | None, problem: Any) -> str:
    """The schema's message, or for a value of the wrong shape the field's own description of it."""
    hint = form.fields[name].help_text if name else ""
    if problem["type"] == "string_pattern_mismatch" and hint:
        return f"Not in the expected form: {strip_tags(str(hint))}"
    return str(problem["msg"])


class PlanVersionForm(forms.Form):
    """A plan version's terms: one field per category for allowances and overage rates."""

    schema: type[BaseModel] = PlanVersionIn
    validated: BaseModel

    monthly_fee = forms.DecimalField(
        initial="0.00", help_text="Billed once a period, in the plan's currency."
    )
    currency = forms.CharField(initial="USD", help_text="Three capital letters (ISO 4217), e.g. EUR.")
    usd_rate = forms.DecimalField(
        label="Price of one US dollar",
        initial="1",
        help_text="In the plan's currency: Meta's costs are in US dollars.",
    )
    markup_percent = forms.DecimalField(
        label="Markup (%)", initial="0", help_text="Added to Meta's cost of each message."
    )
    overage_policy = forms.ChoiceField(
        choices=PlanVersion.OveragePolicy.choices, initial=PlanVersion.OveragePolicy.BLOCK
    )
    max_accounts = forms.IntegerField(
        label="WhatsApp accounts", required=False, widget=NO_LIMIT, help_text="Empty: no limit."
    )
    max_phone_numbers = forms.IntegerField(
        label="Phone numbers", required=False, widget=NO_LIMIT, help_text="Empty: no limit."
    )
    max_users = forms.IntegerField(
        label="Console users", required=False, widget=NO_LIMIT, help_text="Empty: no limit."
    )
    stop_at_zero_balance = forms.BooleanField(
        label="Prepaid: stop sending at zero balance",
        required=False,
        help_text="Sends are refused while the tenant's credit is used up.",
    )
    features = forms.JSONField(
        required=False,
        initial=dict,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text='A JSON object of flags and numbers, e.g. <code>{"flows": true}</code>.',
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for category in CATEGORIES:
            self.fields[f"included_{category}"] = forms.IntegerField(
                label=_category_label(category), required=False, widget=NO_LIMIT
            )
            self.fields[f"overage_{category}"] = forms.DecimalField(
                label=_category_label(category),
                required=False,
                widget=forms.NumberInput(attrs={"placeholder": "0", "step": "any", "min": 0}),
            )

    def included_fields(self) -> list[forms.BoundField]:
        return [self[f"included_{category}"] for category in CATEGORIES]

    def overage_fields(self) -> list[forms.BoundField]:
        return [self[f"overage_{category}"] for category in CATEGORIES]

    def limit_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in LIMITS]

    def _terms_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        terms = {
            name: data[name]
            for name in (
                "monthly_fee",
                "currency",
                "usd_rate",
                "markup_percent",
                "overage_policy",
                "stop_at_zero_balance",
                *LIMITS,
            )
            if name in data
        }
        terms["features"] = data.get("features") or {}
        terms["included_messages"] = {
            category: data[f"included_{category}"]
            for category in CATEGORIES
            if data.get(f"included_{category}") is not None
        }
        terms["overage_rates"] = {
            category: data[f"overage_{category}"]
            for category in CATEGORIES
            if data.get(f"overage_{category}") is not None
        }
        return terms

    def _schema_data(self) -> dict[str, Any]:
        return self._terms_data()

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            self.validated = self.schema.model_validate(self._schema_data())
        except ValidationError as error:
            for problem in error.errors():
                name = self._field_of(problem["loc"])
                self.add_error(name, schema_message(self, name, problem))
        return cleaned

    def _field_of(self, location: tuple[int | str, ...]) -> str | None:
        """The form field a schema error's location names (`included_messages.marketing` and so on)."""
        location = location[1:] if location[:1] == ("terms",) else location
        name = str(location[0]) if location else ""
        key = str(location[1]) if len(location) > 1 else ""
        if name == "included_messages" and f"included_{key}" in self.fields:
            return f"included_{key}"
        if name == "overage_rates" and f"overage_{key}" in self.fields:
            return f"overage_{key}"
        return name if name in self.fields else None

    def terms(self) -> dict[str, Any]:
        """The terms as `billing.plans.services` takes them (once the form is valid)."""
        validated = self.validated
        assert isinstance(validated, PlanVersionIn)
        return validated.terms()


def plan_version_initial(version: PlanVersion) -> dict[str, Any]:
    """A form's starting values: the terms of `version`, to publish the next version from."""
    initial: dict[str, Any] = {
        name: getattr(version, name)
        for name in (
            "monthly_fee",
            "currency",
            "usd_rate",
            "markup_percent",
            "overage_policy",
            "stop_at_zero_balance",
            "features",
            *LIMITS,
        )
    }
    for category in CATEGORIES:
        initial[f"included_{category}"] = version.included_for(category)
        if category in version.overage_rates:
            initial[f"overage_{category}"] = version.overage_rate_for(category)
    return initial


class PlanCreateForm(PlanVersionForm):
    """A new plan and the terms of its version 1."""

    code = forms.CharField(
        max_length=50,
        help_text="Lowercase letters, digits and hyphens; the API names the plan by it.",
    )
    name = forms.CharField(max_length=100, help_text="Shown to tenants on their billing page.")
    schema = PlanIn
    field_order = ["code", "name"]

    def _schema_data(self) -> dict[str, Any]:
        return {
            "code": self.cleaned_data["code"],
            "name": self.cleaned_data["name"],
            "terms": self._terms_data(),
        }

    def terms(self) -> dict[str, Any]:
        validated = self.validated
        assert isinstance(validated, PlanIn)
        return validated.terms.terms()


class PlanVersionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj} · {obj.monthly_fee} {obj.currency} a month"


def _plan_version_field(help_text: str) -> PlanVersionChoiceField:
    return PlanVersionChoiceField(
        queryset=PlanVersion.objects.none(),
        label="Plan",
        empty_label="Choose a plan version",
        help_text=help_text,
    )


class _SchemaForm(forms.Form):
    schema: type[BaseModel]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["plan_version"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = plan_versions()

    def _schema_data(self) -> dict[str, Any]:
        data = {name: value for name, value in self.cleaned_data.items() if value is not None}
        data["plan_version_id"] = self.cleaned_data["plan_version"].pk
        return data

    def clean(self) -> dict[str, Any] | None:
        cleaned = super().clean()
        if not self.errors:
            try:
                self.schema.model_validate(self._schema_data())
            except ValidationError as error:
                for problem in error.errors():
                    name = str(problem["loc"][0]) if problem["loc"] else ""
                    field = name if name in self.fields else None
                    self.add_error(field, schema_message(self, field, problem))
        return cleaned


class SubscribeForm(_SchemaForm):
    """Put a tenant without a subscription on a plan version."""

    schema = SubscriptionIn
    plan_version = _plan_version_field("The version the tenant is billed on from today.")
    anchor_day = forms.IntegerField(
        label="Periods start on day",
        initial=1,
        help_text="Day of the month (1 to 28) each billing period starts, at 00:00 UTC.",
    )
    trial_ends_on = forms.DateField(
        label="Trial ends on",
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text="Empty: no trial. The trial ends at 00:00 UTC that day.",
    )
    tax_percent = forms.DecimalField(label="Tax (%)", initial="0", help_text="Added to each statement.")

    def _schema_data(self) -> dict[str, Any]:
        data = super()._schema_data()
        data.pop("plan_version", None)
        day = data.pop("trial_ends_on", None)
        data["trial_ends_at"] = datetime.combine(day, time(), tzinfo=UTC) if day else None
        return data

    def subscription_terms(self) -> dict[str, Any]:
        """The keyword arguments `subscription_create` takes besides the tenant."""
        data = self._schema_data()
        data.pop("plan_version_id")
        return {"plan_version": self.cleaned_data["plan_version"], **data}


class PlanChangeForm(_SchemaForm):
    """Move a subscribed tenant to another plan version, now or when its next period starts."""

    schema = PlanChangeIn
    plan_version = _plan_version_field("The version to move to.")
    timing = forms.ChoiceField(
        choices=PlanChange.Timing.choices,
        initial=PlanChange.Timing.NEXT_PERIOD,
        widget=forms.RadioSelect,
        help_text="Now: the whole current period is billed on the new version. "
        "At the next period: the current period stays on today's version.",
    )

    def _schema_data(self) -> dict[str, Any]:
        data = super()._schema_data()
        data.pop("plan_version", None)
        return data


def domain_error_onto_form(form: forms.Form, error: DomainError) -> None:
    """Put a service's error next to the field its `details` name, else above the form."""
    details = error.details if isinstance(error.details, list) else []
    names = [detail.get("field") for detail in details if isinstance(detail, dict)]
    form.add_error(next((name for name in names if name in form.fields), None), error.message)
