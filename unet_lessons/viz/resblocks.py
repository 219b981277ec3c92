"""What a ResBlock does to a real feature map, and what it costs in parameters (lesson 01).

``group_statistics_figure`` measures GroupNorm's effect; ``resblock_report`` builds one ResBlock, runs
the course photo through it and describes the result in text, and ``resblock_output_figure`` draws what the
same block does to the photo's features: its shortcut, its branch and their sum (the explorer shows both).
"""

import math

import plotly.graph_objects as go
import torch
from plotly.subplots import make_subplots
from torch import nn

from unet_lessons.analysis import count_parameters
from unet_lessons.resblock import ResBlock, group_statistics, resblock_parameter_terms
from unet_lessons.time_embedding import sinusoidal_embedding
from unet_lessons.viz._common import format_shape, format_value, rounded
from unet_lessons.viz.alt_text import DataTable, describe, table
from unet_lessons.viz.style import CONTINUOUS_SCALE, PALETTE

MAX_TABLE_ROWS = 60  # the figure's table lists every group up to this many, else every k-th one


def group_statistics_figure(before: torch.Tensor, after: torch.Tensor, groups: int,
                            title: str = "GroupNorm, measured: every group's mean and std") -> go.Figure:
    """Per-group mean (left) and standard deviation (right) of one feature map, before and after a GroupNorm.

    Args:
        before: the GroupNorm's input, [1, C, H, W].
        after: its output, [1, C, H, W].
        groups: the GroupNorm's number of groups.
        title: figure title.
    """
    fig = make_subplots(rows=1, cols=2, subplot_titles=("mean of each group", "std of each group"),
                        horizontal_spacing=0.12)
    plotted = {}  # (label, "mean" or "std") -> the values drawn
    for tensor, label, color, symbol in ((before, "before GroupNorm", PALETTE[0], "circle"),
                                         (after, "after GroupNorm", PALETTE[1], "diamond")):
        mean, std = group_statistics(tensor.detach(), groups)
        for col, statistic, values in ((1, "mean", mean[0]), (2, "std", std[0])):
            plotted[label, statistic] = rounded(values.tolist())
            fig.add_trace(go.Scatter(
                x=list(range(groups)), y=plotted[label, statistic], mode="markers", name=label, legendgroup=label,
                showlegend=col == 1, marker=dict(color=color, symbol=symbol, size=11,
                                                 line=dict(width=1, color="black")),
                hovertemplate="group %{x}: %{y:.3f}<extra>" + label + "</extra>",
            ), row=1, col=col)
    fig.update_xaxes(title="group")
    fig.update_yaxes(title="mean", row=1, col=1)
    fig.update_yaxes(title="std", row=1, col=2)
    fig.update_layout(title=dict(text=title, y=0.97, yanchor="top"), height=500, margin=dict(t=130),
                      legend=dict(orientation="h", y=1.1, yanchor="bottom", x=1, xanchor="right"))
    return describe(fig, *_group_statistics_alternative(tuple(before.shape), groups, plotted))


def _group_statistics_alternative(shape: tuple[int, ...], groups: int,
                                  plotted: dict[tuple[str, str], list[float]]) -> tuple[str, DataTable]:
    """The two scatter plots in words (the range of each statistic, before and after) and one row per group
    (every k-th group beyond MAX_TABLE_ROWS), at the hover's three decimals."""

    def spread(label: str) -> str:
        means, stds = plotted[label, "mean"], plotted[label, "std"]
        return (f"means {_three_decimals(min(means))} to {_three_decimals(max(means))}, "
                f"stds {_three_decimals(min(stds))} to {_three_decimals(max(stds))}")

    alt = (f"Scatter plots of the mean (left) and standard deviation (right) of each of the {groups} groups of a "
           f"{format_shape(shape)} feature map, before and after GroupNorm. Before: {spread('before GroupNorm')}. "
           f"After: {spread('after GroupNorm')}.")
    step = math.ceil(groups / MAX_TABLE_ROWS)
    if step > 1:
        alt += f" The table lists one group in {step}."
    keys = [(label, statistic) for statistic in ("mean", "std") for label in ("before GroupNorm", "after GroupNorm")]
    cells = [(group, *(_three_decimals(plotted[key][group]) for key in keys)) for group in range(0, groups, step)]
    return alt, table(("group", "mean before", "mean after", "std before", "std after"), cells)


