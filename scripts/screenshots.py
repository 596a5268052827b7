"""Render the main views of the desktop app to PNG for the README (docs/screenshots/).

    xvfb-run -a -s "-screen 0 1280x800x24" python scripts/screenshots.py
    QT_QPA_PLATFORM=offscreen python scripts/screenshots.py      # no X server at all

It builds a throwaway Recap home with the bundled sample meeting (resources/samples: its
transcript and the hand-written expected notes, so no model runs) plus a few more meetings,
then grabs each view. Nothing touches the real profile.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "docs" / "screenshots"
SAMPLES = REPO / "resources" / "samples"


def seed(container: object) -> str:
    """The sample meeting and some neighbours; returns the sample's id."""
    from app.store.models import ActionItem, EmailDraft, Meeting, Segment

    spec = json.loads((SAMPLES / "team-sync.json").read_text())
    lines = [x for x in (SAMPLES / "team-sync.txt").read_text().splitlines() if x.strip()]
    now = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)
    with container.db.session() as s:  # type: ignore[attr-defined]
        for i, (title, status, error) in enumerate([
            ("Design review", "ready", ""),
            ("Customer call: Northwind", "needs_attention",
             "Ollama is not running at http://127.0.0.1:11434. Start it with `ollama serve`."),
            ("Hiring sync", "ready", ""),
            ("Quarterly planning", "ready", ""),
        ]):
            s.add(Meeting(title=title, occurred_at=now - timedelta(days=i + 1, hours=i),
                          duration_s=1500 + 420 * i, status=status, error=error,
                          synced_at=now if i % 2 == 0 else None))
        meeting = Meeting(title=spec["title"], occurred_at=now, duration_s=93.0,
                          status="ready", source_path=str(SAMPLES / spec["audio"]),
                          transcript_model="tiny.en-q8_0", language="en",
                          notes_model="ollama:mistral",
                          summary="Priya, Marcus and Dana confirmed the website launch for the "
                                  "fifteenth of March, reviewed the budget, and agreed to move "
                                  "hosting to Northwind's cheaper plan.",
                          decisions=[d["text"] for d in spec["decisions"]])
        s.add(meeting)
        s.flush()
        for i, line in enumerate(lines):
            s.add(Segment(meeting_id=meeting.id, idx=i, start_ms=i * 5400,
                          end_ms=i * 5400 + 5000, text=line))
        starts = {line.split(": ", 1)[-1]: i * 5400 for i, line in enumerate(lines)}
        for i, item in enumerate(spec["action_items"]):
            quote_start = next((t for text, t in starts.items() if item["quote"] in text), None)
            s.add(ActionItem(meeting_id=meeting.id, position=i, text=item["text"],
                             owner=item["owner"], due_text=item["due"], quote=item["quote"],
                             quote_start_ms=quote_start, done=(i == 0),
                             due_date=date(2026, 12, 2) if i == 0 else None,
                             source_model="ollama:mistral"))
        s.add(EmailDraft(meeting_id=meeting.id, subject="Team sync: decisions and next steps",
                         recipients="priya@example.com, marcus@example.com, dana@example.com",
                         body="Hi all,\n\nThanks for the sync this morning. Here is what we "
                              "agreed.\n\nDecisions\n- The website launch stays on the fifteenth"
                              " of March.\n- We switch hosting to Northwind's cheaper plan.\n\n"
                              "Next steps\n- Dana: finish the payment page (next Wednesday)\n"
                              "- Marcus: send the revised budget to finance (Friday)\n"
                              "- Dana: book a call with Northwind Hosting (Tuesday morning)\n\n"
                              "Best,\nPriya", source_model="ollama:mistral"))
        return str(meeting.id)


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="recap-shots-"))
    os.environ["RECAP_HOME"] = str(home)
    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QEventLoop, QTimer
    from PySide6.QtWidgets import QApplication

    from app.container import Container
    from app.ui.main_window import MainWindow
    from app.ui.settings_dialog import SettingsDialog

    app = QApplication(sys.argv[:1])
    app.setApplicationName("Recap")
    OUT.mkdir(parents=True, exist_ok=True)

    def settle(ms: int = 600) -> None:
        loop = QEventLoop()
        QTimer.singleShot(ms, loop.quit)
        loop.exec()

    def shot(widget: object, name: str) -> None:
        path = OUT / f"{name}.png"
        widget.grab().save(str(path))  # type: ignore[attr-defined]
        print(path)

    container = Container()
    container.settings.llm.ollama_host = "http://127.0.0.1:9"  # nothing there: shows the hint
    first = MainWindow(container, use_tray=False)
    first.resize(1180, 760)
    first.show()
    for _ in range(120):  # until the status bar has probed for the local model
        settle(250)
        if first.status.available is not None:
            break
    settle(300)
    shot(first, "first-run")
    first.quit_without_asking = True
    first.close()

    sample_id = seed(container)
    window = MainWindow(container, use_tray=False)
    window.resize(1180, 760)
    window.show()
    settle(1500)
    window.meetings.select(sample_id)
    settle(1200)
    window.detail.transcript.table.selectRow(5)
    shot(window, "transcript")
    window.detail.tabs.setCurrentWidget(window.detail.action_items)
    settle(300)
    shot(window, "action-items")
    window.detail.tabs.setCurrentWidget(window.detail.summary)
    settle(300)
    shot(window, "summary")
    window.detail.tabs.setCurrentWidget(window.detail.email)
    settle(300)
    shot(window, "email")
    window.detail.tabs.setCurrentWidget(window.detail.details)
    settle(300)
    shot(window, "details")

    # The import queue as it looks mid-batch (rows driven directly; no model runs here).
    window.detail.tabs.setCurrentWidget(window.detail.transcript)
    queue = window.import_queue
    queue.add_meeting("/home/sam/Recordings/standup-monday.m4a", "a")
    queue.set_progress("a", "Transcribing", 0.62, 0.31)
    queue.add_meeting("/home/sam/Recordings/client-call.mp3", "b")
    queue.add_rejected("/home/sam/Recordings/notes.docx",
                       "notes.docx: not an audio or video file Recap can read "
                       "(try mp3, m4a, wav, flac, ogg, mp4, mkv…).")
    settle(300)
    shot(window, "import-queue")

    dialog = SettingsDialog(container, window.tasks, window,
                            hotkey_status="Ctrl+Alt+R starts or stops recording from any program.")
    dialog.resize(620, 420)
    dialog.show()
    for name, label in (("settings-cloud", "Cloud"), ("settings-recording", "Recording")):
        index = next(i for i in range(dialog.tabs.count()) if dialog.tabs.tabText(i) == label)
        dialog.tabs.setCurrentIndex(index)
        settle(800)
        shot(dialog, name)
    dialog.reject()
    window.quit_without_asking = True
    window.close()
    container.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
