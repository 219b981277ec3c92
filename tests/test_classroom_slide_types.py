"""classroom/slide_types.py and the slide types stored in every lesson notebook."""

from pathlib import Path

import nbformat
import pytest

from classroom.slide_types import SLIDE_TYPES, assign_slide_types, default_slide_type

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_cell_of_every_lesson_has_a_valid_slide_type(path):
    notebook = nbformat.read(path, as_version=4)
    missing = [i for i, cell in enumerate(notebook.cells)
               if cell.metadata.get("slideshow", {}).get("slide_type") not in SLIDE_TYPES]
    assert not missing, (f"{path.name}: cells {missing} have no valid slideshow.slide_type; run "
                         f"`python -m classroom.slide_types notebooks/{path.name}`")
    types = [cell.metadata.slideshow.slide_type for cell in notebook.cells]
    assert types[0] == "slide", "the title opens the deck"
    assert types.count("slide") + types.count("subslide") > 1


def markdown(source):
    return nbformat.v4.new_markdown_cell(source)


def code(source, outputs=()):
    return nbformat.v4.new_code_cell(source, outputs=list(outputs))


def test_rules_for_markdown():
    assert default_slide_type(markdown("# Lesson 09"), 0, 1) == "slide"
    assert default_slide_type(markdown("## 2. GroupNorm"), 3, 1) == "slide"
    assert default_slide_type(markdown("### Exercise 1"), 3, 1) == "subslide"
    assert default_slide_type(markdown("<details>\n<summary>Solution</summary>"), 3, 1) == "skip"
    assert default_slide_type(markdown("We expect 8 ResBlocks."), 3, 1) == "subslide"
    assert default_slide_type(markdown("Long prose. " * 60), 3, 1) == "notes"
    table = "| layer | params |\n|---|---|\n" + "| conv | 36,928 |\n" * 40
    assert default_slide_type(markdown(table), 3, 1) == "subslide", "a table is shown, not said"


def test_rules_for_code():
    figure = nbformat.v4.new_output("display_data", data={"application/vnd.plotly.v1+json": {}})
    short = nbformat.v4.new_output("stream", text="shape: [1, 64, 64, 64]\n")
    long = nbformat.v4.new_output("stream", text="row\n" * 40)
    assert default_slide_type(code("import torch"), 1, 1) == "skip", "the set-up cell"
    assert default_slide_type(code("fig", [figure]), 5, 1) == "subslide"
    assert default_slide_type(code("print(x.shape)", [short]), 5, 1) == "fragment"
    assert default_slide_type(code("print(table)", [long]), 5, 1) == "subslide"


def test_assign_keeps_hand_set_types_and_touches_nothing_else():
    output = nbformat.v4.new_output("stream", text="8\n")
    notebook = nbformat.v4.new_notebook(cells=[markdown("# Title"), code("import torch"),
                                               code("print(8)", [output])])
    notebook.cells[2].metadata["slideshow"] = {"slide_type": "slide"}
    before = [(cell.source, cell.get("outputs")) for cell in notebook.cells]
    assert assign_slide_types(notebook) == 2
    assert [c.metadata["slideshow"]["slide_type"] for c in notebook.cells] == ["slide", "skip", "slide"]
    assert [(cell.source, cell.get("outputs")) for cell in notebook.cells] == before
    assert assign_slide_types(notebook, overwrite=True) == 1
    assert notebook.cells[2].metadata["slideshow"]["slide_type"] == "fragment"
