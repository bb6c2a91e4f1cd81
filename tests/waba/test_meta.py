"""Meta's error codes classified: what the platform does about each one."""

from __future__ import annotations

import pytest

from waba import meta
from waba.meta import ErrorAction, classify_error


@pytest.mark.parametrize(
    ("codes", "action"),
    [
        ((1, 2, 131000, 131016), ErrorAction.RETRY),
        ((4, 80007, 130429, 131057), ErrorAction.THROTTLED),
        ((131056,), ErrorAction.PAIR_RATE),
        ((190,), ErrorAction.AUTH_INVALID),
        ((131048, 131064, 368), ErrorAction.ACCOUNT_RESTRICTED),
        ((0, 3, 10, 200), ErrorAction.PERMISSION),
        (
            (131047, 131026, 131049, 131050, 131051, 131008, 131009, 100, 131030)
            + (132000, 132001, 132005, 132007, 132008, 132012, 132015, 132016, 132068, 132069),
            ErrorAction.PERMANENT,
        ),
    ],
)
def test_every_code_of_meta_md_is_classified(codes, action):
    for code in codes:
        assert classify_error(code, 400) is action, code
        assert meta.ERROR_CODES[code].secondary is False


def test_a_known_code_wins_over_the_http_status():
    assert classify_error(131047, 500) is ErrorAction.PERMANENT
    assert classify_error(131000, 400) is ErrorAction.RETRY
    assert classify_error(190, 400) is ErrorAction.AUTH_INVALID


@pytest.mark.parametrize(
    ("code", "http_status", "action"),
    [
        (None, 500, ErrorAction.RETRY),
        (424242, 503, ErrorAction.RETRY),
        (None, 429, ErrorAction.THROTTLED),
        (424242, 429, ErrorAction.THROTTLED),
        (424242, 400, ErrorAction.PERMANENT),
        (None, 404, ErrorAction.PERMANENT),
        (None, 401, ErrorAction.AUTH_INVALID),
        (None, 403, ErrorAction.PERMISSION),
        (None, None, ErrorAction.RETRY),  # no answer at all: a transport failure
    ],
)
def test_unknown_codes_fall_back_to_the_http_status(code, http_status, action):
    assert classify_error(code, http_status) is action


def test_retryable_actions():
    assert meta.RETRYABLE_ACTIONS == {ErrorAction.RETRY, ErrorAction.THROTTLED, ErrorAction.PAIR_RATE}


def test_error_code_enum_and_table_agree():
    assert set(meta.ERROR_CODES) == {int(code) for code in meta.ErrorCode}
    assert all(info.code == code for code, info in meta.ERROR_CODES.items())


def test_template_names():
    assert meta.TEMPLATE_NAME_PATTERN.fullmatch("order_update_2")
    assert not meta.TEMPLATE_NAME_PATTERN.fullmatch("Order-Update")


def test_messaging_limit_tiers():
    assert list(meta.MESSAGING_LIMIT_BY_TIER.values()) == [250, 2_000, 10_000, 100_000, None]
