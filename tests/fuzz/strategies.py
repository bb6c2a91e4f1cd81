"""Hypothesis strategies shared by the property tests: arbitrary JSON, and real documents mutated."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import settings
from hypothesis import strategies as st


def pure_function_settings() -> settings:
    """For properties of pure functions, which take microseconds: twenty times the profile's examples, at most 1,000."""
    return settings(max_examples=min(settings().max_examples * 20, 1000))


# Text as hostile as JSON allows: NUL, lone surrogates, right-to-left marks, emoji, long runs.
hostile_text = st.text(st.characters(codec=None, exclude_categories=()), max_size=40) | st.sampled_from(
    ["", "\x00", "a\x00b", "\ud800", "\udfff", "\u202e", "\N{PILE OF POO}" * 300, "{name}", "  "]
)
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | hostile_text
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.lists(children, max_size=5) | st.dictionaries(hostile_text, children, max_size=5),
    max_leaves=25,
)


def _paths(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path]
    if isinstance(value, dict):
        for key, child in value.items():
            found.extend(_paths(child, (*path, key)))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found.extend(_paths(child, (*path, index)))
    return found


def _replace(document: Any, path: tuple, new: Any) -> Any:
    if not path:
        return new
    parent = document
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = new
    return document


@st.composite
def mutated(draw: st.DrawFn, documents: list[Any], *, max_mutations: int = 3) -> Any:
    """One of `documents` with up to `max_mutations` of its values (or itself) replaced by any JSON."""
    document = copy.deepcopy(draw(st.sampled_from(documents)))
    for _ in range(draw(st.integers(min_value=1, max_value=max_mutations))):
        paths = _paths(document)
        path = draw(st.sampled_from(paths))
        document = _replace(document, path, draw(json_values))
    return document


def nested(depth: int, leaf: Any = None) -> Any:
    """A value inside `depth` alternating arrays and objects."""
    value = leaf
    for level in range(depth):
        value = [value] if level % 2 else {"a": value}
    return value
