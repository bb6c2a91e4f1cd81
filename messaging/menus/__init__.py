"""Interactive menus: reply-button and list messages built and checked against Meta's limits."""

from messaging.menus.builder import (
    Button,
    MenuProblem,
    MenuValidationError,
    Row,
    Section,
    build_list,
    build_reply_buttons,
    validate_interactive,
)

__all__ = [
    "Button",
    "MenuProblem",
    "MenuValidationError",
    "Row",
    "Section",
    "build_list",
    "build_reply_buttons",
    "validate_interactive",
]
