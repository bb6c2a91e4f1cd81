"""Text that PostgreSQL can store.

Its `text` and `jsonb` types refuse the NUL character (U+0000), and UTF-8 has no encoding for a lone
surrogate (U+D800 to U+DFFF), which a Python string can hold (JSON's "\\ud800" decodes to one).
The API refuses such input (`text_unstorable_path`); what Meta sends is stored with each of those
characters replaced by U+FFFD (`json_storable`). Both walk nested JSON without recursion, so any
depth the JSON decoder accepted is safe here.
"""

from __future__ import annotations

import re
from typing import Any

REPLACEMENT_CHARACTER = "\ufffd"
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def text_unstorable_reason(value: str) -> str | None:
    """Why PostgreSQL cannot store `value`, or None when it can."""
    found = _UNSTORABLE.search(value)
    if found is None:
        return None
    if found.group() == "\x00":
        return "must not contain the NUL character (U+0000)"
    return f"must not contain a lone surrogate (U+{ord(found.group()):04X})"


def text_storable(value: str) -> str:
    """`value` with every NUL and lone surrogate replaced by U+FFFD."""
    return _UNSTORABLE.sub(REPLACEMENT_CHARACTER, value)


def json_unstorable_path(value: Any) -> tuple[tuple[str | int, ...], str] | None:
    """The path to the first string (value or key) PostgreSQL cannot store, with the reason; None if none."""
    # Each entry links to its parent's, so a path is only built for the string that is found.
    Link = tuple[Any, str | int] | None
    stack: list[tuple[Any, Link]] = [(value, None)]
    while stack:
        item, link = stack.pop()
        if isinstance(item, str):
            reason = text_unstorable_reason(item)
            if reason:
                return _path(link), reason
        elif isinstance(item, dict):
            for key in item:
                if isinstance(key, str) and (reason := text_unstorable_reason(key)):
                    return _path((link, key)), f"key {reason}"
            stack.extend((child, (link, key)) for key, child in reversed(item.items()))
        elif isinstance(item, list | tuple):
            stack.extend((child, (link, index)) for index, child in reversed(list(enumerate(item))))
    return None


def _path(link: tuple[Any, str | int] | None) -> tuple[str | int, ...]:
    keys: list[str | int] = []
    while link is not None:
        link, key = link
        keys.append(key)
    return tuple(reversed(keys))


def json_storable(value: Any) -> Any:
    """A copy of a decoded JSON value whose strings and keys PostgreSQL can store; `value` itself if clean."""
    if json_unstorable_path(value) is None:
        return value
    if isinstance(value, str):
        return text_storable(value)
    if not isinstance(value, dict | list | tuple):
        return value
    root: dict[Any, Any] | list[Any] = {} if isinstance(value, dict) else []
    stack: list[tuple[Any, dict[Any, Any] | list[Any]]] = [(value, root)]
    while stack:
        source, target = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in pairs:
            copy: Any
            if isinstance(child, dict | list | tuple):
                copy = {} if isinstance(child, dict) else []
                stack.append((child, copy))
            else:
                copy = text_storable(child) if isinstance(child, str) else child
            if isinstance(target, dict):
                target[text_storable(key) if isinstance(key, str) else key] = copy
            else:
                target.append(copy)
    return root
