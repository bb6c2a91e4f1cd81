"""Billing fixtures: the console's logged-in clients (alpha, beta, the platform operator)."""

from tests.console.conftest import console_a, console_b, platform_console, staff, user_a, user_b

__all__ = ["console_a", "console_b", "platform_console", "staff", "user_a", "user_b"]
