"""Graph's cursor paging: `limit`, `after`/`before` cursors and `paging.next`/`previous` URLs."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import urlencode

from graph_simulator.errors import GraphError
from graph_simulator.transport import Request

MAX_LIMIT = 1000


def encode_cursor(object_id: str) -> str:
    return base64.urlsafe_b64encode(object_id.encode()).decode()


def decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor.encode() + b"=" * (-len(cursor) % 4)).decode()
    except ValueError:
        raise GraphError(100, f"Invalid cursor {cursor!r}.") from None


def paginate(
    request: Request, base_url: str, items: list[dict[str, Any]], default_limit: int = 25
) -> dict[str, Any]:
    """One page of `items` (each with an `id`) in Graph's `{"data", "paging"}` shape."""
    query = request.query
    try:
        limit = int(query.get("limit", default_limit))
    except ValueError:
        raise GraphError(100, "Param limit must be an integer.") from None
    limit = max(1, min(limit, MAX_LIMIT))
    positions = {str(item["id"]): index for index, item in enumerate(items)}
    start = 0
    if query.get("after"):
        start = positions.get(decode_cursor(query["after"]), -1) + 1
    elif query.get("before"):
        start = max(positions.get(decode_cursor(query["before"]), 0) - limit, 0)
    page = items[start : start + limit]
    if not page:
        return {"data": []}
    paging: dict[str, Any] = {
        "cursors": {"before": encode_cursor(str(page[0]["id"])), "after": encode_cursor(str(page[-1]["id"]))}
    }
    base_query = {k: v for k, v in query.items() if k not in ("after", "before")}
    url = f"{base_url}{request.path}?"
    if start + limit < len(items):
        paging["next"] = url + urlencode(base_query | {"limit": limit, "after": paging["cursors"]["after"]})
    if start > 0:
        paging["previous"] = url + urlencode(
            base_query | {"limit": limit, "before": paging["cursors"]["before"]}
        )
    return {"data": page, "paging": paging}
