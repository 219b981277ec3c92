"""Figures for ``notebooks/03_attention.ipynb``: where one pixel looks, and what attention costs."""

import matplotlib.pyplot as plt
import plotly.graph_objects as go
import torch
import torch.nn.functional as F
from matplotlib.figure import Figure
from plotly.subplots import make_subplots

from unet_lessons.data import to_displayable
from unet_lessons.viz.alt_text import DataTable, describe, table
from unet_lessons.viz._common import check_one_image, format_resolution, titled
from unet_lessons.viz.style import FONT_SIZE, KIND_COLORS, MATPLOTLIB_CMAP


def attention_map_figure(image: torch.Tensor, weights: torch.Tensor, query_x: int, query_y: int,
                         head: int = 0, title: str | None = None, vmax: float | None = None) -> Figure:
    """The image with one query pixel marked, and that pixel's attention over every key pixel.

    Args:
        image: [1, 3, H_img, W_img] photo in [-1, 1]; it is resized to the feature map's size.
        weights: [1, heads, H*W, H*W] from :meth:`AttentionBlock.attention_weights`, square H = W map.
        query_x: column of the query pixel, 0 .. W-1 (left to right).
        query_y: row of the query pixel, 0 .. H-1 (top to bottom).
        head: which head's attention to show.
        title: figure title; by default it states the largest weight and the uniform weight.
        vmax: top of the colour scale (e.g. to show two maps on one scale); by default the map's maximum.
    """
    side = check_attention_inputs(image, weights)
    heads, tokens = weights.shape[1], weights.shape[-1]
    if not 0 <= head < heads:
        raise ValueError(f"head={head}: this block has {heads} head(s), numbered 0..{heads - 1}.")
    for name, value in (("query_x", query_x), ("query_y", query_y)):
        if not 0 <= value < side:
            raise ValueError(f"{name}={value}: the feature map is {side}x{side}, so use 0..{side - 1}.")
    attention = weights[0, head, query_y * side + query_x].reshape(side, side).detach().numpy()  # row-major
    small = F.interpolate(image, size=(side, side), mode="bilinear", antialias=True, align_corners=False)

    fig, (ax_image, ax_map) = plt.subplots(1, 2, figsize=(11, 5.4), layout="constrained")
    ax_image.imshow(to_displayable(small), interpolation="nearest")  # one square per attended pixel
    ax_image.set_title(f"query pixel (x={query_x}, y={query_y})")
    shown = ax_map.imshow(attention, cmap=MATPLOTLIB_CMAP, vmin=0, vmax=vmax, interpolation="nearest")
    ax_map.set_title(f"its attention, head {head}")
    fig.colorbar(shown, ax=ax_map, label="attention weight", shrink=0.85)
    for ax in (ax_image, ax_map):
        # A white cross on a black outline reads on any colour.
        ax.plot(query_x, query_y, marker="P", markersize=16, color="white", markeredgecolor="black",
                markeredgewidth=1.5)
        ax.set_xticks([])
        ax.set_yticks([])
    largest, uniform = f"{attention.max():.4f}", f"{1 / tokens:.4f}"
    fig.suptitle(title or f"Largest weight {largest}; uniform attention would give {uniform} to every pixel")
    alt = (f"Two images: the photo resized to the {side}x{side} feature map with the query pixel "
           f"(x={query_x}, y={query_y}) marked, and that pixel's attention over all {tokens} key pixels (head {head} "
           f"of {heads}) as a heatmap, colour scale 0 to {shown.norm.vmax:.4f}. Largest weight {largest}, the query "
           f"pixel's own {attention[query_y, query_x]:.4f}; uniform attention would give {uniform} to every pixel."
           + titled(title))
    return describe(fig, alt)


def check_attention_inputs(image: torch.Tensor, weights: torch.Tensor) -> int:
    """A ``ValueError`` naming the argument unless ``image`` is one photo [1, 3, H_img, W_img] and ``weights`` one
    image's attention [1, heads, H*W, H*W] over a square map, rows summing to 1; returns the map's side H."""
    check_one_image(image, "image", channels=3)
    tokens = weights.shape[-1] if isinstance(weights, torch.Tensor) and weights.dim() == 4 else 0
    side = round(tokens ** 0.5)
    if tokens == 0 or side * side != tokens or weights.shape[0] != 1 or weights.shape[2] != tokens:
        got = list(weights.shape) if isinstance(weights, torch.Tensor) else type(weights).__name__
        raise ValueError(f"weights must be one image's attention [1, heads, H*W, H*W] over a square H x W map, as "
                         f"block.attention_weights(features) returns for features [1, C, H, H]; got {got}.")
    if not weights.is_floating_point() or weights.min() < 0 or (weights.sum(-1) - 1).abs().max() > 1e-3:
        raise ValueError("weights: every row must be a softmax over the keys (non-negative, summing to 1); "
                         "for raw scores q @ k^T / sqrt(d) pass scores.softmax(dim=-1).")
    return side


