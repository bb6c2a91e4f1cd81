"""A small hand-made message history whose analytics are computed by hand in the tests.

Day D = Monday 2026-03-02 (UTC). Account A1 has numbers N1 and N2; account A2 has N3.

N1 on D:  conv1 (C1): in 09:00:00, out 09:00:30 (template T1, read, conversation c-1 utility),
                      in 09:05, in 09:06, out 09:08 (delivered)
          conv2 (C2): out 10:00 (template T1, failed 131026), out 10:01 (failed 131026),
                      out 10:02 (failed 131047), out 11:00 (sent, conversation c-2 marketing),
                      in 11:30 (never answered)
N2 on D:  conv3 (C3): in 14:00, out 14:45 (delivered, conversation c-3 service), out 15:00 (queued)
N3 on D:  conv4 (C1): out 16:00 (read)
N1 on D-1 (Sunday):   conv1 out 23:00 (read, conversation c-1): c-1 was opened before D
N1 on D+1 (Tuesday):  conv1 out 08:00 (delivered)

By hand, for D:
  N1: sent 6, delivered 2, read 1, failed 3, received 4, contacts 2, conversations {marketing: 1},
      failures {131026: 2, 131047: 1}, replies after 30 s and 180 s
  N2: sent 1, delivered 1, read 0, failed 0, received 1, contacts 1, {service: 1}, reply after 2700 s
  N3: sent 1, delivered 1, read 1, received 0, contacts 1
  Template T1: sent 2, delivered 1, read 1, failed 1, replied 1
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from messaging.models import Message
from tests.analytics.factories import (
    AccountFactory,
    ContactFactory,
    ConversationFactory,
    MessageFactory,
    PhoneNumberFactory,
    TemplateFactory,
    at,
)
from waba.models import MessageTemplate, PhoneNumber, WhatsAppAccount

D = date(2026, 3, 2)
S = Message.Status


@dataclass
class Dataset:
    a1: WhatsAppAccount
    a2: WhatsAppAccount
    n1: PhoneNumber
    n2: PhoneNumber
    n3: PhoneNumber
    t1: MessageTemplate
    late: Message  # N1's 11:00 message, still "sent"


def _conversation_info(conversation_id: str, category: str) -> dict:
    return {"id": conversation_id, "origin": {"type": category}}


def seed_dataset() -> Dataset:
    a1, a2 = AccountFactory.create(), AccountFactory.create()
    n1, n2 = PhoneNumberFactory.create(account=a1), PhoneNumberFactory.create(account=a1)
    n3 = PhoneNumberFactory.create(account=a2)
    t1 = TemplateFactory.create(account=a1, name="order_update")
    c1, c2, c3 = ContactFactory(), ContactFactory(), ContactFactory()
    conv1 = ConversationFactory(contact=c1, phone_number=n1)
    conv2 = ConversationFactory(contact=c2, phone_number=n1)
    conv3 = ConversationFactory(contact=c3, phone_number=n2)
    conv4 = ConversationFactory(contact=c1, phone_number=n3)

    def inbound(conversation, when):
        return MessageFactory(conversation=conversation, direction="in", status=S.RECEIVED, timestamp=when)

    def outbound(conversation, when, status, **fields):
        return MessageFactory(conversation=conversation, status=status, timestamp=when, **fields)

    day, before, after = "2026-03-02", "2026-03-01", "2026-03-03"
    outbound(
        conv1,
        at(before, "23:00"),
        S.READ,
        pricing_category="utility",
        conversation_info=_conversation_info("c-1", "utility"),
    )
    inbound(conv1, at(day, "09:00:00"))
    outbound(
        conv1,
        at(day, "09:00:30"),
        S.READ,
        template=t1,
        pricing_category="utility",
        conversation_info=_conversation_info("c-1", "utility"),
    )
    inbound(conv1, at(day, "09:05"))
    inbound(conv1, at(day, "09:06"))
    outbound(conv1, at(day, "09:08"), S.DELIVERED)
    outbound(conv2, at(day, "10:00"), S.FAILED, template=t1, error_code=131026, wamid=None)
    outbound(conv2, at(day, "10:01"), S.FAILED, error_code=131026)
    outbound(conv2, at(day, "10:02"), S.FAILED, error_code=131047)
    late = outbound(
        conv2,
        at(day, "11:00"),
        S.SENT,
        pricing={"billable": True, "category": "marketing"},
        conversation_info=_conversation_info("c-2", "marketing"),
    )
    inbound(conv2, at(day, "11:30"))
    inbound(conv3, at(day, "14:00"))
    outbound(conv3, at(day, "14:45"), S.DELIVERED, conversation_info=_conversation_info("c-3", "service"))
    outbound(conv3, at(day, "15:00"), S.QUEUED, wamid=None)
    outbound(conv4, at(day, "16:00"), S.READ)
    outbound(conv1, at(after, "08:00"), S.DELIVERED)
    return Dataset(a1=a1, a2=a2, n1=n1, n2=n2, n3=n3, t1=t1, late=late)
