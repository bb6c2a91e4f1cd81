"""What the checks share: the flow's version and endpoint status, and what each screen declares."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .specs import LATEST_VERSION, Version
from .tree import ActionNode, ComponentNode


@dataclass
class ScreenInfo:
    index: int
    pointer: str
    raw: dict[str, Any]
    id: str | None
    terminal: bool
    components: list[ComponentNode] = field(default_factory=list)
    actions: list[ActionNode] = field(default_factory=list)
    input_names: frozenset[str] = frozenset()
    data_fields: frozenset[str] = frozenset()


@dataclass
class FlowContext:
    # None when the declared version is invalid: then version gates use the latest version, so the
    # version error is reported once rather than once per component.
    version: Version | None
    endpoint_enabled: bool
    screens: list[ScreenInfo] = field(default_factory=list)
    routing_model: Mapping[str, Any] | None = None

    @property
    def effective_version(self) -> Version:
        return self.version or LATEST_VERSION

    def screen(self, screen_id: str) -> ScreenInfo | None:
        return next((screen for screen in self.screens if screen.id == screen_id), None)

    @property
    def screen_ids(self) -> frozenset[str]:
        return frozenset(screen.id for screen in self.screens if screen.id is not None)
