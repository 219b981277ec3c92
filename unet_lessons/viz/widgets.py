"""Thin ipywidgets factories that wire controls to the figure builders; each returns the container for the notebook to display."""

import base64
import io
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import plotly.graph_objects as go
import torch
from matplotlib.figure import Figure
from torch import nn

from unet_lessons.time_embedding import TimeEmbedding
from unet_lessons.viz.attention_maps import attention_map_figure
from unet_lessons.viz.time_embedding import embedding_vector_figure, time_response_figure


def _display_data(figure: Figure | go.Figure) -> dict:
    """One notebook output holding ``figure``: plotly as its JSON mimetype, matplotlib as a PNG."""
    if isinstance(figure, go.Figure):
        data = figure._repr_mimebundle_()  # plotly JSON; JupyterLab draws it with its bundled plotly.js
    else:
        png = io.BytesIO()
        figure.savefig(png, format="png", bbox_inches="tight")
        plt.close(figure)  # shown once, in the Output only
        data = {"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": repr(figure)}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _redraw(output: widgets.Output, build: Callable[[], Figure | go.Figure]) -> None:
    """Replace what ``output`` shows with the figure ``build()`` returns, or with its error message.

    Setting ``output.outputs`` (instead of ``with output: display(...)``) works the same inside a kernel
    and in a plain Python process, so the explorers are tested without a notebook; the old figure is
    replaced in one step, without a blank flash.
    """
    try:
        output.outputs = (_display_data(build()),)
    except ValueError as error:  # an invalid combination is shown in the widget, never raised
        output.outputs = ({"output_type": "stream", "name": "stdout", "text": f"⚠️ {error}\n"},)


# Lesson 02: time embedding

def time_embedding_explorer(dim: int = 128) -> widgets.VBox:
    """Slider for ``t`` and a switch for ``freq_shift`` -> the sinusoidal embedding vector of ``t``.

    Args:
        dim: embedding size (the UNet's ``base_channels``).
    """
    t = widgets.IntSlider(value=500, min=0, max=999, description="t", continuous_update=False,
                          layout=widgets.Layout(width="600px"))
    freq_shift = widgets.ToggleButtons(options=[("chapter (0)", 0), ("DDPM paper (1)", 1)], value=0,
                                       description="freq_shift")
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: embedding_vector_figure(t.value, dim, freq_shift.value))

    for control in (t, freq_shift):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([t, freq_shift]), output])


def time_response_explorer(block: nn.Module, time_embed: TimeEmbedding, x: torch.Tensor) -> widgets.VBox:
    """Sliders for two timesteps -> the same input through the same ResBlock at both, and the difference.

    Args:
        block: a ResBlock (``block(x, time_emb)``).
        time_embed: maps timesteps to the block's ``time_emb``.
        x: [1, C, H, W] input feature map.
    """
    t = widgets.IntSlider(value=500, min=0, max=999, description="t", continuous_update=False)
    reference = widgets.IntSlider(value=0, min=0, max=999, description="compare with",
                                  continuous_update=False, style={"description_width": "initial"})
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: time_response_figure(block, time_embed, x, t.value, reference.value))

    for control in (t, reference):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([t, reference]), output])


# Lesson 03: attention

def attention_explorer(image: torch.Tensor, weights: torch.Tensor) -> widgets.VBox:
    """Sliders for the query pixel (x, y) and the head -> that pixel's attention map over the image.

    Args:
        image: [1, 3, H_img, W_img] photo in [-1, 1], shown under the query marker.
        weights: [1, heads, H*W, H*W] from :meth:`AttentionBlock.attention_weights` (square map).
    """
    heads, tokens = weights.shape[1], weights.shape[-1]
    side = round(tokens ** 0.5)
    query_x = widgets.IntSlider(value=side // 2, min=0, max=side - 1, description="query x",
                                continuous_update=False)
    query_y = widgets.IntSlider(value=side // 3, min=0, max=side - 1, description="query y",
                                continuous_update=False)
    head = widgets.IntSlider(value=0, min=0, max=heads - 1, description="head", continuous_update=False,
                             disabled=heads == 1)
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: attention_map_figure(image, weights, query_x.value, query_y.value, head.value))

    for control in (query_x, query_y, head):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([query_x, query_y, head]), output])
