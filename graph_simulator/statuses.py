"""The status webhooks that follow an accepted send: sent, delivered, read (or failed).

Each step is a scheduler job that posts one status and schedules the next, so a thousand sends a
second cost a thousand heap entries, not three thousand threads.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graph_simulator.events import messages_value, status_item
from graph_simulator.models import PhoneNumber

if TYPE_CHECKING:
    from graph_simulator.server import Simulator


@dataclass(frozen=True)
class AcceptedMessage:
    phone: PhoneNumber
    wamid: str
    recipient_id: str
    category: str
    conversation: tuple[str, int]
    biz_opaque_callback_data: str | None
    failure: dict[str, Any] | None = None


def status_chain_start(sim: Simulator, message: AcceptedMessage, sequence: list[str], delay_s: float) -> None:
    """Schedule the first status; a failed message gets `failed` alone."""
    if message.failure is not None:
        sim.scheduler.call_later(delay_s, _post_status, sim, message, "failed", [], delay_s)
    elif sequence:
        sim.scheduler.call_later(delay_s, _post_status, sim, message, sequence[0], sequence[1:], delay_s)


def _post_status(
    sim: Simulator, message: AcceptedMessage, status: str, remaining: list[str], delay_s: float
) -> None:
    item = status_item(
        wamid=message.wamid,
        status=status,
        recipient_id=message.recipient_id,
        timestamp=int(time.time()),
        biz_opaque_callback_data=message.biz_opaque_callback_data,
        conversation=message.conversation,
        category=message.category,
        errors=[message.failure] if message.failure else None,
    )
    sim.emit(message.phone.waba_id, "messages", messages_value(message.phone, statuses=[item]))
    if remaining:
        sim.scheduler.call_later(delay_s, _post_status, sim, message, remaining[0], remaining[1:], delay_s)
