"""Writes of the waba app: accounts, the setup wizard, phone numbers, templates, webhook events."""