def attention_cost_figure(rows: list[dict]) -> go.Figure:
    """Attention vs ResBlock at each resolution: parameters, FLOPs, and the attention matrix's memory.

    Args:
        rows: from :func:`unet_lessons.analysis.attention_costs_by_level`.
    """
    labels = [f"{format_resolution(row['resolution'])}<br>{row['channels']} ch"
              + ("<br>(attn)" if row["has_attention"] else "") for row in rows]
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.09, subplot_titles=(
        "Parameters (millions)", "Compute (GFLOPs, log)", "Attention matrix (MiB, log)"))
    texts = {}  # the bar labels, by column of the rows ("attention_params", ...): the description reuses them
    for column, (scale, suffix) in enumerate(((1e6, "params"), (1e9, "flops")), start=1):
        for kind, prefix, pattern in (("Attention", "attention", ""), ("ResBlock", "resblock", "/")):
            values = [row[f"{prefix}_{suffix}"] / scale for row in rows]
            texts[f"{prefix}_{suffix}"] = [f"{v:.2f}" for v in values]
            fig.add_trace(go.Bar(
                x=labels, y=values, name=f"one {kind}", marker_color=KIND_COLORS[kind],
                marker_pattern_shape=pattern, text=texts[f"{prefix}_{suffix}"], textposition="outside",
                showlegend=column == 1,
            ), row=1, col=column)
    mebibytes = [row["attention_matrix_bytes"] / 2**20 for row in rows]
    texts["attention_matrix_bytes"] = [f"{v:.3g}" for v in mebibytes]
    fig.add_trace(go.Bar(
        x=labels, y=mebibytes, name="attention matrix", marker_color=KIND_COLORS["Attention"],
        showlegend=False, text=texts["attention_matrix_bytes"], textposition="outside",
    ), row=1, col=3)
    fig.update_yaxes(range=[0, 1.15 * max(row["resblock_params"] for row in rows) / 1e6], row=1, col=1)
    fig.update_yaxes(type="log", dtick=1, row=1, col=2)
    fig.update_yaxes(type="log", dtick=1, row=1, col=3)
    fig.update_xaxes(tickangle=0)
    fig.update_traces(cliponaxis=False, textfont_size=14)
    fig.update_annotations(font_size=FONT_SIZE)
    fig.update_layout(
        title="Attention's parameters do not depend on resolution; its compute and memory grow with (H·W)²",
        barmode="group", legend=dict(orientation="h", y=-0.3, x=0), margin=dict(t=110, b=130),
        uniformtext=dict(minsize=14, mode="show"),
    )
    return describe(fig, *_cost_alternative(rows, texts))


def _cost_alternative(rows: list[dict], texts: dict[str, list[str]]) -> tuple[str, DataTable]:
    """The cost figure in words (its first and last resolutions compared) and one row per resolution; ``texts``
    holds the bar labels by column of the rows, as the figure prints them."""
    resolutions = [format_resolution(row["resolution"]) for row in rows]
    attended = [name for name, row in zip(resolutions, rows) if row["has_attention"]]

    def ends(key: str, unit: str = "") -> str:
        return f"{texts[key][0]}{unit} at {resolutions[0]}, {texts[key][-1]}{unit} at {resolutions[-1]}"

    alt = (f"Bar charts of one attention block beside one ResBlock at each of {len(rows)} resolutions, "
           f"{resolutions[0]} to {resolutions[-1]} (the model has attention at {', '.join(attended) or 'none'}). "
           f"Parameters follow the channels only: attention {ends('attention_params', 'M')}. Compute, in GFLOPs, "
           f"grows with (H·W)²: attention {ends('attention_flops')}; a ResBlock {ends('resblock_flops')}. The "
           f"attention matrix takes {ends('attention_matrix_bytes', ' MiB')}.")
    columns = ("attention_params", "resblock_params", "attention_flops", "resblock_flops", "attention_matrix_bytes")
    cells = [(name, row["channels"], "yes" if row["has_attention"] else "", *(texts[key][k] for key in columns))
             for k, (name, row) in enumerate(zip(resolutions, rows))]
    return alt, table(("resolution", "channels", "attention in the model", "attention parameters (M)",
                       "ResBlock parameters (M)", "attention GFLOPs", "ResBlock GFLOPs", "attention matrix MiB"),
                      cells)
