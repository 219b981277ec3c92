"""Figures where plotly's JSON is not drawn (Colab, the classic Notebook 6): framed pages, and explorers that
show them in an HTML widget instead of an Output."""

import html
import sys
import types

import ipywidgets
import matplotlib.pyplot as plt
import plotly.graph_objects as go
import pytest

from unet_lessons.viz.alt_text import describe
from unet_lessons.viz.frontends import framed_figure_html, plotly_needs_a_frame
from unet_lessons.viz.widgets import FigureHTML, figure_area, redraw


@pytest.fixture
def on_colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


def bars() -> go.Figure:
    return go.Figure(go.Bar(x=["a", "b"], y=[3, 1]), layout=dict(title="Two bars", height=400))


def test_a_framed_figure_is_a_page_that_draws_it_with_plotly_js():
    framed = framed_figure_html(bars().to_plotly_json())
    assert framed.startswith('<iframe srcdoc="') and 'title="Two bars"' in framed and "height: 416px" in framed
    page = html.unescape(framed.split('srcdoc="')[1].split('" title=')[0])
    assert "<html>" in page and 'src="https://cdn.plot.ly/plotly-' in page
    assert 'Plotly.newPlot(' in page and '"Two bars"' in page and '"y":[3,1]' in page.replace(" ", "")
    assert framed_figure_html(bars().to_plotly_json()) == framed  # the same figure, the same page


def test_only_colab_and_ipywidgets_7_need_frames(on_colab, monkeypatch):
    assert plotly_needs_a_frame()
    monkeypatch.delitem(sys.modules, "google.colab")
    assert plotly_needs_a_frame() == ipywidgets.__version__.startswith("7.")


def test_on_colab_an_explorer_shows_its_figures_as_html(on_colab):
    area = figure_area(max_height="360px")
    assert isinstance(area, FigureHTML) and area.layout.max_height == "360px"
    figure = plt.figure()
    describe(figure, "A white square.")
    redraw(area, lambda: ["params: 3 < 4", bars(), figure])
    kinds = [output.get("output_type") for output in area.outputs]  # what an Output would hold
    assert kinds == ["stream", "display_data", "display_data"]
    assert area.value.startswith('<pre style="font-size: 16px; white-space: pre-wrap">params: 3 &lt; 4\n</pre>')
    assert area.value.count("<iframe srcdoc=") == 1 and 'title="Two bars"' in area.value
    assert '<img src="data:image/png;base64,' in area.value and 'alt="A white square."' in area.value


def test_on_colab_an_explorers_error_is_said_in_the_widget(on_colab):
    area = figure_area()

    def invalid():
        raise ValueError("seed=-1 is out of range")

    redraw(area, invalid)
    assert "⚠️ seed=-1 is out of range" in area.value and "<iframe" not in area.value
