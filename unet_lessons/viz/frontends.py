"""Where a notebook is shown decides how a plotly figure can be drawn: from its JSON, or as a page of its own.

JupyterLab 4, Notebook 7, VS Code and the course pack draw plotly's JSON (``plotly_mimetype``), also inside an
``ipywidgets.Output``, from the bundled plotly.js, offline. Google Colab draws neither plotly's JSON nor a plotly
figure inside an ``Output`` (colabtools#5889), and in the classic Notebook 6.5.7 with ipywidgets 7.7.1's
widgetsnbextension 3.6.10, Colab's own versions, no ``Output`` can be created at all and the JSON is not drawn
(measured; README, "On Google Colab"). There each figure is a small HTML page in an ``iframe`` that loads
plotly.js from plotly's site: an ``iframe`` is a document of its own, so it draws the same way under Colab's
frontend and under the classic Notebook's require.js. Used by :func:`unet_lessons.viz.style.use_course_style`
(figures a cell shows) and :func:`unet_lessons.viz.widgets.figure_area` (figures an explorer shows).
"""

import html
import sys

import ipywidgets
import plotly.io as pio
from plotly.io.base_renderers import MimetypeRenderer

from unet_lessons.viz.alt_text import PLOTLY_MIME

FRAMED_RENDERER = "unet_lessons_framed"
DEFAULT_HEIGHT = 525  # plotly's own default figure height, px


def plotly_needs_a_frame() -> bool:
    """True on Google Colab and under any frontend of ipywidgets 7 (the classic Notebook 6)."""
    return ipywidgets.__version__.split(".")[0] == "7" or "google.colab" in sys.modules


def framed_figure_html(figure: dict) -> str:
    """A plotly figure (its JSON as a dict) as an ``iframe`` whose page draws it with plotly.js from plotly's
    site; the ``iframe``'s title is the figure's text alternative, else its title."""
    layout = figure.get("layout", {})
    height = layout.get("height", DEFAULT_HEIGHT)
    meta = layout.get("meta")
    title = (meta.get("alt") if isinstance(meta, dict) else None) or layout.get("title", {}).get("text") or "a figure"
    page = pio.to_html({"data": figure.get("data", []), "layout": layout}, include_plotlyjs="cdn", full_html=True,
                       default_height=f"{height}px", validate=False, div_id="figure")  # the same figure, the same page
    return (f'<iframe srcdoc="{html.escape(page)}" title="{html.escape(title)}" '
            f'style="width: 100%; height: {height + 16}px; border: 0"></iframe>')


class FramedRenderer(MimetypeRenderer):
    """plotly's renderer where :func:`plotly_needs_a_frame`: each figure a cell shows as plotly's JSON, for a
    frontend that draws it (JupyterLab prefers it), and as :func:`framed_figure_html`, for one that does not."""

    def to_mimebundle(self, fig_dict: dict) -> dict:
        bundle = pio.renderers["plotly_mimetype"].to_mimebundle(fig_dict)
        return {**bundle, "text/html": framed_figure_html(bundle[PLOTLY_MIME])}


pio.renderers[FRAMED_RENDERER] = FramedRenderer()
