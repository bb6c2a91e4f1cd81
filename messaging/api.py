"""Tenant API of messaging: messages and conversations.

One router for `/messages...` so that reading (here) and sending (messaging.send.api registers
its operations on this same router) share paths such as /messages and /messages/{id}.
"""

from ninja import Router

router = Router(tags=["messages"])
