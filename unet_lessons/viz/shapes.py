"""Shapes along the forward pass: a printed table and a plot of resolution and channels, block by block.

Used in ``notebooks/04_assembly.ipynb`` (and the explorer in ``viz/architecture_widgets.py``) to check that every block
sees the shape the lesson says it should.
"""

from collections.abc import Iterable

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from unet_lessons.analysis import TraceRow
from unet_lessons.configs import UNetConfig
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import DataTable, describe, table
from unet_lessons.viz._common import (
    as_trace,
    format_count,
    format_resolution,
    format_shape,
    format_skip,
    is_spatial,
)
from unet_lessons.viz.style import COMPONENT_COLORS, FLOW_COLOR, FONT_SIZE, KIND_COLORS

# A marker symbol per kind, so the plot reads without colour too.
KIND_SYMBOLS = {
    "InitConv": "square",
    "ResBlock": "circle",
    "Attention": "star",
    "Downsample": "triangle-down",
    "Upsample": "triangle-up",
    "OutNorm": "diamond",
    "OutConv": "pentagon",
}

TABLE_COLUMNS = ("#", "name", "kind", "in shape", "out shape", "parameters", "skip")


def shape_table(trace: UNetConfig | UNet | Iterable[TraceRow]) -> str:
    """A plain-text table, one line per block in forward order, then the total parameter count.

    Columns: index, name, kind, input shape, output shape, parameters (with thousands separators) and
    the skip column: ``saved`` where the encoder keeps the block's output, ``+ #i`` on a decoder ResBlock
    that concatenates the output of row ``i`` before running. Deterministic, so nbval can compare it.

    Args:
        trace: the list of :class:`TraceRow` from ``trace_shapes`` (a config or a model is traced first).
    """
    rows = as_trace(trace)
    cells = [[str(row.index), row.name, row.kind, format_shape(row.in_shape), format_shape(row.out_shape),
              format_count(row.params), format_skip(row)] for row in rows]
    widths = [max(len(line[i]) for line in cells + [list(TABLE_COLUMNS)]) for i in range(len(TABLE_COLUMNS))]
    right_aligned = {0, 5}  # index and parameters

    def line(values: list[str]) -> str:
        padded = [value.rjust(width) if i in right_aligned else value.ljust(width)
                  for i, (value, width) in enumerate(zip(values, widths))]
        return "  ".join(padded).rstrip()

    total = format_count(sum(row.params for row in rows))
    lines = [line(list(TABLE_COLUMNS)), line(["-" * width for width in widths])]
    lines += [line(values) for values in cells]
    lines.append(f"total parameters: {total}")
    return "\n".join(lines)


def _hover(row: TraceRow) -> str:
    text = (f"<b>#{row.index} {row.name}</b><br>{row.kind}<br>"
            f"{format_shape(row.in_shape)} → {format_shape(row.out_shape)}<br>"
            f"parameters: {format_count(row.params)}")
    if row.skip_from is not None:
        text += f"<br>input = previous output + skip from #{row.skip_from}"
    return text


