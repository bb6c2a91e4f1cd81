"""Pure rules: input validators, workflow definitions, business hours; and the clean-up jobs."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from automations import bot
from automations.definitions import definition_parse
from automations.errors import InputInvalid
from automations.seeds import BUILTIN_WORKFLOWS
from automations.validators import input_validate
from tenants.errors import TenantContextMissing
from waba.models import WhatsAppAccount


@pytest.mark.parametrize(("validator", "text", "value"), [
    ("positive_integer", " 2 ", 2),
    ("positive_integer", "#42", 42),
    ("date", "2025-06-30", "2025-06-30"),
    ("date", "30.06.2025", "2025-06-30"),
    ("email", " Ada@Example.COM ", "ada@example.com"),
    ("phone_number", "0049 151 1234 5678", "+4915112345678"),
    ("phone_number", "+1 555 010 0999", "+15550100999"),  # possible, though not known as assigned
    ("any_text", "  it broke  ", "it broke"),
])
def test_validators_accept_and_normalise(validator, text, value):
    assert input_validate(validator, text) == value


@pytest.mark.parametrize(("validator", "text"), [
    ("positive_integer", "0"), ("positive_integer", "-1"), ("positive_integer", "1.5"), ("positive_integer", "two"),
    ("positive_integer", "12345678901"), ("date", "31/02/2025"), ("date", "soon"), ("email", "ada@"),
    ("phone_number", "12345"), ("phone_number", "+1 555 0100"), ("any_text", "   "),
])
def test_validators_refuse_with_a_message_for_the_customer(validator, text):
    with pytest.raises(InputInvalid) as refused:
        input_validate(validator, text)
    assert refused.value.message.startswith("Please")


def test_the_builtin_definitions_are_valid():
    for spec in BUILTIN_WORKFLOWS:
        definition, problems = definition_parse(spec["definition"])
        assert definition is not None and problems == [], spec["name"]


@pytest.mark.parametrize(("definition", "field", "message"), [
    ({"start": "a", "steps": {"a": {"next": "b"}, "b": {"next": "a"}}}, "steps.a.next", "form a loop"),
    ({"start": "x", "steps": {"a": {}}}, "start", "no step named 'x'"),
    ({"start": "a", "steps": {"a": {"input": {"type": "text", "next": "a"}}}}, "steps.a.input",
     "needs a validator"),
    ({"start": "a", "steps": {"a": {"input": {"type": "choice", "choices": [{"id": "y", "next": "a", "end": True}]}}}},
     "steps.a.input.choices.0", "exactly one of next, workflow or end"),
    ({"start": "a", "steps": {"a": {"send": {"text": "hi", "template": "t"}}}}, "steps.a.send",
     "exactly one of template, text, render or flow"),
    ({"start": "a", "steps": {"a": {"send": {"render": "weather"}}}}, "steps.a.send.render",
     "unknown renderer 'weather'"),
    ({"start": "a", "steps": {"a": {"surprise": 1}}}, "steps.a.surprise", "Extra inputs"),
])
def test_definition_problems_name_the_field(definition, field, message):
    _, problems = definition_parse(definition)
    assert any(p["field"] == field and message in p["message"] for p in problems), problems


def _account(start, end, zone="Europe/Berlin") -> WhatsAppAccount:
    return WhatsAppAccount(business_hours_start=start, business_hours_end=end, timezone=zone)


def test_business_hours_in_the_accounts_time_zone():
    day = _account(time(9), time(17))
    assert bot.business_open(account=day, at=datetime(2025, 1, 15, 8, 30, tzinfo=UTC))  # 09:30 Berlin
    assert not bot.business_open(account=day, at=datetime(2025, 1, 15, 7, 30, tzinfo=UTC))  # 08:30 Berlin
    assert not bot.business_open(account=day, at=datetime(2025, 7, 15, 15, 30, tzinfo=UTC))  # 17:30 summer time
    night = _account(time(22), time(6))
    assert bot.business_open(account=night, at=datetime(2025, 1, 15, 23, 0, tzinfo=UTC))
    assert not bot.business_open(account=night, at=datetime(2025, 1, 15, 12, 0, tzinfo=UTC))
    assert bot.business_open(account=_account(None, None), at=datetime(2025, 1, 15, 3, 0, tzinfo=UTC))
    assert bot.business_open(account=_account(time(9), time(17), "Mars/Olympus"),
                             at=datetime(2025, 1, 15, 10, 0, tzinfo=UTC))  # unknown zone: UTC


def test_a_closed_period_starts_at_the_last_closing_time():
    day = _account(time(9), time(17))
    assert bot.closed_since(account=day, at=datetime(2025, 1, 15, 20, 0, tzinfo=UTC)) == \
        datetime(2025, 1, 15, 16, 0, tzinfo=UTC)
    assert bot.closed_since(account=day, at=datetime(2025, 1, 16, 5, 0, tzinfo=UTC)) == \
        datetime(2025, 1, 15, 16, 0, tzinfo=UTC)


def test_the_expiry_task_refuses_the_public_schema(db):
    from automations.tasks import conversation_states_expire_task

    with pytest.raises(TenantContextMissing):
        conversation_states_expire_task()
