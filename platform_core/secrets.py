"""Secrets for settings: from the environment, or generated once for development.

In development (DEBUG on) a missing SECRET_KEY or ENCRYPTION_KEYS is generated on
first start and kept in `.data/secrets.json`, so restarts and every process of
`make run` share it. With DEBUG off a missing secret stops start-up.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from cryptography.fernet import Fernet

from platform_core.env import ConfigurationError, env_list, env_str

_GENERATORS = {
    "SECRET_KEY": lambda: secrets.token_urlsafe(50),
    "ENCRYPTION_KEYS": lambda: Fernet.generate_key().decode(),
}


def _dev_secrets(path: Path) -> dict[str, str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        stored = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        stored = {}
    missing = {name: make() for name, make in _GENERATORS.items() if name not in stored}
    if missing:
        stored.update(missing)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(stored, indent=2))
        os.chmod(tmp, 0o600)
        tmp.replace(path)
    return stored


def secret_setting(name: str, *, debug: bool, data_dir: Path) -> str:
    value = env_str(name)
    if value:
        return value
    if not debug:
        raise ConfigurationError(
            f"{name} is not set. Set it in the environment (see the settings table in README.md); "
            "secrets are only generated automatically in development (DEBUG=1)."
        )
    return _dev_secrets(data_dir / "secrets.json")[name]


def encryption_keys(*, debug: bool, data_dir: Path) -> list[str]:
    """ENCRYPTION_KEYS: comma-separated Fernet keys, newest first (for MultiFernet)."""
    keys = env_list("ENCRYPTION_KEYS") or [secret_setting("ENCRYPTION_KEYS", debug=debug, data_dir=data_dir)]
    for index, key in enumerate(keys):
        try:
            Fernet(key.encode())
        except (ValueError, TypeError):
            raise ConfigurationError(
                f"ENCRYPTION_KEYS entry #{index + 1} is not a valid Fernet key "
                "(32 url-safe base64-encoded bytes; make one with "
                "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`)."
            ) from None
    return keys
