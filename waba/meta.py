"""Meta's WhatsApp Cloud API numbers, names and error codes: the platform's one place for them.

Sources are Meta's documentation and mature open-source clients; values marked "(secondary)"
come only from secondary sources. The Graph API client, the send pipeline, the webhook parser and
the validators all read from here so that they agree. The Graph API simulator imports nothing
from the platform and keeps its own copy (graph_simulator/constants.py);
tests/graph_simulator/test_constants.py checks that the two agree on every fact they share.
Deployment knobs derived from these facts (PAIR_RATE_INTERVAL_S) are settings, not constants.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum, StrEnum
from types import MappingProxyType

# --- Graph API -------------------------------------------------------------------------------

GRAPH_API_DEFAULT_BASE_URL = "https://graph.facebook.com"
GRAPH_API_DEFAULT_VERSION = "v23.0"
GRAPH_API_DEFAULT_TIMEOUT_S = 10
MESSAGING_PRODUCT = "whatsapp"

# Hosts Meta serves media downloads from (secondary). The access token is only ever sent there
# or to the configured Graph base URL's host.
MEDIA_DOWNLOAD_HOST_SUFFIXES = ("fbsbx.com", "facebook.com", "whatsapp.net", "fbcdn.net")

PHONE_NUMBER_FIELDS = (
    "display_phone_number",
    "verified_name",
    "quality_rating",
    "status",
    "name_status",
    "code_verification_status",
    "throughput",
    "messaging_limit_tier",
)
# What the platform reads of a WABA (`GET /{waba_id}`), e.g. after Embedded Signup shared it.
WABA_FIELDS = ("id", "name", "currency", "timezone_id", "owner_business_info")
FLOW_FIELDS = ("id", "name", "status", "categories", "validation_errors", "json_version", "data_api_version")

# --- Interactive messages (reply buttons, lists, flows) --------------------------------------

INTERACTIVE_BODY_MAX_CHARS = 1024
INTERACTIVE_HEADER_TEXT_MAX_CHARS = 60
INTERACTIVE_FOOTER_MAX_CHARS = 60
TEXT_MESSAGE_MAX_CHARS = 4096

REPLY_BUTTONS_MAX = 3
REPLY_BUTTON_TITLE_MAX_CHARS = 20
REPLY_BUTTON_ID_MAX_CHARS = 256

LIST_SECTIONS_MAX = 10
LIST_ROWS_MAX_TOTAL = 10  # across all sections together
LIST_BUTTON_TEXT_MAX_CHARS = 20
LIST_SECTION_TITLE_MAX_CHARS = 24
LIST_ROW_TITLE_MAX_CHARS = 24
LIST_ROW_DESCRIPTION_MAX_CHARS = 72
LIST_ROW_ID_MAX_CHARS = 200

INTERACTIVE_MEDIA_HEADER_TYPES = frozenset({"image", "video", "document"})

BIZ_OPAQUE_CALLBACK_DATA_MAX_CHARS = 512

FLOW_MESSAGE_VERSION = "3"
FLOW_CTA_MIN_CHARS = 1
FLOW_CTA_MAX_CHARS = 20
FLOW_ACTIONS = frozenset({"navigate", "data_exchange"})
FLOW_MODES = frozenset({"draft", "published"})
THROTTLED_FLOW_SENDS_PER_HOUR = 10

# --- Media messages ---------------------------------------------------------------------------

MEDIA_MESSAGE_TYPES = ("image", "video", "audio", "document", "sticker")
MEDIA_CAPTIONED_TYPES = frozenset({"image", "video", "document"})
MEDIA_CAPTION_MAX_CHARS = 1024

_MB = 1024 * 1024
# Content types Meta accepts per media message type.
MEDIA_CONTENT_TYPES: MappingProxyType[str, frozenset[str]] = MappingProxyType(
    {
        "image": frozenset({"image/jpeg", "image/png"}),
        "video": frozenset({"video/mp4", "video/3gpp"}),
        "audio": frozenset({"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg"}),
        "sticker": frozenset({"image/webp"}),
        "document": frozenset(
            {
                "text/plain",
                "application/pdf",
                "application/msword",
                "application/vnd.ms-excel",
                "application/vnd.ms-powerpoint",
                "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            }
        ),
    }
)
# Largest file Meta accepts per media message type.
MEDIA_MAX_BYTES: MappingProxyType[str, int] = MappingProxyType(
    {"image": 5 * _MB, "video": 16 * _MB, "audio": 16 * _MB, "sticker": 500 * 1024, "document": 100 * _MB}
)
STICKER_STATIC_MAX_BYTES = 100 * 1024  # animated stickers may use MEDIA_MAX_BYTES["sticker"]
MEDIA_ID_LIFETIME_S = 30 * 24 * 60 * 60  # an uploaded media id stays usable about 30 days

# Business profile (`/{phone_number_id}/whatsapp_business_profile`).
PROFILE_ABOUT_MAX_CHARS = 139
PROFILE_DESCRIPTION_MAX_CHARS = 512
PROFILE_ADDRESS_MAX_CHARS = 256
PROFILE_EMAIL_MAX_CHARS = 128
PROFILE_WEBSITES_MAX = 2
PROFILE_WEBSITE_MAX_CHARS = 256
PROFILE_FIELDS = ("about", "address", "description", "email", "profile_picture_url", "websites", "vertical")

# --- Throughput and limits --------------------------------------------------------------------

DEFAULT_THROUGHPUT_MPS = 80
MAX_THROUGHPUT_MPS = 1000
COEXISTENCE_THROUGHPUT_MPS = 20
PAIR_RATE_INTERVAL_S = 6.0  # about one message per 6 s from one number to one user (secondary)
CUSTOMER_SERVICE_WINDOW_S = 24 * 60 * 60


class MessagingLimitTier(StrEnum):
    """Unique users reached outside a service window per moving 24 h, per business portfolio."""

    TIER_250 = "TIER_250"
    TIER_2K = "TIER_2K"
    TIER_10K = "TIER_10K"
    TIER_100K = "TIER_100K"
    TIER_UNLIMITED = "TIER_UNLIMITED"


# None means unlimited.
MESSAGING_LIMIT_BY_TIER: MappingProxyType[MessagingLimitTier, int | None] = MappingProxyType(
    {
        MessagingLimitTier.TIER_250: 250,
        MessagingLimitTier.TIER_2K: 2_000,
        MessagingLimitTier.TIER_10K: 10_000,
        MessagingLimitTier.TIER_100K: 100_000,
        MessagingLimitTier.TIER_UNLIMITED: None,
    }
)


class QualityRating(StrEnum):
    GREEN = "GREEN"
    YELLOW = "YELLOW"
    RED = "RED"
    UNKNOWN = "UNKNOWN"


# --- Templates --------------------------------------------------------------------------------


class TemplateStatus(StrEnum):
    APPROVED = "APPROVED"
    PENDING = "PENDING"
    REJECTED = "REJECTED"
    PAUSED = "PAUSED"
    DISABLED = "DISABLED"
    IN_APPEAL = "IN_APPEAL"
    PENDING_DELETION = "PENDING_DELETION"
    DELETED = "DELETED"
    FLAGGED = "FLAGGED"
    REINSTATED = "REINSTATED"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    ARCHIVED = "ARCHIVED"
    UNARCHIVED = "UNARCHIVED"
    LOCKED = "LOCKED"


class TemplateCategory(StrEnum):
    MARKETING = "MARKETING"
    UTILITY = "UTILITY"
    AUTHENTICATION = "AUTHENTICATION"


class TemplateComponentType(StrEnum):
    HEADER = "HEADER"
    BODY = "BODY"
    FOOTER = "FOOTER"
    BUTTONS = "BUTTONS"


TEMPLATE_NAME_PATTERN = re.compile(r"^[a-z0-9_]+$")
TEMPLATE_NAME_MAX_CHARS = 512  # (secondary)
TEMPLATE_BODY_VARIABLE_PATTERN = re.compile(r"\{\{(\d+)\}\}")
# Any `{{...}}` placeholder, positional (`{{1}}`) or named (`{{first_name}}`), for counting.
TEMPLATE_ANY_VARIABLE_PATTERN = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")
TEMPLATE_LANGUAGE_PATTERN = re.compile(r"^[a-z]{2,3}(_[A-Z]{2,4})?$")  # en, en_US, zh_HANS (secondary)
TEMPLATE_BODY_MAX_CHARS = 1024
TEMPLATE_HEADER_TEXT_MAX_CHARS = 60
TEMPLATE_HEADER_MAX_VARIABLES = 1
TEMPLATE_FOOTER_MAX_CHARS = 60
TEMPLATE_BUTTONS_MAX = 10  # (secondary)
TEMPLATE_HEADER_FORMATS = frozenset({"TEXT", "IMAGE", "VIDEO", "DOCUMENT", "LOCATION"})
# Header formats whose content is a parameter sent with each message rather than fixed text.
TEMPLATE_HEADER_MEDIA_FORMATS = TEMPLATE_HEADER_FORMATS - {"TEXT"}
TEMPLATE_BUTTON_TYPES = frozenset(
    {"QUICK_REPLY", "URL", "PHONE_NUMBER", "COPY_CODE", "FLOW", "OTP", "CATALOG", "MPM", "VOICE_CALL"}
)
# Meta's "no reason" placeholder in template status webhooks.
TEMPLATE_NO_REASON = "NONE"
# Button rules: per type at most this many, 10 in all (quick replies may fill all 10).
TEMPLATE_BUTTON_TYPE_MAX: MappingProxyType[str, int] = MappingProxyType(
    {"URL": 2, "PHONE_NUMBER": 1, "COPY_CODE": 1, "FLOW": 1, "VOICE_CALL": 1}
)
TEMPLATE_BUTTON_TEXT_MAX_CHARS = 25
TEMPLATE_BUTTON_URL_MAX_CHARS = 2000
TEMPLATE_BUTTON_PHONE_MAX_CHARS = 20
TEMPLATE_COPY_CODE_EXAMPLE_MAX_CHARS = 15
TEMPLATE_NAMED_VARIABLE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")
# Approved templates may be edited once per 24 hours and ten times per 30 days; rejected and
# paused ones without limit. The category cannot change once approved.
TEMPLATE_EDITABLE_STATUSES = frozenset({"APPROVED", "REJECTED", "PAUSED"})
TEMPLATE_EDITS_PER_DAY = 1
TEMPLATE_EDITS_PER_MONTH = 10
# Languages Meta accepts for templates (its "Supported languages" list).
TEMPLATE_LANGUAGES = frozenset(
    """af sq ar ar_EG ar_AE ar_LB ar_MA ar_QA az be_BY bn bn_IN bg ca zh_CN zh_HK zh_TW hr cs da prs_AF
    nl nl_BE en en_GB en_US en_AE en_AU en_CA en_GH en_IE en_IN en_JM en_MY en_NZ en_QA en_SG en_UG
    en_ZA et fil fi fr fr_BE fr_CA fr_CH fr_CI fr_MA ka de de_AT de_CH el gu ha he hi hu id ga it ja
    kn kk rw_RW ko ky_KG lo lv lt mk ms ml mr nb ps_AF fa pl pt_BR pt_PT pa ro ru sr si_LK sk sl es
    es_AR es_CL es_CO es_CR es_DO es_EC es_HN es_MX es_PA es_PE es_ES es_UY sw sv ta te th tr uk ur
    uz vi zu""".split()
)

# --- Accounts and phone numbers ----------------------------------------------------------------

# Token scopes the platform needs: messaging to send, management for templates and numbers.
REQUIRED_TOKEN_SCOPES = ("whatsapp_business_management", "whatsapp_business_messaging")

# Messages per second by the phone number's `throughput.level` (secondary for COEXISTENCE).
THROUGHPUT_MPS_BY_LEVEL: MappingProxyType[str, int] = MappingProxyType(
    {"STANDARD": DEFAULT_THROUGHPUT_MPS, "HIGH": MAX_THROUGHPUT_MPS, "COEXISTENCE": COEXISTENCE_THROUGHPUT_MPS}
)
THROUGHPUT_UPGRADE_EVENT = "THROUGHPUT_UPGRADE"

# Business profile verticals accepted by `/{phone_number_id}/whatsapp_business_profile` (secondary).
BUSINESS_VERTICALS = frozenset(
    {
        "UNDEFINED",
        "OTHER",
        "AUTO",
        "BEAUTY",
        "APPAREL",
        "EDU",
        "ENTERTAIN",
        "EVENT_PLAN",
        "FINANCE",
        "GROCERY",
        "GOVT",
        "HOTEL",
        "HEALTH",
        "NONPROFIT",
        "PROF_SERVICES",
        "RETAIL",
        "TRAVEL",
        "RESTAURANT",
        "NOT_A_BIZ",
    }
)

# `account_update` events that restrict or end the account, and those that lift it (secondary).
ACCOUNT_RESTRICTING_EVENTS = frozenset({"ACCOUNT_VIOLATION", "ACCOUNT_RESTRICTION"})
ACCOUNT_BAN_EVENT = "DISABLED_UPDATE"
ACCOUNT_DELETED_EVENT = "ACCOUNT_DELETED"
ACCOUNT_BAN_STATE_DISABLED = "DISABLE"
ACCOUNT_BAN_STATE_REINSTATED = "REINSTATE"
# Sent to the partner's app when a business shares its WABA with it (Embedded Signup); `waba_info`
# names the WABA and its owner business.
ACCOUNT_PARTNER_ADDED_EVENT = "PARTNER_ADDED"

# --- Flows ------------------------------------------------------------------------------------


class FlowStatus(StrEnum):
    DRAFT = "DRAFT"
    PUBLISHED = "PUBLISHED"
    DEPRECATED = "DEPRECATED"
    BLOCKED = "BLOCKED"
    THROTTLED = "THROTTLED"


class FlowCategory(StrEnum):
    SIGN_UP = "SIGN_UP"
    SIGN_IN = "SIGN_IN"
    APPOINTMENT_BOOKING = "APPOINTMENT_BOOKING"
    LEAD_GENERATION = "LEAD_GENERATION"
    CONTACT_US = "CONTACT_US"
    CUSTOMER_SUPPORT = "CUSTOMER_SUPPORT"
    SURVEY = "SURVEY"
    SHOPPING = "SHOPPING"
    OTHER = "OTHER"


FLOW_JSON_MAX_BYTES = 10 * 1024 * 1024
FLOW_JSON_MIN_VERSION = (2, 1)
FLOW_JSON_MAX_MAJOR_VERSION = 7
FLOW_DATA_API_VERSION = "3.0"
FLOW_SCREEN_ID_PATTERN = re.compile(r"^[A-Z_]+$")
FLOW_RESERVED_SCREEN_IDS = frozenset({"SUCCESS"})
FLOW_LAYOUT_TYPE = "SingleColumnLayout"
FLOW_NAVIGATION_ACTIONS = frozenset({"navigate", "complete", "data_exchange", "update_data", "open_url"})
FLOW_COMPONENTS = frozenset(
    {
        "TextHeading",
        "TextSubheading",
        "TextBody",
        "TextCaption",
        "RichText",
        "TextInput",
        "TextArea",
        "CheckboxGroup",
        "RadioButtonsGroup",
        "Dropdown",
        "ChipsSelector",
        "DatePicker",
        "CalendarPicker",
        "OptIn",
        "EmbeddedLink",
        "Image",
        "Footer",
        "If",
        "Switch",
        "NavigationList",
        "Form",
    }
)
FLOW_TEXT_INPUT_TYPES = frozenset({"text", "number", "email", "password", "passcode", "phone"})
FLOW_MAX_COMPONENTS_PER_SCREEN = 50
FLOW_MAX_FOOTERS_PER_SCREEN = 1
FLOW_TEXT_HEADING_MAX_CHARS = 80
FLOW_TEXT_SUBHEADING_MAX_CHARS = 80
FLOW_TEXT_BODY_MAX_CHARS = 4096
FLOW_TEXT_CAPTION_MAX_CHARS = 4096
FLOW_INPUT_LABEL_MAX_CHARS = 20  # TextInput and TextArea
FLOW_INPUT_HELPER_TEXT_MAX_CHARS = 80  # TextInput and TextArea
FLOW_SELECTION_LABEL_MAX_CHARS = 30  # CheckboxGroup, RadioButtonsGroup, Dropdown
FLOW_OPTION_TITLE_MAX_CHARS = 30
FLOW_OPTION_DESCRIPTION_MAX_CHARS = 300
FLOW_DROPDOWN_MIN_OPTIONS = 1
FLOW_DROPDOWN_MAX_OPTIONS = 200
FLOW_CHECKBOX_MAX_SELECTED_ITEMS = 20
FLOW_FOOTER_LABEL_MAX_CHARS = 35
FLOW_DYNAMIC_VALUE_PATTERN = re.compile(r"\$\{(data|form)\.([A-Za-z0-9_]+)\}")

# Data-exchange endpoint answers (HTTP status codes Meta understands).
FLOW_ENDPOINT_DECRYPTION_FAILED_STATUS = 421
FLOW_ENDPOINT_TOKEN_INVALID_STATUS = 427
FLOW_ENDPOINT_SIGNATURE_FAILED_STATUS = 432
# Actions of data-exchange requests: a health-check ping, and the ones a flow sends while it runs.
FLOW_ENDPOINT_PING_ACTION = "ping"
FLOW_ENDPOINT_ACTIONS = frozenset({"INIT", "data_exchange", "BACK"})

# --- Webhooks ---------------------------------------------------------------------------------

WEBHOOK_OBJECT = "whatsapp_business_account"
WEBHOOK_SIGNATURE_HEADER = "X-Hub-Signature-256"
WEBHOOK_SIGNATURE_PREFIX = "sha256="
WEBHOOK_PAYLOAD_MAX_BYTES = 3 * 1024 * 1024  # (secondary)
WEBHOOK_RETRY_WINDOW_S = 7 * 24 * 60 * 60  # Meta retries failed deliveries this long (secondary)

WEBHOOK_MESSAGES_FIELD = "messages"
# Call events on numbers with calling enabled; a customer's call does not open the service window.
WEBHOOK_CALLS_FIELD = "calls"
CALL_USER_INITIATED = "USER_INITIATED"
CALL_BUSINESS_INITIATED = "BUSINESS_INITIATED"
# A status of a business-initiated call (`statuses` of the `calls` field, `type` "call"): RINGING, ACCEPTED,
# REJECTED ... Parsed as a call event named CALL_STATUS_EVENT.
CALL_STATUS_TYPE = "call"
CALL_STATUS_EVENT = "status"
WEBHOOK_TEMPLATE_FIELDS = (
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
)
WEBHOOK_PHONE_NUMBER_FIELDS = ("phone_number_quality_update", "phone_number_name_update")
WEBHOOK_FIELDS = (
    "messages",
    "message_template_status_update",
    "message_template_quality_update",
    "template_category_update",
    "phone_number_quality_update",
    "phone_number_name_update",
    "account_update",
    "business_capability_update",
    "flows",
    "security",
    "user_preferences",
    "calls",
)

INBOUND_MESSAGE_TYPES = frozenset(
    {
        "text",
        "image",
        "video",
        "audio",
        "document",
        "sticker",
        "location",
        "contacts",
        "interactive",
        "button",
        "reaction",
        "order",
        "system",
        "unsupported",
    }
)


class MessageStatus(StrEnum):
    SENT = "sent"
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"


class PricingCategory(StrEnum):
    MARKETING = "marketing"
    UTILITY = "utility"
    AUTHENTICATION = "authentication"
    SERVICE = "service"


# --- Errors -----------------------------------------------------------------------------------


class ErrorAction(StrEnum):
    """What the platform does about a Graph API error."""

    RETRY = "retry"  # transient: retry with backoff
    THROTTLED = "throttled"  # rate limited: back off, then retry
    PAIR_RATE = "pair_rate"  # too fast to one recipient: delay that recipient only
    AUTH_INVALID = "auth_invalid"  # token dead: mark account unhealthy, stop sending
    ACCOUNT_RESTRICTED = "account_restricted"  # mark account unhealthy
    PERMISSION = "permission"  # surface to the tenant, no retry
    PERMANENT = "permanent"  # fail this request, no retry


RETRYABLE_ACTIONS = frozenset({ErrorAction.RETRY, ErrorAction.THROTTLED, ErrorAction.PAIR_RATE})


class ErrorCode(IntEnum):
    AUTH_EXCEPTION = 0
    API_UNKNOWN = 1
    API_SERVICE = 2
    API_METHOD = 3
    API_TOO_MANY_CALLS = 4
    PERMISSION_DENIED = 10
    INVALID_PARAMETER = 100
    PERMISSION_MISSING = 200
    ACCESS_TOKEN_INVALID = 190
    ACCOUNT_POLICY_BLOCKED = 368
    APP_RATE_LIMIT = 613  # (secondary)
    WABA_RATE_LIMIT = 80007
    THROUGHPUT_EXCEEDED = 130429
    SOMETHING_WENT_WRONG = 131000
    SERVICE_UNAVAILABLE = 131016
    PARAMETER_MISSING = 131008
    PARAMETER_INVALID = 131009
    RECIPIENT_CANNOT_BE_SENDER = 131021  # (secondary)
    UNDELIVERABLE = 131026
    RECIPIENT_NOT_ALLOWED = 131030
    ACCOUNT_LOCKED = 131031  # (secondary)
    BUSINESS_PAYMENT_ISSUE = 131042  # (secondary)
    OUTSIDE_SERVICE_WINDOW = 131047
    SPAM_RATE_LIMITED = 131048
    ECOSYSTEM_ENGAGEMENT = 131049
    MARKETING_OPT_OUT = 131050
    UNSUPPORTED_MESSAGE_TYPE = 131051
    PAIR_RATE_LIMIT = 131056
    THROUGHPUT_UPGRADE_IN_PROGRESS = 131057
    ACCOUNT_RESTRICTED = 131064
    TEMPLATE_PARAMETER_COUNT_MISMATCH = 132000
    TEMPLATE_NOT_FOUND = 132001
    TEMPLATE_TEXT_TOO_LONG = 132005
    TEMPLATE_POLICY_VIOLATION = 132007
    TEMPLATE_PARAMETER_INVALID = 132008
    TEMPLATE_PARAMETER_FORMAT = 132012
    TEMPLATE_PAUSED = 132015
    TEMPLATE_DISABLED = 132016
    FLOW_BLOCKED = 132068
    FLOW_THROTTLED = 132069
    PHONE_NOT_REGISTERED = 133010  # (secondary)


@dataclass(frozen=True)
class ErrorCodeInfo:
    code: int
    meaning: str
    action: ErrorAction
    secondary: bool = False


def _table(*entries: ErrorCodeInfo) -> MappingProxyType[int, ErrorCodeInfo]:
    return MappingProxyType({entry.code: entry for entry in entries})


_E = ErrorCode
_A = ErrorAction

ERROR_CODES: MappingProxyType[int, ErrorCodeInfo] = _table(
    ErrorCodeInfo(_E.ACCESS_TOKEN_INVALID, "access token expired or invalid", _A.AUTH_INVALID),
    ErrorCodeInfo(_E.AUTH_EXCEPTION, "authentication failed", _A.PERMISSION),
    ErrorCodeInfo(_E.API_METHOD, "capability missing", _A.PERMISSION),
    ErrorCodeInfo(_E.PERMISSION_DENIED, "permission denied", _A.PERMISSION),
    ErrorCodeInfo(_E.PERMISSION_MISSING, "permission missing", _A.PERMISSION),
    ErrorCodeInfo(_E.API_TOO_MANY_CALLS, "app API-call rate limit", _A.THROTTLED),
    ErrorCodeInfo(_E.WABA_RATE_LIMIT, "WABA API-call rate limit", _A.THROTTLED),
    ErrorCodeInfo(_E.APP_RATE_LIMIT, "API-call rate limit", _A.THROTTLED, secondary=True),
    ErrorCodeInfo(_E.THROUGHPUT_EXCEEDED, "throughput exceeded", _A.THROTTLED),
    ErrorCodeInfo(_E.THROUGHPUT_UPGRADE_IN_PROGRESS, "throughput upgrade in progress", _A.THROTTLED),
    ErrorCodeInfo(_E.PAIR_RATE_LIMIT, "pair rate limit for that recipient", _A.PAIR_RATE),
    ErrorCodeInfo(_E.API_UNKNOWN, "unknown API error", _A.RETRY),
    ErrorCodeInfo(_E.API_SERVICE, "service temporarily unavailable", _A.RETRY),
    ErrorCodeInfo(_E.SOMETHING_WENT_WRONG, "something went wrong", _A.RETRY),
    ErrorCodeInfo(_E.SERVICE_UNAVAILABLE, "service unavailable", _A.RETRY),
    ErrorCodeInfo(_E.SPAM_RATE_LIMITED, "spam rate limit hit", _A.ACCOUNT_RESTRICTED),
    ErrorCodeInfo(_E.ACCOUNT_RESTRICTED, "account restricted", _A.ACCOUNT_RESTRICTED),
    ErrorCodeInfo(
        _E.ACCOUNT_POLICY_BLOCKED, "temporarily blocked for policy violations", _A.ACCOUNT_RESTRICTED
    ),
    ErrorCodeInfo(_E.ACCOUNT_LOCKED, "business account locked", _A.ACCOUNT_RESTRICTED, secondary=True),
    ErrorCodeInfo(_E.BUSINESS_PAYMENT_ISSUE, "business payment issue", _A.ACCOUNT_RESTRICTED, secondary=True),
    ErrorCodeInfo(_E.OUTSIDE_SERVICE_WINDOW, "outside the 24-hour window; needs a template", _A.PERMANENT),
    ErrorCodeInfo(_E.UNDELIVERABLE, "message undeliverable", _A.PERMANENT),
    ErrorCodeInfo(_E.ECOSYSTEM_ENGAGEMENT, "not delivered to maintain ecosystem engagement", _A.PERMANENT),
    ErrorCodeInfo(_E.MARKETING_OPT_OUT, "recipient stopped marketing messages", _A.PERMANENT),
    ErrorCodeInfo(_E.UNSUPPORTED_MESSAGE_TYPE, "unsupported message type", _A.PERMANENT),
    ErrorCodeInfo(_E.PARAMETER_MISSING, "required parameter missing", _A.PERMANENT),
    ErrorCodeInfo(_E.PARAMETER_INVALID, "parameter value invalid", _A.PERMANENT),
    ErrorCodeInfo(_E.INVALID_PARAMETER, "invalid parameter", _A.PERMANENT),
    ErrorCodeInfo(_E.RECIPIENT_NOT_ALLOWED, "recipient not in allowed list", _A.PERMANENT),
    ErrorCodeInfo(_E.RECIPIENT_CANNOT_BE_SENDER, "recipient cannot be sender", _A.PERMANENT, secondary=True),
    ErrorCodeInfo(_E.PHONE_NOT_REGISTERED, "phone number not registered", _A.PERMANENT, secondary=True),
    ErrorCodeInfo(_E.TEMPLATE_PARAMETER_COUNT_MISMATCH, "template parameter count mismatch", _A.PERMANENT),
    ErrorCodeInfo(_E.TEMPLATE_NOT_FOUND, "template missing in that language or not approved", _A.PERMANENT),
    ErrorCodeInfo(_E.TEMPLATE_TEXT_TOO_LONG, "template hydrated text too long", _A.PERMANENT),
    ErrorCodeInfo(_E.TEMPLATE_POLICY_VIOLATION, "template format character policy violated", _A.PERMANENT),
    ErrorCodeInfo(_E.TEMPLATE_PARAMETER_INVALID, "template parameter value invalid", _A.PERMANENT),
    ErrorCodeInfo(_E.TEMPLATE_PARAMETER_FORMAT, "template parameter format mismatch", _A.PERMANENT),
    ErrorCodeInfo(_E.TEMPLATE_PAUSED, "template paused", _A.PERMANENT),
    ErrorCodeInfo(_E.TEMPLATE_DISABLED, "template disabled", _A.PERMANENT),
    ErrorCodeInfo(_E.FLOW_BLOCKED, "flow blocked", _A.PERMANENT),
    ErrorCodeInfo(_E.FLOW_THROTTLED, "flow throttled", _A.PERMANENT),
)

# Codes after which the template's status should be re-synced from Meta.
TEMPLATE_STATUS_SYNC_CODES = frozenset({ErrorCode.TEMPLATE_PAUSED, ErrorCode.TEMPLATE_DISABLED})


def classify_error(code: int | None, http_status: int | None) -> ErrorAction:
    """Decide what to do about a Graph API error.

    A known Meta code wins over the HTTP status. Otherwise: 429 is throttling, 5xx (or no
    response at all) is transient, 401 is a dead token, 403 a missing permission, and any
    other status is permanent.
    """
    if code is not None and code in ERROR_CODES:
        return ERROR_CODES[code].action
    if http_status is None:
        return ErrorAction.RETRY
    if http_status == 429:
        return ErrorAction.THROTTLED
    if http_status >= 500:
        return ErrorAction.RETRY
    if http_status == 401:
        return ErrorAction.AUTH_INVALID
    if http_status == 403:
        return ErrorAction.PERMISSION
    return ErrorAction.PERMANENT
