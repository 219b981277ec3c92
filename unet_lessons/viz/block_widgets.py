"""Explorers of the U-Net's blocks: the ResBlock (lesson 01), the time embedding (02) and attention (03).

Each wires a few controls to one builder of ``unet_lessons.viz`` and returns the container; an invalid
choice shows its message in the widget (:func:`unet_lessons.viz.widgets.redraw`).
"""

import ipywidgets as widgets
import torch
from torch import nn

from unet_lessons.resblock import ResBlock
from unet_lessons.time_embedding import TimeEmbedding, embedding_frequencies
from unet_lessons.viz._common import check_one_image
from unet_lessons.viz.attention_maps import attention_map_figure, check_attention_inputs
from unet_lessons.viz.resblocks import resblock_output_figure, resblock_report
from unet_lessons.viz.time_embedding import embedding_vector_figure, time_response_figure
from unet_lessons.viz.widgets import figure_area, redraw

# Lesson 01: ResBlocks

_CHANNEL_CHOICES = [16, 24, 32, 48, 64, 96, 128, 256]
_GROUP_CHOICES = [1, 2, 4, 8, 16, 32]


def resblock_explorer(image: torch.Tensor, in_channels: int = 64, out_channels: int = 128,
                      groups: int = 32) -> widgets.VBox:
    """Pick a ResBlock's channels and groups; see its shortcut, its parameters term by term and its
    output on ``image`` (text from :func:`unet_lessons.viz.resblocks.resblock_report`), and the output's first
    channels split into shortcut and branch (:func:`unet_lessons.viz.resblocks.resblock_output_figure`).

    Channels that ``groups`` does not divide show ResBlock's ``ValueError`` message in the widget.

    Args:
        image: the photo, [1, 3, H, W].
        in_channels, out_channels, groups: the starting values of the controls.
    """
    check_one_image(image, "image", channels=3)
    for name, value, choices in (("in_channels", in_channels, _CHANNEL_CHOICES),
                                 ("out_channels", out_channels, _CHANNEL_CHOICES), ("groups", groups, _GROUP_CHOICES)):
        if value not in choices:
            raise ValueError(f"{name}={value!r}: the explorer's menu offers {choices}.")
    style = {"description_width": "110px"}
    in_control = widgets.Dropdown(options=_CHANNEL_CHOICES, value=in_channels, description="in_channels",
                                  style=style)
    out_control = widgets.Dropdown(options=_CHANNEL_CHOICES, value=out_channels, description="out_channels",
                                   style=style)
    groups_control = widgets.Dropdown(options=_GROUP_CHOICES, value=groups, description="groups", style=style)
    output = figure_area()

    def update(_=None):
        choice = (in_control.value, out_control.value, groups_control.value, image)
        redraw(output, lambda: [resblock_report(*choice), resblock_output_figure(*choice)])

    for control in (in_control, out_control, groups_control):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([in_control, out_control, groups_control]), output])


# Lesson 02: time embedding

def time_embedding_explorer(dim: int = 128) -> widgets.VBox:
    """Slider for ``t`` and a switch for ``freq_shift`` -> the sinusoidal embedding vector of ``t``.

    Args:
        dim: embedding size (the UNet's ``base_channels``).
    """
    embedding_frequencies(dim)  # a ValueError naming dim unless it is a positive even int
    t = widgets.IntSlider(value=500, min=0, max=999, description="t", continuous_update=False,
                          layout=widgets.Layout(width="600px"))
    freq_shift = widgets.ToggleButtons(options=[("chapter (0)", 0), ("DDPM paper (1)", 1)], value=0,
                                       description="freq_shift")
    output = figure_area()

    def update(_=None):
        redraw(output, lambda: embedding_vector_figure(t.value, dim, freq_shift.value))

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
    if not isinstance(block, ResBlock):
        raise ValueError(f"block: expected a ResBlock, got {type(block).__name__}; call "
                         "time_response_explorer(block, time_embed, x).")
    time_emb_dim = block.time_proj.in_features
    if not isinstance(time_embed, TimeEmbedding) or time_embed.linear2.out_features != time_emb_dim:
        got = (f"one of size {time_embed.linear2.out_features}" if isinstance(time_embed, TimeEmbedding)
               else type(time_embed).__name__)
        raise ValueError(f"time_embed: expected a TimeEmbedding of the block's time_emb_dim={time_emb_dim}, e.g. "
                         f"TimeEmbedding({time_emb_dim // 4}) (it gives 4 * base_channels); got {got}.")
    check_one_image(x, "x", channels=block.norm1.num_channels)
    t = widgets.IntSlider(value=500, min=0, max=999, description="t", continuous_update=False)
    reference = widgets.IntSlider(value=0, min=0, max=999, description="compare with",
                                  continuous_update=False, style={"description_width": "initial"})
    output = figure_area()

    def update(_=None):
        redraw(output, lambda: time_response_figure(block, time_embed, x, t.value, reference.value))

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
    side = check_attention_inputs(image, weights)
    heads = weights.shape[1]
    query_x = widgets.IntSlider(value=side // 2, min=0, max=side - 1, description="query x",
                                continuous_update=False)
    query_y = widgets.IntSlider(value=side // 3, min=0, max=side - 1, description="query y",
                                continuous_update=False)
    head = widgets.IntSlider(value=0, min=0, max=heads - 1, description="head", continuous_update=False,
                             disabled=heads == 1)
    output = figure_area()

    def update(_=None):
        redraw(output, lambda: attention_map_figure(image, weights, query_x.value, query_y.value, head.value))

    for control in (query_x, query_y, head):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([query_x, query_y, head]), output])
