"""Our automation policies in one place (Meta's numbers live in waba.meta)."""

from __future__ import annotations

from datetime import timedelta

# Unexpected answers in a row before the contact is offered the main menu or a human.
MAX_FAILED_INPUTS = 3
# A contact gets the fallback message at most once in this period, so a bot never loops.
FALLBACK_INTERVAL = timedelta(hours=24)
# Steps the engine may enter for one inbound message before it stops (a definition loop guard).
MAX_STEPS_PER_MESSAGE = 20
# Finished conversation states are kept this long for support and analytics, then deleted.
ENDED_STATE_RETENTION = timedelta(days=30)
# Longest regular expression a template may use as a trigger (matching runs on every message).
REGEX_MAX_CHARS = 200

# Words that always work, whatever step the contact is in (compared after keywords.normalise).
MENU_WORDS = frozenset({"menu", "main menu", "start over"})
CANCEL_WORDS = frozenset({"cancel", "quit", "exit"})
HUMAN_WORDS = frozenset({"human", "agent", "talk to a human", "speak to a human", "person"})
# Button and row ids with the same meaning, usable in any menu.
MENU_ID = "menu"
CANCEL_ID = "cancel"
HUMAN_ID = "human"

WAY_OUT_HINT = 'Send "menu" for the main menu or "cancel" to stop.'
CANCELLED_TEXT = 'Cancelled. Send "menu" whenever you want to start again.'
NOTHING_TO_CANCEL_TEXT = 'There is nothing to cancel. Send "menu" for the main menu.'
HANDOFF_TEXT = "Thank you. A person from our team will reply here as soon as possible."
ESCALATION_TEXT = "Sorry, I did not get that. Would you like to go back to the main menu or talk to a person?"
ESCALATION_MENU_TITLE = "Main menu"
ESCALATION_HUMAN_TITLE = "Talk to a human"
CHOICE_REPROMPT_TEXT = "Please choose one of the options."
NON_TEXT_REPROMPT_TEXT = "Please answer with a text message."
ACTION_ERROR_TEXT = "Sorry, something went wrong on our side. " + WAY_OUT_HINT

# The ordering workflow's catalogue list: the row that shows the next page, and the section title
# of items without a category when other items have one.
CATALOGUE_MORE_ID = "catalogue:more"
CATALOGUE_MORE_TITLE = "More"
CATALOGUE_OTHER_SECTION = "Other"
# Different products one cart holds (each with its quantity): keeps the summary message short.
CART_LINES_MAX = 10
