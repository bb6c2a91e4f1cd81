"""Menus and conversation automation: keyword triggers, workflows, bot settings, human handoff (app label `menus`)."""
