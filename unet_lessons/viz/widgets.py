"""What every explorer shares: one output area redrawn from a builder, errors shown in the widget.

The explorers themselves live beside the lessons they serve: ``architecture_widgets`` (lessons 00, 04, 05:
the whole U-Net), ``block_widgets`` (01-03: ResBlock, time embedding, attention), ``training_widgets`` (06-07:
initialization, training, denoising), ``generation_widgets`` (08) and ``train_your_own_widgets`` (09: the live
training view). Each wires a few controls to the pure
builders of ``unet_lessons.viz`` and returns the container for the notebook to display. Figures are plain
``go.Figure`` and matplotlib figures (``go.FigureWidget`` would store megabytes of JavaScript per widget), shown
in a :func:`figure_area`.
"""

import html
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import plotly.graph_objects as go
import plotly.io as pio
import traitlets
from matplotlib.figure import Figure

from unet_lessons.viz.alt_text import PLOTLY_MIME, PNG_MIME, png_output
from unet_lessons.viz.frontends import framed_figure_html, plotly_needs_a_frame


FIGURE_AREA_CLASS = "course-figure-area"  # on the page: what a browser test watches redraw


class FigureHTML(widgets.HTML):
    """Where an explorer shows its figures where :func:`plotly_needs_a_frame`: the same notebook outputs an
    ``Output`` holds (``outputs``, kept in the kernel), drawn as HTML: a plotly figure as
    :func:`framed_figure_html`, a matplotlib figure as its PNG with the figure's text alternative, text as
    preformatted text."""

    outputs = traitlets.Tuple()  # not synced: the frontend gets ``value``

    @traitlets.observe("outputs")
    def _draw(self, change) -> None:
        self.value = "".join(output_html(output) for output in change.new)


def output_html(output: dict) -> str:
    """One notebook output, as :func:`redraw` makes them, as HTML."""
    if output["output_type"] == "stream":
        return f'<pre style="font-size: 16px; white-space: pre-wrap">{html.escape(output["text"])}</pre>'
    if PLOTLY_MIME in output["data"]:
        return framed_figure_html(output["data"][PLOTLY_MIME])
    alt = output.get("metadata", {}).get(PNG_MIME, {}).get("alt", "")
    png = output["data"][PNG_MIME]
    return f'<img src="data:image/png;base64,{png}" alt="{html.escape(alt)}" style="max-width: 100%">'


def figure_area(**layout) -> widgets.Output | FigureHTML:
    """The widget an explorer shows its figures in (fill it with :func:`redraw`): a :class:`FigureHTML` where
    :func:`plotly_needs_a_frame` (Colab, the classic Notebook 6), else an ``Output`` (JupyterLab 4, Notebook 7,
    VS Code, the course pack). Both keep what they show in ``outputs``. ``layout``: its ``Layout`` settings."""
    area = FigureHTML() if plotly_needs_a_frame() else widgets.Output()
    area.layout = widgets.Layout(**layout)
    area.add_class(FIGURE_AREA_CLASS)
    return area


def _display_data(item: Figure | go.Figure | str) -> dict:
    """One notebook output holding ``item``: plotly as its JSON mimetype, matplotlib as a PNG, text as text."""
    if isinstance(item, str):
        return {"output_type": "stream", "name": "stdout", "text": item + "\n"}
    if isinstance(item, go.Figure):
        # plotly's JSON, as its plotly_mimetype renderer writes it, whatever renderer is the default: JupyterLab
        # draws it with its bundled plotly.js, FigureHTML as a framed page. (IPython's own formatter would call
        # the figure's _ipython_display_ and show it beside the widget instead of inside the Output.)
        data = pio.renderers["plotly_mimetype"].to_mimebundle(item.to_dict())
    else:
        png, metadata = png_output(item)  # with the figure's text alternative
        plt.close(item)  # shown once, in the Output only
        return {"output_type": "display_data", "data": {"image/png": png, "text/plain": repr(item)},
                "metadata": {"image/png": metadata} if metadata else {}}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def redraw(output: widgets.Output | FigureHTML, build: Callable[[], object]) -> None:
    """Replace what ``output`` shows with what ``build()`` returns (a figure, a text, or a list of them),
    or with its error message.

    Setting ``output.outputs`` (instead of ``with output: display(...)``) works the same inside a kernel
    and in a plain Python process, so the explorers are tested without a notebook; the old view stays up
    while ``build()`` runs and is replaced in one step, without a blank flash.
    """
    try:
        shown = build()
        output.outputs = tuple(_display_data(item) for item in (shown if isinstance(shown, list) else [shown]))
    except ValueError as error:  # an invalid combination is shown in the widget, never raised
        output.outputs = ({"output_type": "stream", "name": "stdout", "text": f"⚠️ {error}\n"},)
