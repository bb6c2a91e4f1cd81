"""Platform console pages: billing (plans, subscriptions, credits, statements)."""

from __future__ import annotations

from django.urls import URLPattern

urlpatterns: list[URLPattern] = []
