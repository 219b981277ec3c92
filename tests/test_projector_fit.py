"""Every figure stored in a lesson fits a 1280x720 projector at the course style's font sizes.

A plotly figure is drawn at its layout's height (450 px when none is set) across the page; an image is
shown at its own size, scaled down to the page's width when it is wider. Either must then be at most 720 px
tall and 1280 px wide.
"""

import base64
import struct
from pathlib import Path

import nbformat
import pytest

from unet_lessons.viz.style import PROJECTOR_HEIGHT

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
PROJECTOR_WIDTH = 1280
PLOTLY_DEFAULT_HEIGHT = 450


def png_size(encoded: str) -> tuple[int, int]:
    header = base64.b64decode(encoded[:44])  # the 8-byte signature, then the IHDR chunk: width, height
    assert header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


def shown_sizes(notebook) -> list[tuple[int, str, int, int]]:
    """(cell, kind, width, height) of every figure as a projector shows it."""
    sizes = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            data = output.get("data", {})
            if "image/png" in data:
                width, height = png_size(data["image/png"])
                scale = min(1.0, PROJECTOR_WIDTH / width)
                sizes.append((index, "png", round(width * scale), round(height * scale)))
            if "application/vnd.plotly.v1+json" in data:
                layout = data["application/vnd.plotly.v1+json"].get("layout", {})
                sizes.append((index, "plotly", layout.get("width") or PROJECTOR_WIDTH,
                              layout.get("height") or PLOTLY_DEFAULT_HEIGHT))
    return sizes


def test_png_sizes_are_read_from_the_header():
    one_by_two = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAACCAIAAAAW4yFwAAAAC0lEQVR4nGNggAAAAAgAAbdYc5UAAAAASUVORK5CYII="
    assert png_size(one_by_two) == (1, 2)


@pytest.mark.parametrize("name", LESSONS)
def test_every_figure_fits_1280x720(name):
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    sizes = shown_sizes(notebook)
    too_big = [size for size in sizes if size[2] > PROJECTOR_WIDTH or size[3] > PROJECTOR_HEIGHT]
    assert not too_big, f"{name}: figures larger than 1280x720 as shown (cell, kind, width, height): {too_big}"
