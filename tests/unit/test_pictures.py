"""The README's pictures: each one it shows exists, each one there is shown, and they draw.

The pictures are made by ``make pictures`` (``docs/make_pictures.py``); the last test
draws one card page with Debian's headless Chromium and checks that the PNG is a real,
non-blank picture of the content's size.
"""

from __future__ import annotations

import importlib.util
import re
import shutil
import struct
import sys
import zlib
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[2]
PICTURES = REPO / "docs" / "pictures"
README = REPO / "README.md"
CHROMIUM = "/usr/bin/chromium"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# Pictures of a running bot, taken by a test rather than drawn by docs/make_pictures.py.
TAKEN_BY_TESTS = {"sandbox.png": "tests/browser/test_sandbox_in_chromium.py"}


def make_pictures() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_pictures", REPO / "docs/make_pictures.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("make_pictures", module)
    spec.loader.exec_module(module)
    return module


def referenced() -> set[str]:
    return set(re.findall(r"docs/pictures/([\w.-]+\.png)", README.read_text(encoding="utf-8")))


def test_every_picture_the_readme_shows_exists() -> None:
    missing = sorted(name for name in referenced() if not (PICTURES / name).is_file())
    assert not missing, f"README shows pictures not in docs/pictures/: {missing} (make pictures)"


def test_every_picture_in_docs_is_shown_by_the_readme() -> None:
    unused = sorted({p.name for p in PICTURES.glob("*.png")} - referenced())
    assert not unused, f"docs/pictures/ holds pictures the README does not show: {unused}"


def test_the_script_draws_every_picture_the_readme_shows_but_those_tests_take() -> None:
    drawn = {f"{name}.png" for name in make_pictures().pages()}
    assert drawn == referenced() - TAKEN_BY_TESTS.keys()
    assert TAKEN_BY_TESTS.keys() <= referenced()


@pytest.mark.parametrize("path", sorted(PICTURES.glob("*.png")), ids=lambda p: p.name)
def test_each_committed_picture_is_small(path: Path) -> None:
    assert path.read_bytes().startswith(PNG_SIGNATURE)
    # A screenshot of a whole page (the sandbox) holds more than one drawn card.
    assert path.stat().st_size < (250_000 if path.name in TAKEN_BY_TESTS else 150_000)


def png_pixels(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the decompressed (still filtered) scanlines of a PNG."""
    assert data.startswith(PNG_SIGNATURE), "not a PNG"
    at, width, height, idat = len(PNG_SIGNATURE), 0, 0, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind, body = data[at + 4 : at + 8], data[at + 8 : at + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        at += 12 + length
    return width, height, zlib.decompress(idat)


@pytest.mark.skipif(
    not shutil.which(CHROMIUM), reason="Debian chromium is not installed (apt-get install chromium)"
)
def test_headless_chromium_draws_a_card_page(tmp_path: Path) -> None:
    tool = make_pictures()
    html_path = tool.write_page("card-under-4h", tool.card_page("card-under-4h"), tmp_path)
    png = tmp_path / "card.png"
    tool.screenshot(html_path, png, CHROMIUM)
    width, height, pixels = png_pixels(png.read_bytes())
    assert width == tool.WIDTH
    assert 300 < height < 1200, f"cropped to the card: {height} px"
    # A blank page filters down to a handful of byte values; text and buttons give hundreds.
    assert len(set(pixels)) > 64
