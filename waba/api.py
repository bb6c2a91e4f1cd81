"""Tenant API of the waba app: setup wizard, accounts, phone numbers, templates."""

from ninja import Router

router = Router(tags=["WhatsApp accounts"])
