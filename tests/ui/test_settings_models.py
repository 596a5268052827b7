"""Settings → Transcription: downloading a Whisper model from the catalog (from a loopback
model host standing in for whisper.cpp's), with progress, and importing a model file, real or
broken."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog
from pytestqt.qtbot import QtBot

from app.paths import app_paths
from app.settings import load_settings, save_settings
from app.transcribe.model_files import sha256_of
from app.ui.main_window import MainWindow
from app.ui.model_picker import ModelPicker
from app.ui.settings_dialog import SettingsDialog
from tests.transcribe.model_server import ModelServer, running_model_server
from tests.ui.conftest import WindowFactory

pytestmark = pytest.mark.gui

CATALOG_NAME = "tiny-q5_1"  # a catalog model without a published checksum


@pytest.fixture
def model_host(recap_home: Path) -> Iterator[ModelServer]:
    """A loopback model host, set as the catalog's address before the app starts."""
    with running_model_server() as host:
        paths = app_paths().ensure()
        settings = load_settings(paths.settings_file)
        settings.transcription.models_url = host.url
        save_settings(settings, paths.settings_file)
        yield host


def open_models(qtbot: QtBot, window: MainWindow) -> tuple[SettingsDialog, ModelPicker]:
    window.window_actions.settings.trigger()
    dialog = window.settings_dialog
    picker = dialog.models
    qtbot.waitUntil(lambda: picker.box.findData(CATALOG_NAME) >= 0, timeout=10_000)
    return dialog, picker


def item_texts(picker: ModelPicker) -> list[str]:
    return [picker.box.itemText(i) for i in range(picker.box.count())]


def models_dir(window: MainWindow) -> Path:
    return window.container.paths.models


def test_download_shows_progress_and_the_model_becomes_selectable(
    qtbot: QtBot, make_window: WindowFactory, model_host: ModelServer, whisper_tiny_q8: Path
) -> None:
    data = whisper_tiny_q8.read_bytes()  # a real ggml file, served under a catalog name
    model_host.add(f"ggml-{CATALOG_NAME}.bin", data)
    window = make_window()
    dialog, picker = open_models(qtbot, window)
    picker.box.setCurrentIndex(picker.box.findData(CATALOG_NAME))
    assert picker.box.currentText().endswith("download")
    assert picker.download_button.isEnabled()
    shown: list[tuple[int, bool]] = []
    picker.progress.valueChanged.connect(
        lambda value: shown.append((value, picker.progress.isVisible()))
    )

    qtbot.mouseClick(picker.download_button, Qt.MouseButton.LeftButton)
    assert not picker.download_button.isEnabled()  # one download at a time
    qtbot.waitUntil(
        lambda: dialog.message.text() == f"{CATALOG_NAME} is installed.", timeout=60_000
    )
    assert [r["path"] for r in model_host.requests] == [f"/ggml-{CATALOG_NAME}.bin"]
    values = [value for value, _visible in shown]
    assert values == sorted(values) and values[-1] == 1000  # it advanced to the end
    assert any(0 < value < 1000 for value in values)  # and showed steps on the way
    assert all(visible for _value, visible in shown)
    assert not picker.progress.isVisible()  # gone once done

    # Now installed, chosen, and saved as the model to use.
    qtbot.waitUntil(
        lambda: picker.box.currentText() == f"{CATALOG_NAME} (downloaded)", timeout=10_000
    )
    assert not picker.download_button.isEnabled()
    assert sha256_of(models_dir(window) / f"ggml-{CATALOG_NAME}.bin") == sha256_of(whisper_tiny_q8)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert window.container.settings.transcription.model == CATALOG_NAME
    assert window.container.model_store.path_for(CATALOG_NAME).is_file()


def test_progress_of_a_model_bigger_than_two_gigabytes(
    qtbot: QtBot, make_window: WindowFactory, model_host: ModelServer
) -> None:
    window = make_window()
    dialog, picker = open_models(qtbot, window)
    picker.progress.setVisible(True)
    # large-v3 is 3.1 GB: more bytes than a Qt int holds (as the download reports it, from
    # its worker thread, through the relay).
    picker._relay.wrap(picker._show_progress)(1_550_000_000, 3_100_000_000)
    qtbot.waitUntil(lambda: picker.progress.value() == 500, timeout=5_000)
    assert picker.progress.text() == "1550 of 3100 MB"
    dialog.reject()


def test_importing_a_real_model_file_adds_it(
    qtbot: QtBot,
    make_window: WindowFactory,
    model_host: ModelServer,
    whisper_tiny_q8: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    window = make_window()
    dialog, picker = open_models(qtbot, window)
    # ggml-tiny.en-q8_0.bin, as whisper.cpp names it: also the name of the built-in model.
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(whisper_tiny_q8), ""))
    qtbot.mouseClick(picker.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Imported"), timeout=30_000)
    name = "tiny.en-q8_0-imported"
    assert dialog.message.text() == f"Imported {name}."
    qtbot.waitUntil(lambda: picker.box.currentText() == f"{name} (imported)", timeout=10_000)
    assert "tiny.en-q8_0 (embedded)" in item_texts(picker)  # the built-in one is still there
    assert sha256_of(models_dir(window) / f"ggml-{name}.bin") == sha256_of(whisper_tiny_q8)
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert window.container.settings.transcription.model == name


@pytest.mark.parametrize("broken", ["not-a-model", "truncated"])
def test_importing_a_broken_file_says_why_and_adds_nothing(
    qtbot: QtBot,
    make_window: WindowFactory,
    model_host: ModelServer,
    whisper_tiny_q8: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    broken: str,
) -> None:
    path = tmp_path / "ggml-small.en.bin"
    if broken == "not-a-model":
        path.write_text("<html>Sign in to the hotel Wi-Fi</html>\n" * 200)
    else:  # the first megabyte of a real model, as a cut-off copy would be
        with whisper_tiny_q8.open("rb") as f:
            path.write_bytes(f.read(1 << 20))
    window = make_window()
    dialog, picker = open_models(qtbot, window)
    before = item_texts(picker)
    files_before = sorted(p.name for p in models_dir(window).iterdir())
    monkeypatch.setattr(QFileDialog, "getOpenFileName", lambda *a, **k: (str(path), ""))
    qtbot.mouseClick(picker.import_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(picker.import_button.isEnabled, timeout=30_000)  # the user can try again
    text = dialog.message.text()
    assert text.startswith("ggml-small.en.bin is ")
    if broken == "not-a-model":
        assert "not a Whisper model" in text
    else:
        assert "cut short" in text or "incomplete" in text
    assert "\n" not in text and "Traceback" not in text
    qtbot.waitUntil(lambda: item_texts(picker) == before, timeout=10_000)
    assert sorted(p.name for p in models_dir(window).iterdir()) == files_before
    with qtbot.waitSignal(dialog.saved, timeout=10_000):
        dialog.accept()
    assert window.container.settings.transcription.model != "small.en"
