"""Property tests of the offline Flow JSON validator (flows_builder/validation).

Whatever a tenant submits (a document, its text, bytes), the validator answers with a list of
`FlowValidationError` values and never raises: the API turns that list into a 200 with errors.
"""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from flows_builder.validation import FlowValidationError, validate_flow_json
from tests.fuzz.strategies import hostile_text, json_values, mutated, nested, pure_function_settings

DEFINITIONS = [
    json.loads(path.read_text()) for path in sorted((Path("flows_builder") / "definitions").glob("*.json"))
]


def _errors(flow, *, has_endpoint=False) -> list[FlowValidationError]:
    errors = validate_flow_json(flow, has_endpoint=has_endpoint)
    assert isinstance(errors, list)
    assert all(isinstance(error, FlowValidationError) for error in errors)
    for error in errors:
        assert isinstance(error.pointer, str) and isinstance(error.message, str)
        error.as_meta_dict()
    return errors


def test_the_builtin_definitions_are_valid():
    assert len(DEFINITIONS) == 5
    for definition in DEFINITIONS:
        assert _errors(definition, has_endpoint="data_api_version" in definition) == []


@pure_function_settings()
@given(mutated(DEFINITIONS, max_mutations=4), st.booleans())
def test_mutated_definitions_give_errors_not_exceptions(flow, has_endpoint):
    _errors(flow, has_endpoint=has_endpoint)


@pure_function_settings()
@given(json_values, st.booleans())
def test_any_json_value_gives_errors_not_exceptions(flow, has_endpoint):
    _errors(flow, has_endpoint=has_endpoint)


@pure_function_settings()
@given(mutated(DEFINITIONS, max_mutations=2).map(json.dumps) | hostile_text | st.binary(max_size=64))
def test_any_text_or_bytes_give_errors_not_exceptions(flow):
    _errors(flow)


@given(st.integers(min_value=0, max_value=5000))
def test_nesting_of_any_depth_gives_errors_not_exceptions(depth):
    document = {"version": "7.0", "screens": [{"id": "A", "layout": {"type": "SingleColumnLayout",
                                                                     "children": nested(depth)}}]}
    _errors(document)
    _errors("[" * depth + "]" * depth)
    _errors('{"a":' * depth + "1" + "}" * depth)


def test_a_deeply_nested_string_is_an_error_not_a_crash():
    [error] = _errors("[" * 100_000 + "]" * 100_000)
    assert error.error == "NESTED_TOO_DEEPLY"
