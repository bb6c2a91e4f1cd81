"""platform_core/text.py: what PostgreSQL can store, found and repaired without recursion."""

from __future__ import annotations

from platform_core.text import json_storable, json_unstorable_path, text_storable, text_unstorable_reason
from tests.fuzz.strategies import nested


def test_nul_and_lone_surrogates_are_found_and_replaced_but_pairs_are_kept():
    assert text_unstorable_reason("a\x00b") == "must not contain the NUL character (U+0000)"
    assert text_unstorable_reason("a\udc80") == "must not contain a lone surrogate (U+DC80)"
    assert text_unstorable_reason("caf\u00e9 \N{PILE OF POO}") is None
    assert text_storable("a\x00b\ud83d") == "a\ufffdb\ufffd"


def test_the_first_unstorable_string_is_named_by_its_path():
    document = {"a": [1, "ok", {"b": "x\x00"}], "c": "\ud800", "d\x00": 1}

    assert json_unstorable_path(document) == (("d\x00",), "key must not contain the NUL character (U+0000)")
    del document["d\x00"]
    assert json_unstorable_path(document) == (("a", 2, "b"), "must not contain the NUL character (U+0000)")


def test_any_depth_is_walked_without_recursion():
    deep = nested(20_000, leaf="\x00")

    assert json_unstorable_path(deep) is not None
    assert json_unstorable_path(json_storable(deep)) is None
