"""What every explorer shares: one output area redrawn from a builder, errors shown in the widget.

The explorers themselves live beside the lessons they serve: ``architecture_widgets`` (lessons 00, 04, 05:
the whole U-Net), ``block_widgets`` (01-03: ResBlock, time embedding, attention), ``training_widgets`` (06-07:
initialization, training, denoising), ``generation_widgets`` (08) and ``train_your_own_widgets`` (09: the live
training view). Each wires a few controls to the pure
builders of ``unet_lessons.viz`` and returns the container for the notebook to display. Figures are plain
``go.Figure`` shown inside ``ipywidgets.Output`` (``go.FigureWidget`` would store megabytes of JavaScript per
widget).
"""

from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import plotly.graph_objects as go
from matplotlib.figure import Figure

from unet_lessons.viz.alt_text import png_output


def _display_data(item: Figure | go.Figure | str) -> dict:
    """One notebook output holding ``item``: plotly as its JSON mimetype, matplotlib as a PNG, text as text."""
    if isinstance(item, str):
        return {"output_type": "stream", "name": "stdout", "text": item + "\n"}
    if isinstance(item, go.Figure):
        # plotly JSON; JupyterLab draws it with its bundled plotly.js. (IPython's own formatter would call
        # the figure's _ipython_display_ and show it beside the widget instead of inside the Output.)
        data = item._repr_mimebundle_()
    else:
        png, metadata = png_output(item)  # with the figure's text alternative
        plt.close(item)  # shown once, in the Output only
        return {"output_type": "display_data", "data": {"image/png": png, "text/plain": repr(item)},
                "metadata": {"image/png": metadata} if metadata else {}}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def redraw(output: widgets.Output, build: Callable[[], object]) -> None:
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
