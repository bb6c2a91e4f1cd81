"""A logging filter that takes credentials out of every record before a handler writes it.

Installed on the console handler in settings.LOGGING, it is the last line of defence: the code
that logs is meant to leave credentials out in the first place (tenants.auth parses the
Authorization header without logging it). It rewrites the record in place, so every handler after
it sees the redacted text: the message with its arguments filled in, the exception's traceback
and the stack. What it removes:

- header values: Authorization, Proxy-Authorization, Cookie, Set-Cookie, X-Hub-Signature(-256),
  X-Api-Key, as `Name: value` lines, `'HTTP_AUTHORIZATION': '...'` (Django's META) or JSON;
- credentials in `Basic ...` / `Bearer ...` form wherever they appear;
- our API keys (`wak_<id>_<secret>`: the public `wak_<id>` stays, it names the key);
- `password`, `secret`, `token`, `access_token`, `app_secret`, `api_key` ... as `name=value`
  (query strings, forms) or as `"name": "value"` (JSON, dict reprs);
- Meta access tokens (`EAA...`) and HMAC signatures (`sha256=<hex>`).
"""

from __future__ import annotations

import functools
import logging
import re
import traceback
from collections.abc import Sequence

REDACTED = "[redacted]"

_HEADER_NAMES = r"(?:proxy[-_])?authorization|(?:set[-_])?cookie|x[-_]hub[-_]signature(?:[-_]256)?|x[-_]api[-_]key"
_SECRET_FIELDS = (
    r"[a-z_.]*password|passwd|[a-z_.]*secret|[a-z_.]*token|api[-_]?key|appsecret_proof|signature"
    r"|" + _HEADER_NAMES
)

_RULES: list[tuple[re.Pattern[str], str]] = [
    # 'HTTP_AUTHORIZATION': 'Basic ...' / "password": "..." / 'Cookie': b'...' (dicts, JSON, META)
    (
        re.compile(
            rf"""(?P<key>["'](?:http_)?(?:{_SECRET_FIELDS})["']\s*[:=,]\s*b?)(?P<quote>["'])(?:\\.|(?!(?P=quote)).)*(?P=quote)""",
            re.IGNORECASE,
        ),
        rf"\g<key>\g<quote>{REDACTED}\g<quote>",
    ),
    # Authorization: Basic ... / Cookie: a=1; b=2 (header lines: the value runs to the end of the line)
    (re.compile(rf"(?P<key>\b(?:{_HEADER_NAMES})\s*:\s*)[^\r\n'\"]+", re.IGNORECASE), rf"\g<key>{REDACTED}"),
    # password=... / access_token=... (query strings, forms, key=value lines)
    (re.compile(rf"(?P<key>\b(?:{_SECRET_FIELDS})=)[^&\s'\",;)]+", re.IGNORECASE), rf"\g<key>{REDACTED}"),
    # Basic dXNlcjpwYXNz / Bearer abc... anywhere (an all-lowercase word after it is prose, not a credential)
    (re.compile(r"(?P<key>\b(?:basic|bearer)\s+)(?![a-z]+\b)[A-Za-z0-9._~+/=-]{6,}", re.IGNORECASE), rf"\g<key>{REDACTED}"),
    # Meta access tokens
    (re.compile(r"\bEAA[A-Za-z0-9]{16,}"), f"EAA{REDACTED}"),
    # X-Hub-Signature values
    (re.compile(r"\b(?P<key>sha(?:1|256)=)[0-9a-fA-F]{16,}"), rf"\g<key>{REDACTED}"),
]


@functools.lru_cache(maxsize=8)
def _rules(key_prefixes: tuple[str, ...]) -> list[tuple[re.Pattern[str], str]]:
    rules = []
    for prefix in key_prefixes:
        escaped = re.escape(prefix)
        # wak_<id>_<secret>: the public id stays; any other text after the prefix goes whole.
        rules.append((re.compile(rf"\b(?P<key>{escaped}[0-9a-f]{{8}}_)[A-Za-z0-9_-]+"), rf"\g<key>{REDACTED}"))
        rules.append((re.compile(rf"\b{escaped}(?![0-9a-f]{{8}}_\[)[A-Za-z0-9_-]{{6,}}"), f"{prefix}{REDACTED}"))
    return [*rules, *_RULES]


def redact(text: str, *, key_prefixes: Sequence[str] = ()) -> str:
    """`text` with every credential the rules above recognise replaced by `[redacted]`."""
    for pattern, replacement in _rules(tuple(key_prefixes)):
        text = pattern.sub(replacement, text)
    return text


class RedactCredentials(logging.Filter):
    """Rewrites each record's message, traceback and stack with `redact`; never drops a record."""

    def __init__(self, key_prefixes: Sequence[str] = ()) -> None:
        super().__init__()
        self.key_prefixes = tuple(key_prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string: the handler reports it, as without this filter
            return True
        record.msg, record.args = self._redact(message), None
        if record.exc_info and not record.exc_text:
            record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
        if record.exc_text:
            record.exc_text = self._redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self._redact(record.stack_info)
        return True

    def _redact(self, text: str) -> str:
        return redact(text, key_prefixes=self.key_prefixes)
