"""`make run` refuses to serve Django's debug pages beyond this machine."""

from __future__ import annotations

import pytest
from django.core.management.base import CommandError

from platform_core.debug_exposure import debug_exposure_check


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "[::]", "devbox.local"])
def test_debug_on_a_network_interface_is_refused_with_the_ways_out(settings, host):
    settings.DEBUG, settings.ALLOW_DEBUG_ON_NETWORK = True, False

    with pytest.raises(CommandError) as refused:
        debug_exposure_check(host=host)

    message = str(refused.value)
    assert f"Refusing to serve on {host} with DEBUG on" in message
    for way_out in ("RUN_HOST=127.0.0.1", "DEBUG=0", "ALLOW_DEBUG_ON_NETWORK=1"):
        assert way_out in message


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.1.1", "::1", "[::1]", "localhost"])
def test_debug_on_loopback_is_served(settings, host):
    settings.DEBUG, settings.ALLOW_DEBUG_ON_NETWORK = True, False
    debug_exposure_check(host=host)


def test_the_network_is_served_with_debug_off_or_when_explicitly_allowed(settings):
    settings.DEBUG, settings.ALLOW_DEBUG_ON_NETWORK = False, False
    debug_exposure_check(host="0.0.0.0")
    settings.DEBUG, settings.ALLOW_DEBUG_ON_NETWORK = True, True
    debug_exposure_check(host="0.0.0.0")
