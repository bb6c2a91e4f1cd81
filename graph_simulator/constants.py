"""Meta's numbers and names as the simulator enforces them, in one place.

The simulator stands in for Meta, an outside system, and imports nothing from the platform, so
it keeps its own copy of the facts the platform keeps in waba/meta.py.
tests/graph_simulator/test_constants.py checks that the two copies agree on every fact they share.
"""

from __future__ import annotations

import re

# Paths: `/v23.0/...`, any `vNN.N`, or no version at all.
VERSION_SEGMENT = re.compile(r"^v\d+(\.\d+)?$")

# Text and interactive limits.
TEXT_BODY_MAX = 4096
CAPTION_MAX = 1024
INTERACTIVE_BODY_MAX = 1024
INTERACTIVE_HEADER_MAX = 60
INTERACTIVE_FOOTER_MAX = 60
REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_TITLE_MAX = 20
REPLY_BUTTON_ID_MAX = 256
LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX = 10
LIST_BUTTON_TEXT_MAX = 20
LIST_ROW_TITLE_MAX = 24
LIST_ROW_DESCRIPTION_MAX = 72
LIST_ROW_ID_MAX = 200
LIST_SECTION_TITLE_MAX = 24
CTA_URL_DISPLAY_TEXT_MAX = 20
FLOW_CTA_MAX = 20
FLOW_MESSAGE_VERSION = "3"
BIZ_OPAQUE_CALLBACK_DATA_MAX = 512

# Templates.
TEMPLATE_NAME_MAX = 512
TEMPLATE_NAME_PATTERN = re.compile(r"^[a-z0-9_]+$")
TEMPLATE_CATEGORIES = ("MARKETING", "UTILITY", "AUTHENTICATION")
TEMPLATE_BODY_MAX = 1024
TEMPLATE_HEADER_TEXT_MAX = 60
TEMPLATE_FOOTER_MAX = 60
POSITIONAL_VARIABLE = re.compile(r"\{\{\s*(\d+)\s*\}\}")
NAMED_VARIABLE = re.compile(r"\{\{\s*([a-z_][a-z0-9_]*)\s*\}\}")
ANY_VARIABLE = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")

# Flows.
FLOW_CATEGORIES = (
    "SIGN_UP",
    "SIGN_IN",
    "APPOINTMENT_BOOKING",
    "LEAD_GENERATION",
    "CONTACT_US",
    "CUSTOMER_SUPPORT",
    "SURVEY",
    "SHOPPING",
    "OTHER",
)
FLOW_STATUSES = ("DRAFT", "PUBLISHED", "DEPRECATED", "BLOCKED", "THROTTLED")
FLOW_ASSET_MAX_BYTES = 10 * 1024 * 1024
FLOW_SCREEN_ID_PATTERN = re.compile(r"^[A-Z_]+$")
FLOW_RESERVED_SCREEN_ID = "SUCCESS"

# Throughput (messages per second per phone number) by `throughput.level`.
THROUGHPUT_BY_LEVEL = {"STANDARD": 80, "HIGH": 1000, "COEXISTENCE": 20, "NOT_APPLICABLE": 80}

CUSTOMER_SERVICE_WINDOW_S = 24 * 3600
CONVERSATION_LIFETIME_S = 24 * 3600

# Webhooks.
WEBHOOK_OBJECT = "whatsapp_business_account"
WEBHOOK_MESSAGES_FIELD = "messages"
WEBHOOK_SIGNATURE_HEADER = "X-Hub-Signature-256"
WEBHOOK_SIGNATURE_PREFIX = "sha256="

# Limits of the simulator itself, not Meta's.
MAX_REQUEST_BODY_BYTES = 64 * 1024 * 1024
REQUEST_LOG_CAPACITY = 200_000
WEBHOOK_LOG_CAPACITY = 2_000
MEDIA_CAPACITY = 10_000
STATS_WINDOW_S = 3600
