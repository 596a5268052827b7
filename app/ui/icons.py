"""The app icon: the SVG in resources/icons, with PNG renders as a fallback for platforms
(and Qt builds) without the SVG image plugin."""

from __future__ import annotations

from PySide6.QtGui import QIcon

from app.paths import resource_path

PNG_SIZES = (16, 32, 48, 64, 128, 256)


def app_icon() -> QIcon:
    folder = resource_path("icons")
    icon = QIcon()
    for size in PNG_SIZES:
        png = folder / f"recap-{size}.png"
        if png.exists():
            icon.addFile(str(png))
    svg = folder / "recap.svg"
    if icon.isNull() and svg.exists():
        icon.addFile(str(svg))
    return icon
