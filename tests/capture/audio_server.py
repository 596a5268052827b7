"""A throwaway sound server for tests and benchmarks: PulseAudio, or PipeWire with its Pulse server.

Each runs in its own ``XDG_RUNTIME_DIR`` (no systemd, no user session, root is fine) with two null
sinks: ``speakers`` (the default output: what the far end of a call sounds like) and ``micsink``,
whose monitor is remapped into the source ``mic`` (the default input: the user's voice). Play into
them with ``play(file, "speakers")`` / ``play(file, "micsink")``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("pulseaudio", "pipewire")
INSTALL_HINT = {
    "pulseaudio": "apt-get install pulseaudio pulseaudio-utils libasound2-plugins",
    "pipewire": "apt-get install --no-install-recommends pipewire pipewire-pulse wireplumber "
                "dbus pulseaudio-utils libasound2-plugins",
}
_MODULES = (
    "module-null-sink sink_name=speakers rate=48000",
    "module-null-sink sink_name=micsink rate=48000",
    "module-remap-source source_name=mic master=micsink.monitor",
)


class ServerUnavailable(RuntimeError):
    pass


@dataclass
class AudioServer:
    kind: str
    runtime_dir: Path
    env: dict[str, str]
    processes: list[subprocess.Popen[bytes]] = field(default_factory=list)
    players: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def pactl(self, *args: str, check: bool = True) -> str:
        done = subprocess.run(["pactl", *args], env=self.env, capture_output=True, text=True,
                              timeout=20)
        if check and done.returncode != 0:
            raise ServerUnavailable(f"pactl {' '.join(args)}: {done.stderr.strip()}")
        return done.stdout

    def load_module(self, spec: str) -> int:
        return int(self.pactl("load-module", *spec.split()).strip())

    def play(self, path: Path, sink: str) -> subprocess.Popen[bytes]:
        """Start playing ``path`` (a WAV) into ``sink``; returns the player process."""
        player = subprocess.Popen(["paplay", "-d", sink, str(path)], env=self.env,
                                  stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.players.append(player)
        return player

    def stop(self) -> None:
        for proc in [*self.players, *reversed(self.processes)]:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        for proc in [*self.players, *self.processes]:
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        if self.kind == "pulseaudio":
            subprocess.run(["pulseaudio", "--kill"], env=self.env, capture_output=True,
                           timeout=10)
        shutil.rmtree(self.runtime_dir, ignore_errors=True)


def _wait_ready(server: AudioServer, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        done = subprocess.run(["pactl", "info"], env=server.env, capture_output=True, text=True,
                              timeout=10)
        if done.returncode == 0:
            return
        last = done.stderr.strip()
        time.sleep(0.1)
    raise ServerUnavailable(f"{server.kind} did not answer within {timeout:.0f} s: {last}")


def start(kind: str) -> AudioServer:
    """Start a fresh server of ``kind`` with the two null sinks; raises ServerUnavailable."""
    needed = {"pulseaudio": ["pulseaudio", "pactl", "paplay", "parec"],
              "pipewire": ["pipewire", "wireplumber", "pipewire-pulse", "dbus-daemon", "pactl",
                           "paplay", "parec"]}[kind]
    missing = [tool for tool in needed if shutil.which(tool) is None]
    if missing:
        raise ServerUnavailable(f"{', '.join(missing)} not installed: {INSTALL_HINT[kind]}")
    runtime = Path(tempfile.mkdtemp(prefix=f"recap-{kind}-"))
    runtime.chmod(0o700)
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "PULSE_SERVER": "",
           "PIPEWIRE_RUNTIME_DIR": str(runtime)}
    env.pop("PULSE_SERVER")
    server = AudioServer(kind, runtime, env)
    try:
        if kind == "pulseaudio":
            args = ["pulseaudio", "--daemonize=yes", "--no-cpu-limit=yes", "-n",
                    "--exit-idle-time=-1", "--disallow-exit=yes", "--log-target=stderr",
                    "--load=module-native-protocol-unix"]
            args += [f"--load={module}" for module in _MODULES]
            done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=30)
            if done.returncode != 0:
                raise ServerUnavailable(f"pulseaudio would not start: {done.stderr[-400:]}")
            _wait_ready(server)
        else:
            bus = f"unix:path={runtime}/bus"
            env["DBUS_SESSION_BUS_ADDRESS"] = bus
            server.processes.append(subprocess.Popen(
                ["dbus-daemon", "--session", "--nofork", f"--address={bus}"], env=env,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            for _ in range(100):
                if (runtime / "bus").exists():
                    break
                time.sleep(0.05)
            for program in ("pipewire", "wireplumber", "pipewire-pulse"):
                server.processes.append(subprocess.Popen(
                    [program], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
                time.sleep(0.2)
            _wait_ready(server)
            for module in _MODULES:
                server.load_module(module)
        server.pactl("set-default-sink", "speakers")
        server.pactl("set-default-source", "mic")
        _wait_default(server)
    except BaseException:
        server.stop()
        raise
    return server


def _wait_default(server: AudioServer, timeout: float = 10.0) -> None:
    """PipeWire applies defaults asynchronously (through WirePlumber): wait until it has."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        info = server.pactl("info")
        if "Default Sink: speakers" in info and "Default Source: mic" in info:
            return
        time.sleep(0.1)
    raise ServerUnavailable(f"{server.kind}: default sink/source not applied:\n{info}")


@contextlib.contextmanager
def running(kind: str) -> Iterator[AudioServer]:
    server = start(kind)
    try:
        yield server
    finally:
        server.stop()