def _three_decimals(value: float) -> str:
    """A measured statistic as the hover prints it, three decimals; a mean of -1e-8 is '0.000', not '-0.000'."""
    text = f"{value:.3f}"
    return "0.000" if text == "-0.000" else text


def run_resblock(in_channels: int, out_channels: int, groups: int, image: torch.Tensor, time_emb_dim: int = 256,
                 timestep: int = 100, seed: int = 0) -> tuple[ResBlock, torch.Tensor, torch.Tensor]:
    """The seeded ResBlock of :func:`resblock_report` and :func:`resblock_output_figure` run on ``image``:
    ``(block, x, output)`` with ``x`` the block's input, the photo through a seeded 3x3 conv ``3 -> in_channels``.
    """
    with torch.random.fork_rng(devices=[]):  # seeded, and the learner's own random state left as it was
        torch.manual_seed(seed)
        init_conv = nn.Conv2d(3, in_channels, kernel_size=3, padding=1)
        block = ResBlock(in_channels, out_channels, time_emb_dim, groups=groups).eval()
    with torch.no_grad():
        x = init_conv(image)  # [1, 3, H, W] -> [1, C_in, H, W]
        output = block(x, sinusoidal_embedding(torch.tensor([timestep]), time_emb_dim))
    return block, x, output


def resblock_output_figure(in_channels: int, out_channels: int, groups: int, image: torch.Tensor,
                           time_emb_dim: int = 256, timestep: int = 100, seed: int = 0,
                           num_channels: int = 3) -> go.Figure:
    """What the ResBlock of :func:`resblock_report` does to the photo: for its first ``num_channels`` output
    channels, the shortcut's contribution ``shortcut(x)``, the branch's (convs and time shift) and their sum,
    the block's output, as heatmaps on one shared colour scale, so the three rows compare by colour.

    Args:
        in_channels, out_channels, groups, image, time_emb_dim, timestep, seed: as in :func:`resblock_report`.
        num_channels: output channels shown, one column each (at most ``out_channels``).
    """
    block, x, output = run_resblock(in_channels, out_channels, groups, image, time_emb_dim, timestep, seed)
    with torch.no_grad():
        shortcut = block.shortcut(x)
    count = min(num_channels, out_channels)
    kind = "1x1 conv" if isinstance(block.shortcut, nn.Conv2d) else "identity"
    rows = ((f"shortcut(x) ({kind})", shortcut), ("branch: output - shortcut", output - shortcut),
            ("output = sum", output))
    fig = make_subplots(rows=len(rows), cols=count, horizontal_spacing=0.03, vertical_spacing=0.06,
                        column_titles=[f"output channel {c}" for c in range(count)])
    table_rows = []
    for row, (label, tensor) in enumerate(rows, start=1):
        for channel in range(count):
            values = tensor[0, channel]  # float32, stored by plotly as base64 (4 bytes a pixel)
            fig.add_trace(go.Heatmap(
                z=values.numpy(), coloraxis="coloraxis", name=f"{label}, channel {channel}",
                hovertemplate=f"{label}<br>channel {channel}, x %{{x}}, y %{{y}}: %{{z:.3f}}<extra></extra>",
            ), row=row, col=channel + 1)
            table_rows.append((label, channel, *(format_value(v.item()) for v in (values.min(), values.mean(),
                                                                                   values.max()))))
        fig.update_yaxes(title=label.split(" (")[0].split(":")[0], row=row, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False)
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed")
    for row in range(1, len(rows) + 1):  # square pixels
        for col in range(1, count + 1):
            fig.update_yaxes(scaleanchor=f"x{'' if (row - 1) * count + col == 1 else (row - 1) * count + col}",
                             row=row, col=col)
    shown = torch.stack([tensor[0, :count] for _, tensor in rows])
    low, high = shown.min().item(), shown.max().item()
    fig.update_layout(
        title=f"ResBlock({in_channels} → {out_channels}, groups={groups}) on the photo: output = shortcut(x) + branch",
        coloraxis=dict(colorscale=CONTINUOUS_SCALE, colorbar=dict(title="value")),
        height=190 * len(rows) + 130, width=200 * count + 230, margin=dict(t=110, l=90),  # fits a 1280x720 slide
    )
    alt = (f"Heatmaps, {len(rows)} rows by {count} columns: for the first {count} output channels of "
           f"ResBlock({in_channels}, {out_channels}, groups={groups}) on the {format_shape(tuple(image.shape))} photo, "
           f"the shortcut's contribution ({kind}), the branch (output minus shortcut) and the output, on one shared "
           f"colour scale from {format_value(low)} to {format_value(high)}.")
    return describe(fig, alt, table(("row", "channel", "min", "mean", "max"), table_rows))


