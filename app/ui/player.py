"""Plays a meeting's source file from a given moment (clicking a transcript segment).

QtMultimedia's backend (FFmpeg in Qt 6) loads on first use, so the player is built lazily: a
window that never plays anything never pays for it. A seek asked for before the file has loaded
is kept and applied once it has (QMediaPlayer ignores it otherwise).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QUrl


class SegmentPlayer(QObject):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._player: Any = None
        self._audio: Any = None
        self._source = ""
        self.requested_ms = 0  # where the last click asked to play from
        self._pending: int | None = None

    @property
    def player(self) -> Any:  # a QMediaPlayer
        if self._player is None:
            from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

            self._player = QMediaPlayer(self)
            self._audio = QAudioOutput(self)
            self._player.setAudioOutput(self._audio)
            self._player.mediaStatusChanged.connect(self._on_status)
        return self._player

    def play_from(self, source_path: str, start_ms: int) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        player = self.player
        self.requested_ms = max(0, start_ms)
        if source_path != self._source:
            self._source = source_path
            self._pending = self.requested_ms
            player.setSource(QUrl.fromLocalFile(str(Path(source_path))))
        elif player.mediaStatus() in (QMediaPlayer.MediaStatus.LoadingMedia,
                                      QMediaPlayer.MediaStatus.NoMedia):
            self._pending = self.requested_ms
        else:
            player.setPosition(self.requested_ms)
        player.play()

    def _on_status(self, status: Any) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if self._pending is not None and status in (QMediaPlayer.MediaStatus.LoadedMedia,
                                                    QMediaPlayer.MediaStatus.BufferedMedia):
            self._player.setPosition(self._pending)
            self._pending = None

    def stop(self) -> None:
        if self._player is not None:
            self._player.stop()

    def source(self) -> str:
        return self._source
