"""Explorers precomputed at build time (classroom/precomputed.py) respond in the course pack with no kernel: moving
a slider shows the figure the explorer computed for that setting, and the note above says so."""

import json
from pathlib import Path

import nbformat
import pytest
from test_notebooks_in_lab import wait_until

from classroom.precomputed import EXPLORERS, PRECOMPUTED_MIME, WIDGET_STATE

ROOT = Path(__file__).resolve().parents[2]


def description(output: dict) -> str:
    """The text alternative stored with an output: a plotly figure's ``layout.meta.alt``, a PNG's ``alt``."""
    plotly = output.get("data", {}).get("application/vnd.plotly.v1+json")
    return plotly["layout"]["meta"]["alt"] if plotly else output["metadata"]["image/png"]["alt"]


def shown_description(explorer) -> str:
    figure = explorer.locator("figcaption.course-alt, img[alt]").first
    return figure.text_content() if figure.evaluate("node => node.tagName") == "FIGCAPTION" \
        else figure.get_attribute("alt")


@pytest.mark.parametrize("explorer", EXPLORERS, ids=lambda explorer: explorer.lesson)
def test_moving_a_slider_shows_the_figure_computed_for_its_stop(offline, classroom_url, artifacts, explorer):
    notebook = nbformat.read(ROOT / "notebooks" / f"{explorer.lesson}.ipynb", as_version=4)
    stored = notebook.metadata["widgets"][WIDGET_STATE]["state"]
    offline.goto(f"{classroom_url}/site/{explorer.lesson}.html")
    table = json.loads(offline.locator(f'script[type="{PRECOMPUTED_MIME}"]').first.text_content())
    # The first control is a slider: one stop to the right of its stored value, the others as stored.
    key = [stored[control["model"]]["state"][control["attribute"]] for control in table["controls"]]
    key[0] += table["controls"][0]["step"]
    expected = description(table["outputs"][json.dumps(key, separators=(",", ":"))][0])
    box = offline.locator(".jupyter-widgets:has(> .course-kernel-note)").filter(has_text="computed for every setting")
    assert box.count() == 1
    wait_until(lambda: box.locator("figcaption.course-alt, img[alt]").count() > 0, 60, "the explorer's figure")
    before = shown_description(box)
    box.locator(".noUi-handle").first.focus()
    offline.keyboard.press("ArrowRight")
    wait_until(lambda: shown_description(box) == expected, 30, f"the figure for {key}: {expected[:80]}")
    assert before != expected
    box.screenshot(path=str(artifacts / f"precomputed_{explorer.lesson}.png"))
