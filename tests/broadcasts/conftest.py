"""Broadcasts are sent by the send pipeline: its fixtures (a fresh limiter, a template, an open window)."""

from tests.sending.conftest import fast_retries, open_window_a, template_a  # noqa: F401
