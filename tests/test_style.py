import sys
import types

import ipywidgets
import matplotlib as mpl
import plotly.graph_objects as go
import plotly.io as pio
import pytest

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import UNetConfig
from unet_lessons.viz.hourglass import FADED_OPACITY, hourglass_figure
from unet_lessons.viz.frontends import FRAMED_RENDERER
from unet_lessons.viz.style import (ERROR_COLOR, FADED_TEXT_COLOR, FONT_SIZE, KIND_COLORS, PALETTE, contrast_ratio,
                                    over_white, readable_text_color, use_course_style)


def test_course_style_sets_renderer_fonts_and_palette():
    use_course_style()
    # ipywidgets 8: JupyterLab 4 and the course pack draw plotly's JSON; ipywidgets 7 (make test-colab): framed
    assert pio.renderers.default == ("plotly_mimetype" if ipywidgets.__version__.startswith("8.") else
                                     FRAMED_RENDERER)
    template = pio.templates[pio.templates.default]
    assert template.layout.font.size >= 14
    assert list(template.layout.colorway) == list(PALETTE)
    assert mpl.rcParams["font.size"] >= 14 and FONT_SIZE >= 14


def test_on_colab_a_figure_is_a_framed_page(monkeypatch):
    # Colab does not draw plotly's JSON mimetype: there a figure must come as a page that loads plotly.js.
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    try:
        use_course_style()
        bundle = go.Figure(go.Bar(y=[1, 2]), layout=dict(title="Two bars"))._repr_mimebundle_()
        assert set(bundle) == {"application/vnd.plotly.v1+json", "text/html"}  # JupyterLab draws the first
        assert bundle["text/html"].startswith("<iframe srcdoc=")
        assert "cdn.plot.ly/plotly-" in bundle["text/html"] and "Plotly.newPlot" in bundle["text/html"]
        assert 'title="Two bars"' in bundle["text/html"]
    finally:
        monkeypatch.delitem(sys.modules, "google.colab")
        use_course_style()
    assert pio.renderers.default == ("plotly_mimetype" if ipywidgets.__version__.startswith("8.") else
                                     FRAMED_RENDERER)


def test_every_traced_kind_has_a_colour():
    kinds = {row.kind for row in trace_shapes(UNetConfig())}
    assert kinds <= set(KIND_COLORS)


# Text needs 4.5:1 against its background (WCAG 2.1 AA, 1.4.3); our figures' text is never "large" (24 px).
AA_TEXT = 4.5


def test_contrast_ratio_follows_wcag():
    assert contrast_ratio("black", "white") == pytest.approx(21.0)
    assert contrast_ratio("white", "white") == pytest.approx(1.0)
    assert contrast_ratio("#767676", "white") == pytest.approx(4.54, abs=0.01)  # the lightest AA grey on white
    assert contrast_ratio("rgb(0, 0, 0)", "#ffffff") == contrast_ratio("#ffffff", "rgb(0, 0, 0)")


def test_text_on_every_block_colour_and_on_every_faded_block_is_readable():
    for kind, fill in KIND_COLORS.items():
        assert contrast_ratio(readable_text_color(fill), fill) >= AA_TEXT, kind
        faded = over_white(fill, FADED_OPACITY)
        assert contrast_ratio(FADED_TEXT_COLOR, faded) >= AA_TEXT, (kind, faded)


def test_the_hourglass_labels_contrast_with_the_box_behind_them():
    # From the figure itself: each label's colour against the fill (and opacity) of the box it sits in.
    figure = hourglass_figure(UNetConfig(), highlight=["Attention"])
    boxes = [trace for trace in figure.data if trace.fill == "toself"]
    labels = next(trace for trace in figure.data if trace.name == "blocks")
    fills = {}
    for box in boxes:
        for name in box.meta:
            fills[name] = over_white(box.fillcolor, box.opacity)
    rows = {row.index: row.name for row in trace_shapes(UNetConfig())}
    checked = 0
    for index, color in zip(labels.customdata, labels.textfont.color):
        assert contrast_ratio(color, fills[rows[index]]) >= AA_TEXT, (rows[index], color, fills[rows[index]])
        checked += 1
    assert checked == len(rows)


def test_the_course_text_colours_read_on_white():
    template = pio.templates["plotly_white"]  # our template keeps its font colour
    use_course_style()
    font = pio.templates[pio.templates.default].layout.font.color or template.layout.font.color
    assert contrast_ratio(font, "white") >= AA_TEXT
    assert contrast_ratio(ERROR_COLOR, "white") >= AA_TEXT
    assert contrast_ratio(mpl.rcParams["text.color"], mpl.rcParams["figure.facecolor"]) >= AA_TEXT