def resblock_report(in_channels: int, out_channels: int, groups: int, image: torch.Tensor,
                    time_emb_dim: int = 256, timestep: int = 100, seed: int = 0) -> str:
    """Build ``ResBlock(in_channels, out_channels, time_emb_dim, groups=groups)``, run a photo through it,
    and describe it: the shortcut, the parameter count term by term (checked against
    ``count_parameters``), the output's shape and statistics.

    The photo first goes through a seeded 3x3 conv ``3 -> in_channels`` (like the UNet's ``init_conv``);
    the time embedding is the sinusoidal embedding of ``timestep`` (lesson 02).

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        groups: GroupNorm groups; must divide both channel counts (else ``ValueError`` from ResBlock).
        image: [1, 3, H, W].
        time_emb_dim: ``T``.
        timestep: the timestep whose embedding the block hears.
        seed: seeds the conv and the block's weights.
    """
    block, _, output = run_resblock(in_channels, out_channels, groups, image, time_emb_dim, timestep, seed)

    if isinstance(block.shortcut, nn.Conv2d):
        shortcut = f"1x1 conv ({in_channels} -> {out_channels} channels: the sum needs equal channels)"
    else:
        shortcut = "identity (channels unchanged: x is added as it is)"
    symbols = {"C_in": in_channels, "C_out": out_channels, "T": time_emb_dim}
    terms = resblock_parameter_terms(in_channels, out_channels, time_emb_dim)
    formula_total = sum(term.count for term in terms)
    counted = count_parameters(block)
    lines = [
        f"ResBlock(in_channels={in_channels}, out_channels={out_channels}, time_emb_dim={time_emb_dim}, "
        f"groups={groups})",
        f"shortcut: {shortcut}",
        "",
        "parameters, layer by layer:",
        *(f"  {term.layer:<10} {term.formula:<24} = {_substitute(term.formula, symbols):<22} = {term.count:>9,}"
          for term in terms),
        f"  {'total':<10} {'(sum of the terms)':<24}   {'':<22} = {formula_total:>9,}",
        f"  {'count_parameters(block)':<60} = {counted:>9,}   "
        + ("equal ✓" if counted == formula_total else "DIFFERENT ✗"),
        "",
        f"output on the photo: shape {list(output.shape)}, "
        f"mean {output.mean().item():.3f}, std {output.std().item():.3f}",
    ]
    return "\n".join(lines)


def _substitute(formula: str, symbols: dict[str, int]) -> str:
    """``"T·C_out + C_out"`` -> ``"256·128 + 128"``."""
    for symbol, value in symbols.items():
        formula = formula.replace(symbol, str(value))
    return formula
