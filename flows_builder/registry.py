"""A named registry filled by decorators: response processors and endpoint handlers use one each.

Registering twice under one name is a programming error and fails at import time, so two modules
can never silently fight over a flow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

F = TypeVar("F", bound=Callable[..., object])


class Registry(Generic[F]):
    def __init__(self, what: str) -> None:
        self.what = what
        self._entries: dict[str, F] = {}

    def register(self, name: str) -> Callable[[F], F]:
        def decorator(func: F) -> F:
            if name in self._entries and self._entries[name] is not func:
                raise ValueError(f"A {self.what} is already registered for flow '{name}'.")
            self._entries[name] = func
            return func

        return decorator

    def unregister(self, name: str) -> None:
        self._entries.pop(name, None)

    def get(self, name: str) -> F | None:
        return self._entries.get(name)

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))
