"""The precomputed explorers (classroom/precomputed.py): built in this process, they store for the notebook's own
setting what the notebook shows there, one output per setting, and a stale listing is refused."""

import json
from pathlib import Path

import nbformat
import pytest

from classroom.precomputed import EXPLORERS, WIDGET_STATE, Precomputed, precompute

ROOT = Path(__file__).resolve().parents[1]
TIME_EMBEDDING = next(explorer for explorer in EXPLORERS if explorer.lesson == "02_time_embedding")


def read(lesson: str) -> nbformat.NotebookNode:
    return nbformat.read(ROOT / "notebooks" / f"{lesson}.ipynb", as_version=4)


def test_the_stored_setting_shows_what_the_notebook_shows():
    notebook = read(TIME_EMBEDDING.lesson)
    state = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    table = precompute(TIME_EMBEDDING, notebook)
    stored_outputs = state[table["output"]]["state"]["outputs"]
    assert len(table["outputs"]) == 20 * 2  # t at 0, 50, ..., 950, and both freq_shift settings
    key = [state[control["model"]]["state"][control["attribute"]] for control in table["controls"]]
    computed = table["outputs"][json.dumps(key, separators=(",", ":"))]
    alt = [output["data"]["application/vnd.plotly.v1+json"]["layout"]["meta"]["alt"] for output in computed]
    assert alt == [output["data"]["application/vnd.plotly.v1+json"]["layout"]["meta"]["alt"]
                   for output in stored_outputs]


def test_the_slider_in_the_page_moves_by_its_stops():
    notebook = read(TIME_EMBEDDING.lesson)
    table = precompute(TIME_EMBEDDING, notebook)
    slider = notebook.metadata["widgets"][WIDGET_STATE]["state"][table["controls"][0]["model"]]["state"]
    assert (slider["min"], slider["max"], slider["step"]) == (0, 950, 50)


def test_an_explorer_the_lesson_no_longer_shows_is_refused():
    moved = Precomputed(TIME_EMBEDDING.lesson, "time_embedding_explorer(dim=64)", TIME_EMBEDDING.build,
                        TIME_EMBEDDING.settings)
    with pytest.raises(ValueError, match="no cell 'time_embedding_explorer\\(dim=64\\)'"):
        precompute(moved, read(TIME_EMBEDDING.lesson))


def test_uneven_slider_stops_are_refused():
    uneven = Precomputed(TIME_EMBEDDING.lesson, TIME_EMBEDDING.source, TIME_EMBEDDING.build,
                         {"t": (0, 50, 200), "freq_shift": (0,)})
    with pytest.raises(ValueError, match="evenly spaced"):
        precompute(uneven, read(TIME_EMBEDDING.lesson))
