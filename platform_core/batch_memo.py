"""Reads made once per batch of webhook changes instead of once per message.

The webhook worker stores a tenant's inbound messages together and dispatches each of them in the
same transaction (`batch_scope`). A lookup that handling one message cannot change (the number's
account and its bot settings, the keyword triggers, the subscribed endpoints, whether the
knowledge base is on) is read once for the batch through `batch_memo`; outside a batch it is read
each time. Values are shared: treat them as read-only. `batch_note` and `batch_noted` pass a fact
about the batch (which messages it stored) from the code that learned it to the code that needs it.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

T = TypeVar("T")

_memo: ContextVar[dict[Hashable, Any] | None] = ContextVar("batch_memo", default=None)


@contextmanager
def batch_scope() -> Iterator[None]:
    """Share reads between the messages handled inside; one tenant's batch, one transaction."""
    token = _memo.set({})
    try:
        yield
    finally:
        _memo.reset(token)


def batch_memo(key: Hashable, read: Callable[[], T]) -> T:
    """`read()`, made once per batch scope for `key` (each time outside one)."""
    memo = _memo.get()
    if memo is None:
        return read()
    if key not in memo:
        memo[key] = read()
    value: T = memo[key]
    return value


@contextmanager
def batch_checkpoint() -> Iterator[None]:
    """Forget what the block read or noted if it raises: for a block run in a savepoint that is
    then rolled back, whose reads (and the locks they took) are gone with it."""
    memo = _memo.get()
    before = set(memo) if memo is not None else set()
    try:
        yield
    except BaseException:
        if memo is not None:
            for key in set(memo) - before:
                del memo[key]
        raise


def batch_note(key: Hashable, value: Any) -> None:
    """Remember `value` for the rest of the batch scope; nothing outside one."""
    memo = _memo.get()
    if memo is not None:
        memo[key] = value


def batch_noted(key: Hashable) -> Any:
    """What `batch_note` remembered for `key` in this batch scope, or None."""
    memo = _memo.get()
    return None if memo is None else memo.get(key)