def shape_plot(trace: UNetConfig | UNet | Iterable[TraceRow]) -> go.Figure:
    """Resolution (top) and channels (bottom) of every block's output, along the forward pass.

    Both y-axes are logarithmic (each Downsample is one equal step down, each channel doubling one step up). Markers
    are coloured and shaped by kind; open circles show the input channels of decoder ResBlocks (their
    output plus the concatenated skip). Shaded bands mark the encoder, bottleneck and decoder. The time
    embedding is a vector, not an image, so it is left out.

    Args:
        trace: the list of :class:`TraceRow` from ``trace_shapes`` (a config or a model is traced first).
    """
    rows = [row for row in as_trace(trace) if is_spatial(row)]
    figure = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.45, 0.55])
    path = dict(mode="lines", name="forward path", line=dict(color=FLOW_COLOR, width=1.5), hoverinfo="skip",
                showlegend=False)
    figure.add_trace(go.Scatter(x=[row.index for row in rows], y=[row.out_shape[-1] for row in rows], **path),
                     row=1, col=1)
    figure.add_trace(go.Scatter(x=[row.index for row in rows], y=[row.out_shape[1] for row in rows], **path),
                     row=2, col=1)
    for kind in KIND_SYMBOLS:
        of_kind = [row for row in rows if row.kind == kind]
        if not of_kind:
            continue
        marker = dict(symbol=KIND_SYMBOLS[kind], size=13, color=KIND_COLORS[kind], line=dict(color="black", width=1))
        common = dict(x=[row.index for row in of_kind], mode="markers", name=kind, legendgroup=kind,
                      marker=marker, hovertext=[_hover(row) for row in of_kind], hoverinfo="text")
        figure.add_trace(go.Scatter(y=[row.out_shape[-1] for row in of_kind], **common), row=1, col=1)
        figure.add_trace(go.Scatter(y=[row.out_shape[1] for row in of_kind], showlegend=False, **common),
                         row=2, col=1)
    concatenating = [row for row in rows if row.skip_from is not None]
    figure.add_trace(go.Scatter(
        x=[row.index for row in concatenating], y=[row.in_shape[1] for row in concatenating], mode="markers",
        name="decoder ResBlock input (h + skip)",
        marker=dict(symbol="circle-open", size=13, color=KIND_COLORS["ResBlock"], line=dict(width=2.5)),
        hovertext=[_hover(row) for row in concatenating], hoverinfo="text",
    ), row=2, col=1)
    _add_stage_bands(figure, rows)
    resolutions = sorted({row.out_shape[-1] for row in rows})
    all_channels = [row.out_shape[1] for row in rows] + [row.in_shape[1] for row in rows]
    fewest = min(all_channels)  # e.g. 3 for the output conv: labelled, then powers of two from 2 * fewest up
    channel_ticks = [fewest] + [2**k for k in range(16) if 2 * fewest <= 2**k <= 2 * max(all_channels)]
    figure.update_yaxes(type="log", row=1, col=1, title_text="resolution", tickvals=resolutions,
                        ticktext=[format_resolution(r) for r in resolutions])
    figure.update_yaxes(type="log", row=2, col=1, title_text="channels", tickvals=channel_ticks,
                        ticktext=[str(c) for c in channel_ticks])
    figure.update_xaxes(zeroline=False)
    figure.update_xaxes(title_text="block # in forward order (as in shape_table)", row=2, col=1)
    figure.update_layout(
        title=dict(text="Resolution and channels along the forward pass"),
        # The legend under the axis title: above the plot, two rows of it ran into the title on a slide.
        height=650, hovermode="closest", margin=dict(l=90, r=20, t=60, b=140),
        legend=dict(orientation="h", x=0, y=-0.16, xanchor="left", yanchor="top"),
    )
    return describe(figure, *_alternative(rows, concatenating))


def _alternative(rows: list[TraceRow], concatenating: list[TraceRow]) -> tuple[str, DataTable]:
    """The plot in words (the range of resolutions and channels, the decoder inputs) and one row per block."""
    resolutions = [row.out_shape[-1] for row in rows]
    channels = [row.out_shape[1] for row in rows]
    alt = (f"Two plots along the forward pass, one marker per block with an image output ({len(rows)} blocks, "
           f"by kind): resolution (top, log scale) from {format_resolution(max(resolutions))} down to "
           f"{format_resolution(min(resolutions))} and back, output channels (bottom, log scale) from "
           f"{min(channels)} to {max(channels)}.")
    if concatenating:
        alt += (f" Open circles mark the inputs of the {len(concatenating)} decoder ResBlocks that concatenate a "
                f"skip, up to {max(row.in_shape[1] for row in concatenating)} channels.")
    cells = [(row.index, row.name, row.kind, row.stage, format_resolution(row.out_shape[-1]), row.out_shape[1],
              row.in_shape[1] if row.skip_from is not None else "", format_skip(row)) for row in rows]
    return alt, table(("#", "name", "kind", "stage", "resolution", "channels", "input channels (h + skip)", "skip"),
                      cells)


def _add_stage_bands(figure: go.Figure, rows: list[TraceRow]) -> None:
    """Light bands behind the encoder, bottleneck and decoder blocks, labelled at the top of the top plot."""
    for stage in ("encoder", "bottleneck", "decoder"):
        indices = [row.index for row in rows if row.stage == stage]
        if not indices:
            continue
        for subplot in (1, 2):
            figure.add_vrect(x0=min(indices) - 0.5, x1=max(indices) + 0.5, row=subplot, col=1,
                             fillcolor=COMPONENT_COLORS[stage], opacity=0.1, line_width=0, layer="below")
        figure.add_annotation(x=(min(indices) + max(indices)) / 2, y=1, yref="y domain", yanchor="top",
                              text=stage, showarrow=False, font=dict(size=FONT_SIZE - 2), row=1, col=1)
