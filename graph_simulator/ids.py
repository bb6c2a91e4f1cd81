"""Identifiers shaped like Meta's: numeric Graph ids and `wamid.` message ids.

A per-process random base keeps ids from two simulator runs (or a seed file) from colliding.
"""

from __future__ import annotations

import base64
import itertools
import secrets

_graph_ids = itertools.count(10**15 + secrets.randbelow(10**14) * 10)
_wamid_counter = itertools.count(1)
_WAMID_SALT = secrets.token_hex(4)


def new_graph_id() -> str:
    """A numeric id string like Graph's object ids (`next` on itertools.count is thread-safe)."""
    return str(next(_graph_ids))


def new_wamid(phone_digits: str) -> str:
    raw = f"{phone_digits}:{_WAMID_SALT}:{next(_wamid_counter):012d}".encode()
    return "wamid.HBgL" + base64.b64encode(raw).decode().rstrip("=")
