"""Secrets live in the OS keychain through ``keyring``: never in SQLite, settings or logs."""

from __future__ import annotations

import logging

from app.errors import RecapError

log = logging.getLogger(__name__)

SERVICE = "Recap"
ANTHROPIC_KEY = "anthropic_api_key"


class SecretStoreError(RecapError):
    pass


def get_secret(name: str) -> str | None:
    """The stored secret, or None when absent or when no keychain is usable here."""
    import keyring
    from keyring.errors import KeyringError

    try:
        return keyring.get_password(SERVICE, name) or None
    except (KeyringError, RuntimeError) as exc:  # no backend on a headless box, locked keychain
        log.warning("keychain unavailable reading %s: %s", name, type(exc).__name__)
        return None


def set_secret(name: str, value: str) -> None:
    import keyring
    from keyring.errors import KeyringError

    try:
        keyring.set_password(SERVICE, name, value)
    except (KeyringError, RuntimeError) as exc:
        log.warning("keychain unavailable writing %s: %s", name, type(exc).__name__)
        raise SecretStoreError(
            "The system keychain cannot store the key.",
            fix="Install or unlock a keychain (e.g. GNOME Keyring / KWallet) and try again.",
        ) from exc


def delete_secret(name: str) -> None:
    import keyring
    from keyring.errors import KeyringError, PasswordDeleteError

    try:
        keyring.delete_password(SERVICE, name)
    except PasswordDeleteError:
        pass
    except (KeyringError, RuntimeError) as exc:
        log.warning("keychain unavailable deleting %s: %s", name, type(exc).__name__)


def anthropic_api_key() -> str | None:
    return get_secret(ANTHROPIC_KEY)


def keychain_backend() -> str:
    """Which keychain ``keyring`` uses here, as module.Class (for `recap doctor`)."""
    import keyring

    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"
