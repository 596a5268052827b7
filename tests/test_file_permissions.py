"""Nothing Recap keeps is readable by another account: folders 0700, files 0600, including
files made later (SQLite's -wal/-shm, a rotated log, a recording and its sidecar, a backup),
and an install from before this rule is tightened at the next start."""

from __future__ import annotations

import logging
import os
import stat
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.audio.recorder import Recorder
from app.audio.sources import ArraySource, known_signal
from app.container import Container
from app.paths import app_paths
from app.store import migrate
from app.store.models import Meeting

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="no POSIX modes on Windows")


@pytest.fixture(autouse=True)
def usual_umask() -> Iterator[None]:
    """The common default (022): what makes files 0644 unless Recap says otherwise."""
    previous = os.umask(0o022)
    yield
    os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def open_to_others(home: Path) -> list[str]:
    """Every file or folder under `home`'s Recap folders that another account could use."""
    found = []
    for root in ("data", "cache", "logs", "config"):
        for folder, _dirs, files in os.walk(home / root):
            for path in [Path(folder), *(Path(folder, name) for name in files)]:
                if not path.is_symlink() and mode(path) & 0o077:
                    found.append(f"{path.relative_to(home)} {oct(mode(path))}")
    return sorted(found)


def record_briefly(folder: Path) -> Path:
    source = ArraySource(known_signal(0, 1600), sample_rate=16000, speed=0)
    recorder = Recorder(source, folder)
    wav = recorder.start()
    while source.fed_frames < 1600:
        time.sleep(0.01)
    recorder.stop()
    return wav


def test_everything_recap_writes_is_private(recap_home: Path) -> None:
    container = Container()
    paths = container.paths
    with container.db.session() as s:  # the database, and its -wal/-shm while it is open
        s.add(Meeting(title="Salary review"))
    assert (paths.database.parent / "recap.sqlite3-wal").exists()
    container.settings.device_id = container.settings.device_id  # and saved
    container.save_settings()
    handler = next(h for h in logging.getLogger().handlers
                   if getattr(h, "_recap_file", None) == str(paths.log_file))
    logging.getLogger("app").warning("before the rotation")
    handler.doRollover()  # type: ignore[attr-defined]
    logging.getLogger("app").warning("after the rotation")
    assert (paths.logs / "recap.log.1").exists()
    wav = record_briefly(paths.recordings)
    backup = migrate.backup_database(paths.database, paths.backups, "test")

    expected = [paths.database, paths.database.with_name("recap.sqlite3-wal"),
                paths.database.with_name("recap.sqlite3-shm"), paths.settings_file,
                paths.log_file, paths.logs / "recap.log.1", wav,
                wav.with_name(wav.stem + ".recording.json"), backup]
    assert {p.name: oct(mode(p)) for p in expected} == {p.name: "0o600" for p in expected}
    for folder in (paths.data, paths.cache, paths.logs, paths.config, paths.recordings,
                   paths.backups, paths.models):
        assert mode(folder) == 0o700, folder
    assert open_to_others(recap_home) == []
    container.close()


def test_an_older_install_is_tightened_at_start(recap_home: Path, tmp_path: Path) -> None:
    paths = app_paths()
    made = [paths.database, paths.database.with_name("recap.sqlite3-wal"), paths.settings_file,
            paths.log_file, paths.recordings / "2026-01-05.wav", paths.backups / "old.sqlite3",
            paths.models / "ggml-base.en.bin", paths.cache / "pcm" / "m1.f32"]
    for path in made:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"meeting")
        path.chmod(0o644)
    for folder in {p.parent for p in made} | {recap_home / d for d in ("data", "cache")}:
        folder.chmod(0o755)
    outside = tmp_path / "shared-notes.txt"  # a link to something that is not Recap's
    outside.write_text("team wiki")
    outside.chmod(0o644)
    (paths.data / "shared").symlink_to(outside)
    assert open_to_others(recap_home)  # as an install from before looks

    Container().close()

    assert open_to_others(recap_home) == []
    assert mode(outside) == 0o644  # links are not followed
