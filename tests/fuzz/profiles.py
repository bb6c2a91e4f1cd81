"""The two Hypothesis profiles of the fuzz tests, and which one this run uses.

`suite` (the default, part of `make test`): a few derandomized examples per operation or property.
`fuzz` (`make fuzz`, `--hypothesis-profile=fuzz`): many more examples, plus Schemathesis' coverage
phase (boundary values of every parameter), still derandomized so that a failure reproduces.
"""

from __future__ import annotations

from hypothesis import HealthCheck, settings

SUITE = "suite"
FUZZ = "fuzz"

settings.register_profile(
    SUITE,
    max_examples=3,
    derandomize=True,
    deadline=None,
    database=None,
    print_blob=False,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
settings.register_profile(FUZZ, parent=settings.get_profile(SUITE), max_examples=200)

_active = {"name": SUITE}


def profile_load(name: str | None) -> None:
    _active["name"] = name or SUITE
    settings.load_profile(_active["name"])


def long_run() -> bool:
    """True under `make fuzz`."""
    return _active["name"] != SUITE
