"""A private X server (Xvfb) for tests that need a real X11 display, not Qt's offscreen one."""

from __future__ import annotations

import os
import select
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def running_xvfb(size: str = "1024x768x24") -> Iterator[str]:
    """Start Xvfb on a free display; yield its name (":N")."""
    if shutil.which("Xvfb") is None:
        pytest.fail("Xvfb is not installed (apt-get install xvfb; .ci/run does)")
    read_fd, write_fd = os.pipe()
    # -noreset: by default the server resets when its last client leaves, refusing a client
    # that connects meanwhile.
    server = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", size, "-nolisten", "tcp",
         "-noreset"],
        pass_fds=[write_fd], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    os.close(write_fd)
    try:
        ready, _, _ = select.select([read_fd], [], [], 20)
        assert ready, "Xvfb did not start within 20 s"
        yield ":" + os.read(read_fd, 32).decode().strip()
    finally:
        os.close(read_fd)
        server.terminate()
        server.wait(10)


def window_names(display: str) -> list[str]:
    """The names of the mapped top-level windows on `display` (what a user could see)."""
    from Xlib import X
    from Xlib import display as xdisplay

    conn = xdisplay.Display(display)
    try:
        names = []
        for child in conn.screen().root.query_tree().children:
            attrs = child.get_attributes()
            if attrs.map_state != X.IsViewable:
                continue
            name = child.get_full_property(conn.intern_atom("_NET_WM_NAME"), 0)
            if name is not None:
                names.append(bytes(name.value).decode("utf-8", "replace"))
            else:
                legacy = child.get_wm_name()
                if legacy:
                    names.append(str(legacy))
        return names
    finally:
        conn.close()
