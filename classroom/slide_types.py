"""Slide types for the lesson notebooks: which cell starts a slide, which appears on a click, which is skipped.

Every cell of a lesson carries ``metadata.slideshow.slide_type``, read by nbconvert's reveal.js decks and
by RISE. The types are stored in the notebooks (a lecturer may change any of them by hand in JupyterLab's
property inspector); this module gives the default, by these rules, in order, so that each slide fits a
1280x720 projector with one idea and at most one figure:

- a ``#`` or ``##`` heading starts a **slide** (the title, each section);
- a ``###`` heading starts a **subslide** (an explorer, an exercise);
- a solution (a markdown cell opening with ``<details>``) is **skip**: the lecturer reveals it live;
- the first code cell (imports and set-up) is **skip**;
- long prose (more than ``NOTES_MIN_CHARS`` characters, without a table, a list of objectives or code)
  becomes speaker **notes**: what a learner reads, a lecturer says;
- other markdown starts a **subslide**: one explain -> build -> check step per slide;
- a code cell whose output is tall (a figure, a widget, a source listing, a long printout) starts a
  **subslide**, so the figure has the slide to itself;
- any other code cell is a **fragment**: the check appears on a click, after the slide has stated the
  expected number.

    python -m classroom.slide_types notebooks/07_does_it_learn.ipynb          # cells without a type
    python -m classroom.slide_types --overwrite notebooks/*.ipynb               # every cell, by the rules

Only ``metadata.slideshow`` changes: sources and outputs stay byte for byte, so nbval is unaffected.
"""

import argparse
import re
from pathlib import Path

import nbformat

SLIDE_TYPES = ("slide", "subslide", "fragment", "skip", "notes", "-")
NOTES_MIN_CHARS = 600
TALL_OUTPUT_MIMES = ("application/vnd.plotly.v1+json", "application/vnd.jupyter.widget-view+json",
                     "image/png", "image/svg+xml", "text/html")
TALL_TEXT_LINES = 12


def _is_setup(cell: nbformat.NotebookNode, first_code_index: int | None, index: int) -> bool:
    return cell.cell_type == "code" and index == first_code_index


def _has_tall_output(cell: nbformat.NotebookNode) -> bool:
    for output in cell.get("outputs", []):
        if any(mime in output.get("data", {}) for mime in TALL_OUTPUT_MIMES):
            return True
        if output.get("output_type") == "stream" and output.get("text", "").count("\n") > TALL_TEXT_LINES:
            return True
    return False


def _is_long_prose(source: str) -> bool:
    has_table = any(line.lstrip().startswith("|") for line in source.splitlines())
    has_numbered_list = re.search(r"^\s*1\. ", source, flags=re.MULTILINE) is not None
    return len(source) > NOTES_MIN_CHARS and not has_table and not has_numbered_list and "```" not in source


def default_slide_type(cell: nbformat.NotebookNode, index: int, first_code_index: int | None) -> str:
    """The slide type the rules above give cell number ``index`` of a notebook.

    * `cell` - a markdown or code cell
    * `index` - its position in the notebook
    * `first_code_index` - the position of the notebook's first code cell (the set-up cell)
    """
    source = cell.source.strip()
    if cell.cell_type == "markdown":
        if source.startswith(("# ", "## ")):
            return "slide"
        if source.startswith("### "):
            return "subslide"
        if source.startswith("<details>"):
            return "skip"
        if _is_long_prose(source):
            return "notes"
        return "subslide"
    if cell.cell_type == "code":
        if _is_setup(cell, first_code_index, index):
            return "skip"
        return "subslide" if _has_tall_output(cell) else "fragment"
    return "skip"  # raw cells are not shown


def assign_slide_types(notebook: nbformat.NotebookNode, overwrite: bool = False) -> int:
    """Give every cell without a slide type (every cell if ``overwrite``) its default type.

    Returns the number of cells whose type changed.
    """
    code_indices = [i for i, cell in enumerate(notebook.cells) if cell.cell_type == "code"]
    first_code_index = code_indices[0] if code_indices else None
    changed = 0
    for index, cell in enumerate(notebook.cells):
        current = cell.metadata.get("slideshow", {}).get("slide_type")
        if current is not None and not overwrite:
            continue
        slide_type = default_slide_type(cell, index, first_code_index)
        if slide_type != current:
            cell.metadata.setdefault("slideshow", {})["slide_type"] = slide_type
            changed += 1
    return changed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--overwrite", action="store_true", help="re-type cells that already have a type")
    args = parser.parse_args(argv)
    for path in args.notebooks:
        notebook = nbformat.read(path, as_version=4)
        changed = assign_slide_types(notebook, overwrite=args.overwrite)
        if changed:
            nbformat.write(notebook, path)  # the same bytes Jupyter writes: only the metadata differs
        print(f"{path}: {changed} cells typed")


if __name__ == "__main__":
    main()
