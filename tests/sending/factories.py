"""Factories for the send tests: the shared ones (tests/factories.py), an open-window conversation.

Create them inside `in_tenant(...)`. Meta ids come from sequences, so they never collide with
another test's (or another tenant's) in the simulator or the shared limiter.
"""

from __future__ import annotations

from tests.factories import (  # noqa: F401  (re-exported for the send tests)
    AccountFactory,
    ContactFactory,
    PhoneNumberFactory,
    TemplateFactory,
)
from tests.factories import ConversationFactory as SharedConversationFactory
from waba.models import PhoneNumber


class ConversationFactory(SharedConversationFactory):
    """The send tests' conversation: its 24-hour window is open (the customer wrote an hour ago)."""

    window_open = True


def simulator_seed_for(simulator, phone: PhoneNumber, templates=()) -> None:
    """Make the simulator know the number's WABA, its token and templates, as Meta would."""
    account = phone.account
    assert account.access_token is not None
    simulator.seed(
        {
            "wabas": [
                {
                    "id": account.waba_id,
                    "phone_numbers": [
                        {
                            "id": phone.phone_number_id,
                            "display_phone_number": phone.display_phone_number,
                            "throughput": {"level": "HIGH" if phone.throughput_mps > 80 else "STANDARD"},
                        }
                    ],
                }
            ],
            "tokens": [{"token": account.access_token.reveal(), "waba_ids": [account.waba_id]}],
            "templates": [
                {
                    "waba_id": account.waba_id,
                    "name": template.name,
                    "language": template.language,
                    "category": template.category,
                    "components": template.components,
                }
                for template in templates
            ],
        }
    )
