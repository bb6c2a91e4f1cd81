"""Property of platform_core/text.py: whatever JSON comes in, what comes out can be stored."""

from __future__ import annotations

from hypothesis import given

from platform_core.text import json_storable, json_unstorable_path
from tests.fuzz.strategies import json_values, pure_function_settings


@pure_function_settings()
@given(json_values)
def test_storable_json_has_nothing_left_to_refuse_and_clean_json_is_returned_as_is(value):
    storable = json_storable(value)

    assert json_unstorable_path(storable) is None
    if json_unstorable_path(value) is None:
        assert storable is value
