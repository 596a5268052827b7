"""Times read the same wherever Recap shows them: the list in the CLI and in the window, the
transcript, the exports."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from app.cli import main
from app.formatting import duration, position, running_clock, subtitle_time
from app.store.models import Meeting


def test_shapes() -> None:
    assert [duration(s) for s in (None, 0, 59.6, 185, 3723)] == ["—", "0:00", "1:00", "3:05",
                                                                 "1:02:03"]
    assert [position(ms) for ms in (0, 185_400, 3_723_000)] == ["00:00", "03:05", "1:02:03"]
    assert running_clock(185.9) == "0:03:05"
    assert subtitle_time(3_723_045) == "01:02:03,045"
    assert subtitle_time(5, separator=".") == "00:00:00.005"


@pytest.mark.gui
def test_cli_and_window_show_a_meeting_length_alike(capsys: pytest.CaptureFixture[str],
                                                    qtbot: object) -> None:
    from app.container import Container
    from app.store.queries import list_meetings
    from app.ui.meeting_list import MeetingTableModel

    container = Container()
    with container.db.session() as s:
        s.add(Meeting(title="Standup", duration_s=185.0,
                      occurred_at=datetime(2026, 11, 25, 10, tzinfo=UTC)))
    model = MeetingTableModel()
    model.set_rows(list_meetings(container.db))
    container.close()
    assert main(["list"]) == 0
    assert "  3:05  " in capsys.readouterr().out
    assert model.data(model.index(0, 2)) == "3:05"
