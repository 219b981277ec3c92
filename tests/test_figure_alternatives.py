"""Every figure stored in a lesson has a text alternative that says what it shows and names its numbers.

Checked on the committed notebooks: each plotly and PNG output of a cell, and each one stored inside a
widget's Output areas (the explorers' default view), as the course pack shows them. The builders write the
alternatives (``unet_lessons.viz.alt_text``); this test fails if a figure reaches a notebook without one, e.g.
a new builder that forgot to describe its figure, or a notebook not re-executed after the builders changed.
"""

import re
from pathlib import Path

import nbformat
import pytest

from unet_lessons.viz.alt_text import PLOTLY_MIME, PNG_MIME, output_alternative

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"


def stored_figures(notebook: nbformat.NotebookNode) -> list[tuple[str, dict]]:
    """(where, output) for every figure output of the notebook's cells and of its stored widget outputs."""
    figures = []
    for index, cell in enumerate(notebook.cells):
        for output in cell.get("outputs", []):
            if {PLOTLY_MIME, PNG_MIME} & set(output.get("data", {})):
                figures.append((f"cell {index}", output))
    state = notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    for model_id, model in state.items():
        for output in model.get("state", {}).get("outputs", []):
            if {PLOTLY_MIME, PNG_MIME} & set(output.get("data", {})):
                figures.append((f"widget {model_id[:8]}", output))
    return figures


@pytest.mark.parametrize("path", LESSONS, ids=[path.stem for path in LESSONS])
def test_every_stored_figure_has_a_text_alternative_with_its_numbers(path):
    notebook = nbformat.read(path, as_version=4)
    figures = stored_figures(notebook)
    assert figures, f"{path.name} stores no figure"
    for where, output in figures:
        alternative = output_alternative(output)
        assert alternative, f"{path.name}, {where}: a figure without a text alternative (re-run `make notebooks`?)"
        alt = alternative["alt"]
        assert len(alt) >= 40 and re.search(r"\d", alt), f"{path.name}, {where}: {alt!r} names no number"
        table = alternative.get("table")
        if table is not None:
            assert table["rows"] and all(len(row) == len(table["columns"]) for row in table["rows"]), where


def test_a_plotly_figure_of_numbers_carries_its_table():
    # Every plotly figure of the course plots numbers (bars, curves, heatmaps, the hourglass's blocks): its
    # alternative carries them as a table, which the course pack shows under the figure.
    missing = []
    for path in LESSONS:
        for where, output in stored_figures(nbformat.read(path, as_version=4)):
            if PLOTLY_MIME in output["data"] and "table" not in (output_alternative(output) or {}):
                missing.append(f"{path.name} {where}")
    assert not missing, missing
