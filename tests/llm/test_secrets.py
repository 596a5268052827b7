"""The Claude key lives in the OS keychain (an in-memory one in tests), never elsewhere."""

from __future__ import annotations

import pytest
from keyring.errors import KeyringError

from app.container import Container
from app.secrets import (
    ANTHROPIC_KEY,
    SecretStoreError,
    anthropic_api_key,
    delete_secret,
    get_secret,
    set_secret,
)
from tests.conftest import MemoryKeyring


def test_key_round_trip_and_never_in_settings(memory_keyring: MemoryKeyring) -> None:
    assert anthropic_api_key() is None
    set_secret(ANTHROPIC_KEY, "sk-ant-secret")
    assert anthropic_api_key() == "sk-ant-secret"
    container = Container()
    container.save_settings()
    assert "sk-ant-secret" not in container.paths.settings_file.read_text()
    delete_secret(ANTHROPIC_KEY)
    delete_secret(ANTHROPIC_KEY)  # deleting twice is fine
    assert get_secret(ANTHROPIC_KEY) is None
    container.close()


def test_a_broken_keychain_reads_as_no_key_and_refuses_to_store(
        memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*args: object) -> None:
        raise KeyringError("locked")

    monkeypatch.setattr(memory_keyring, "get_password", broken)
    monkeypatch.setattr(memory_keyring, "set_password", broken)
    assert anthropic_api_key() is None
    with pytest.raises(SecretStoreError) as caught:
        set_secret(ANTHROPIC_KEY, "sk")
    assert "keychain" in caught.value.fix


def test_cli_key_commands(memory_keyring: MemoryKeyring, monkeypatch: pytest.MonkeyPatch,
                          capsys: pytest.CaptureFixture[str]) -> None:
    import io

    from app.cli import main

    monkeypatch.setattr("sys.stdin", io.StringIO("sk-ant-from-stdin\n"))
    assert main(["key", "set", "anthropic"]) == 0
    assert anthropic_api_key() == "sk-ant-from-stdin"
    assert main(["key", "status", "anthropic"]) == 0
    assert "is stored" in capsys.readouterr().out
    assert main(["key", "delete", "anthropic"]) == 0
    assert anthropic_api_key() is None
