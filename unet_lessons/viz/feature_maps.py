"""Feature maps as a grid of small images: what a block's channels "see"."""

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from unet_lessons.viz._common import counted, format_image_size, format_value, titled
from unet_lessons.viz.alt_text import describe, table
from unet_lessons.viz.style import MATPLOTLIB_CMAP


def feature_map_grid(features: torch.Tensor, num_channels: int = 16, columns: int = 8,
                     title: str | None = None) -> Figure:
    """The first ``num_channels`` channels of one feature map, one panel each, each with its own colour scale
    and a colour bar that says what the colours mean.

    Args:
        features: [1, C, H, W] or [C, H, W].
        num_channels: how many channels to show (at most C).
        columns: panels per row.
        title: figure title.
    """
    if features.dim() == 4:
        if features.shape[0] != 1:
            raise ValueError(f"features: expected one image ([1, C, H, W]), got batch {features.shape[0]}.")
        features = features[0]
    if features.dim() != 3:
        raise ValueError(f"features must be [C, H, W] or [1, C, H, W], got {list(features.shape)}.")
    count = min(num_channels, features.shape[0])
    rows = -(-count // columns)  # ceiling division
    fig, axes = plt.subplots(rows, columns, figsize=(2.3 * columns, 1.8 * rows + (0.6 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < count:
            image = ax.imshow(features[i].detach().float().cpu().numpy(), cmap=MATPLOTLIB_CMAP)
            ax.set_title(f"ch {i}", fontsize=14)
            colour_bar = fig.colorbar(image, ax=ax, fraction=0.046, pad=0.04)
            colour_bar.locator = MaxNLocator(nbins=3)  # three or four ticks: readable at 14 pt
            colour_bar.update_ticks()
            colour_bar.ax.tick_params(labelsize=14)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    shown = features[:count].detach().float()
    alt = (f"A grid of {count} heatmaps, {counted(rows, 'row')} of up to {columns}: the first {count} of the "
           f"{features.shape[0]} channels of one {format_image_size(features)} feature map, each on its own colour "
           f"scale with its colour bar; values from {format_value(shown.min().item())} to {format_value(shown.max().item())} overall."
           f"{titled(title)}")
    rows = [(i, *(format_value(value.item()) for value in (channel.min(), channel.mean(), channel.max())))
            for i, channel in enumerate(shown)]
    return describe(fig, alt, table(("channel", "min", "mean", "max"), rows))
