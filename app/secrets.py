"""Secrets live in the OS keychain through ``keyring``: never in SQLite, settings or logs."""

from __future__ import annotations

import logging
from types import ModuleType

from app.errors import RecapError

log = logging.getLogger(__name__)

SERVICE = "Recap"
ANTHROPIC_KEY = "anthropic_api_key"


class SecretStoreError(RecapError):
    pass


def _keyring() -> ModuleType:
    """keyring looks for the system's keychains as it loads (~0.4 s): only when one is used."""
    import keyring.errors

    return keyring


def get_secret(name: str) -> str | None:
    """The stored secret, or None when absent or when no keychain is usable here."""
    keyring = _keyring()
    try:
        return keyring.get_password(SERVICE, name) or None
    # No backend on a headless box, a locked keychain: as if nothing were stored.
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        log.warning("keychain unavailable reading %s: %s", name, type(exc).__name__)
        return None


def set_secret(name: str, value: str) -> None:
    keyring = _keyring()
    try:
        keyring.set_password(SERVICE, name, value)
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        log.warning("keychain unavailable writing %s: %s", name, type(exc).__name__)
        raise SecretStoreError(
            "The system keychain cannot store the key.",
            fix="Install or unlock a keychain (e.g. GNOME Keyring / KWallet) and try again.",
        ) from exc


def delete_secret(name: str) -> None:
    keyring = _keyring()
    try:
        keyring.delete_password(SERVICE, name)
    except keyring.errors.PasswordDeleteError:
        pass
    except (keyring.errors.KeyringError, RuntimeError) as exc:
        log.warning("keychain unavailable deleting %s: %s", name, type(exc).__name__)


def anthropic_api_key() -> str | None:
    return get_secret(ANTHROPIC_KEY)


def keychain_backend() -> str:
    """Which keychain ``keyring`` uses here, as module.Class (for `recap doctor`)."""
    backend = _keyring().get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"
