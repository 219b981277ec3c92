"""The U-Net drawn as the chapter's hourglass: encoder down the left, bottleneck at the bottom, decoder up the right.

Used by every lesson to show "where this piece sits" (``highlight=...``), and by the explorer in
``viz/architecture_widgets.py``. The figure is built from :func:`unet_lessons.analysis.trace_shapes`, so it
shows the blocks the model really runs, in forward order, with their real shapes.
"""

import math
from collections.abc import Iterable
from dataclasses import dataclass

import plotly.graph_objects as go

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
from unet_lessons.viz.style import (FADED_TEXT_COLOR, FLOW_COLOR, FONT_SIZE, KIND_COLORS, PROJECTOR_HEIGHT,
                                     SKIP_COLOR, readable_text_color)

# The mark inside each box, so a block's kind reads without colour.
BOX_LABELS = {
    "TimeEmbedding": "t",
    "ClassEmbedding": "y",
    "InitConv": "I",
    "ResBlock": "R",
    "Attention": "A",
    "Downsample": "↓",
    "Upsample": "↑",
    "OutNorm": "N",
    "OutConv": "O",
}

# Legend entries, in this order: a group of boxes that share a colour, its label, and its colour.
_LEGEND_GROUPS = {
    "io": ("in conv (I), out norm (N), out conv (O)", KIND_COLORS["InitConv"]),
    "ResBlock": ("ResBlock (R)", KIND_COLORS["ResBlock"]),
    "Attention": ("Attention (A)", KIND_COLORS["Attention"]),
    "Downsample": ("Downsample (↓)", KIND_COLORS["Downsample"]),
    "Upsample": ("Upsample (↑)", KIND_COLORS["Upsample"]),
    "Bottleneck": ("bottleneck (R A R)", KIND_COLORS["Bottleneck"]),
    "TimeEmbedding": ("time embedding (t)", KIND_COLORS["TimeEmbedding"]),
    "ClassEmbedding": ("class embedding (y)", KIND_COLORS["ClassEmbedding"]),
}

STAGES = ("time", "input", "encoder", "bottleneck", "decoder", "output")

# Geometry in data units: one row of boxes per resolution, rows ROW_PITCH apart; skip arcs rise between rows.
ROW_PITCH = 1.0
MAX_BOX_HEIGHT, MIN_BOX_HEIGHT = 0.6, 0.25
MAX_BOX_WIDTH, MIN_BOX_WIDTH = 1.0, 0.4  # a zero-channel box would be MIN_BOX_WIDTH wide
GAP = 0.1  # between consecutive boxes
TIME_BOX_DROP = 0.75  # the time embedding sits this far below the bottom row: it has no resolution
VECTOR_BOX_PITCH = 0.45  # a class embedding sits this far below the time embedding
TOP_HEADROOM = 0.8  # room above the top row for its skip arcs
FADED_OPACITY = 0.18  # boxes and arrows outside the highlight


@dataclass(frozen=True)
class _Box:
    """Where one traced block is drawn: its rectangle and its legend group."""

    row: TraceRow
    x0: float
    x1: float
    y0: float
    y1: float
    group: str

    @property
    def x_center(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def y_center(self) -> float:
        return (self.y0 + self.y1) / 2


def hourglass_figure(config_or_trace: UNetConfig | UNet | Iterable[TraceRow],
                     highlight: str | Iterable[str] | None = None, title: str | None = None) -> go.Figure:
    """The U-Net as an hourglass of boxes, one per traced block, with skip arrows and time-embedding marks.

    Reading the figure:

    * x follows the forward pass, left to right; each row is one spatial resolution (labelled on the
      y-axis), so the encoder steps down on the left, the bottleneck sits in the bottom row and the
      decoder climbs back up on the right. A block sits in the row of its *output* resolution, so a
      Downsample opens the row below and an Upsample the row above.
    * Box height grows with the block's resolution, linearly in ``log2(resolution)`` (each halving
      shrinks the box by the same step). Box width grows with the block's output channels, strictly, as
      ``0.4 + 0.6 * sqrt(channels / max_channels)`` (the widest box is 1): the square root keeps 128- and
      512-channel boxes both readable, the 0.4 floor leaves room for the mark in a 3-channel box.
    * Colour and the mark inside say the kind: R ResBlock, A Attention, ↓ Downsample, ↑ Upsample,
      I / N / O for the input conv, output norm and output conv; the bottleneck's blocks have their
      own colour. The time-embedding box ``t`` (a vector, no resolution) sits below the bottom row on
      the left; a ◆ under a ResBlock marks that ``time_emb`` is added inside it.
    * Each skip connection is an arrow from the block whose output is saved to the decoder ResBlock
      that concatenates it, arching over the row; the encoder's stack is last-in first-out, so the
      arrows nest and never cross.
    * Hover a box for its name, kind, input and output shapes and parameter count.

    Args:
        config_or_trace: a :class:`UNetConfig`, a :class:`UNet` (drawn from its config), or the list of
            :class:`TraceRow` returned by ``trace_shapes``.
        highlight: a block kind (``"Attention"``, ``"ResBlock"``, ``"Downsample"``, ``"Upsample"``,
            ``"TimeEmbedding"``, ``"InitConv"``, ``"OutNorm"``, ``"OutConv"``), a stage (``"encoder"``,
            ``"bottleneck"``, ``"decoder"``, ``"time"``, ``"input"``, ``"output"``), ``"skip"`` for the
            skip arrows, or a collection of these (case-insensitive). Everything else is faded.
        title: the figure title (default: block and parameter counts).
    """
    rows = as_trace(config_or_trace)
    if highlight is not None and not isinstance(highlight, str):
        highlight = tuple(highlight)  # read three times below (boxes, title, description): a generator only once
    emphasised, skips_emphasised = _emphasis(rows, highlight)
    boxes = _layout(rows)
    by_index = {box.row.index: box for box in boxes}

    traces = _box_traces(boxes, emphasised, highlight is not None)
    traces.append(_flow_trace(boxes))
    traces.append(_skip_trace(rows, by_index, skips_emphasised))
    traces.append(_time_marker_trace(boxes, emphasised, highlight is None))
    traces.append(_label_trace(boxes, emphasised))
    traces += _legend_traces(boxes)
    # Plain dicts, validated once here, and boxes grouped into a few filled traces rather than one shape
    # each: the explorer redraws this figure on every change.
    figure = go.Figure(data=traces, layout=_layout_settings(rows, boxes, title, highlight))
    return describe(figure, *_alternative(rows, highlight, emphasised, skips_emphasised))


def _alternative(rows: tuple[TraceRow, ...], highlight, emphasised: set[int],
                 skips_emphasised: bool) -> tuple[str, DataTable]:
    """The hourglass in words (blocks per stage, resolutions, channels, skips, the highlight) and one row per box."""
    spatial = [row for row in rows if is_spatial(row)]
    resolutions = [row.out_shape[-1] for row in spatial]
    top, bottom = format_resolution(max(resolutions)), format_resolution(min(resolutions))
    per_stage = {stage: sum(row.stage == stage for row in rows) for stage in ("encoder", "bottleneck", "decoder")}
    skips = sum(row.skip_from is not None for row in rows)
    resblocks = sum(row.kind == "ResBlock" for row in rows)
    has_classes = any(row.kind == "ClassEmbedding" for row in rows)
    class_note = ", after the class embedding is added to it" if has_classes else ""
    alt = (f"Hourglass diagram of a U-Net, one box per block: {len(rows)} blocks, "
           f"{format_count(sum(row.params for row in rows))} parameters. The encoder ({per_stage['encoder']} blocks) "
           f"steps down from {top} to {bottom}, the bottleneck ({per_stage['bottleneck']}) runs at {bottom}, the "
           f"decoder ({per_stage['decoder']}) climbs back to {top}; channels reach "
           f"{max(row.out_shape[1] for row in spatial)}. {skips} skip arrows join saved outputs to decoder ResBlocks; "
           f"time_emb is added in all {resblocks} ResBlocks{class_note}.")
    columns = ["#", "name", "kind", "stage", "output shape", "parameters", "skip"]
    cells = [[row.index, row.name, row.kind, row.stage, format_shape(row.out_shape), format_count(row.params),
              format_skip(row)] for row in rows]
    if highlight is not None:
        parts = [f"{len(emphasised)} blocks"] if emphasised else []
        parts += ["the skip arrows"] if skips_emphasised else []
        alt += f" Highlighted: {_highlight_label(highlight)} ({' and '.join(parts) or 'nothing'}); the rest is faded."
        columns.append("highlighted")
        cells = [values + ["yes" if row.index in emphasised else ""] for values, row in zip(cells, rows)]
    return alt, table(columns, cells)


def _highlight_label(highlight: str | Iterable[str]) -> str:
    """The highlight as the title and the description name it: ["Downsample", "Upsample"] -> 'Downsample, Upsample'."""
    return highlight if isinstance(highlight, str) else ", ".join(map(str, highlight))


def _emphasis(rows: tuple[TraceRow, ...], highlight) -> tuple[set[int], bool]:
    """The indices of the emphasised rows, and whether the skip arrows are emphasised."""
    if highlight is None:
        return {row.index for row in rows}, True
    names = [highlight] if isinstance(highlight, str) else list(highlight)
    kinds = {kind.lower(): kind for kind in BOX_LABELS}
    chosen_kinds, chosen_stages, skips = set(), set(), False
    for name in names:
        key = str(name).lower()
        if key in kinds:
            chosen_kinds.add(kinds[key])
        elif key in STAGES:
            chosen_stages.add(key)
        elif key in ("skip", "skips"):
            skips = True
        else:
            raise ValueError(
                f"highlight={highlight!r}: unknown name {name!r}. Use a block kind {sorted(BOX_LABELS)}, "
                f"a stage {list(STAGES)}, 'skip', or a list of these."
            )
    return {row.index for row in rows if row.kind in chosen_kinds or row.stage in chosen_stages}, skips


def _box_height(resolution: int, largest: int, smallest: int) -> float:
    """Linear in log2(resolution): the largest resolution gets MAX_BOX_HEIGHT, the smallest MIN_BOX_HEIGHT."""
    if largest == smallest:
        return MAX_BOX_HEIGHT
    fraction = math.log2(resolution / smallest) / math.log2(largest / smallest)
    return MIN_BOX_HEIGHT + (MAX_BOX_HEIGHT - MIN_BOX_HEIGHT) * fraction


def _box_width(channels: int, max_channels: int) -> float:
    """MIN_BOX_WIDTH + (MAX_BOX_WIDTH - MIN_BOX_WIDTH) * sqrt(channels / max_channels), capped at MAX_BOX_WIDTH."""
    fraction = min(1.0, math.sqrt(channels / max_channels))
    return MIN_BOX_WIDTH + (MAX_BOX_WIDTH - MIN_BOX_WIDTH) * fraction


def _group(row: TraceRow) -> str:
    if row.stage == "bottleneck":
        return "Bottleneck"
    if row.kind in ("InitConv", "OutNorm", "OutConv"):
        return "io"
    return row.kind


def _row_centers(rows: tuple[TraceRow, ...]) -> dict[int, float]:
    """y of each resolution's row: the full resolution at 0, each halving ROW_PITCH lower."""
    resolutions = sorted({row.out_shape[-1] for row in rows if is_spatial(row)}, reverse=True)
    return {resolution: -ROW_PITCH * k for k, resolution in enumerate(resolutions)}


def _layout(rows: tuple[TraceRow, ...]) -> list[_Box]:
    """One box per row: spatial blocks left to right in forward order, the time embedding bottom left."""
    centers = _row_centers(rows)
    largest, smallest = max(centers), min(centers)
    spatial = [row for row in rows if is_spatial(row)]
    max_channels = max(row.out_shape[1] for row in spatial)
    boxes, x = [], 0.0
    for row in spatial:
        resolution = row.out_shape[-1]
        width = _box_width(row.out_shape[1], max_channels)
        half_height = _box_height(resolution, largest, smallest) / 2
        y = centers[resolution]
        boxes.append(_Box(row, x, x + width, y - half_height, y + half_height, _group(row)))
        x += width + GAP
    vectors = [row for row in rows if not is_spatial(row)]
    for k, row in enumerate(vectors):  # time (and class) embedding: vectors, drawn below the bottom row, left
        y = centers[smallest] - TIME_BOX_DROP - k * VECTOR_BOX_PITCH
        width = _box_width(row.out_shape[-1], max_channels)
        boxes.append(_Box(row, 0.0, width, y - MIN_BOX_HEIGHT / 2, y + MIN_BOX_HEIGHT / 2, _group(row)))
    return boxes


def _hover_text(row: TraceRow) -> str:
    lines = [
        f"<b>{row.name}</b> (#{row.index})",
        f"kind: {row.kind}, stage: {row.stage}",
        f"in: {format_shape(row.in_shape)}",
        f"out: {format_shape(row.out_shape)}",
        f"parameters: {format_count(row.params)}",
    ]
    if row.skip_from is not None:
        lines.append(f"concatenates the skip saved by #{row.skip_from}")
    if row.saves_skip:
        lines.append("its output is saved as a skip")
    if row.kind == "ResBlock":
        lines.append("time_emb is added inside (◆)")
    return "<br>".join(lines)


def _box_traces(boxes: list[_Box], emphasised: set[int], has_highlight: bool) -> list[dict]:
    """The boxes as filled rectangles: one trace per colour group and emphasis (faded or not).

    ``meta`` lists the block names of a trace's rectangles, in the order they are drawn (None-separated).
    """
    traces = []
    for group, (label, color) in _LEGEND_GROUPS.items():
        for is_emphasised in (True, False):
            members = [box for box in boxes if box.group == group and (box.row.index in emphasised) == is_emphasised]
            if not members:
                continue
            x, y = [], []
            for box in members:
                x += [box.x0, box.x1, box.x1, box.x0, box.x0, None]
                y += [box.y0, box.y0, box.y1, box.y1, box.y0, None]
            outline = dict(color="black", width=3) if is_emphasised and has_highlight else dict(color="white", width=1)
            traces.append(dict(
                type="scatter", x=x, y=y, mode="lines", fill="toself", fillcolor=color, line=outline,
                opacity=1.0 if is_emphasised else FADED_OPACITY, name=label, legendgroup=group, showlegend=False,
                hoverinfo="skip", meta=[box.row.name for box in members],
            ))
    return traces


def _legend_traces(boxes: list[_Box]) -> list[dict]:
    """Legend entries for the box colours present: full-colour squares, whatever the highlight fades."""
    present = {box.group for box in boxes}
    return [
        dict(type="scatter", x=[None], y=[None], mode="markers", name=label, legendgroup=group, hoverinfo="skip",
             marker=dict(symbol="square", size=18, color=color, line=dict(color="black", width=1)))
        for group, (label, color) in _LEGEND_GROUPS.items() if group in present
    ]


def _label_trace(boxes: list[_Box], emphasised: set[int]) -> dict:
    """The mark inside every box, and the hover text (an invisible marker at each box's centre)."""
    colors = [readable_text_color(_LEGEND_GROUPS[box.group][1]) if box.row.index in emphasised else FADED_TEXT_COLOR
              for box in boxes]
    return dict(
        type="scatter",
        x=[box.x_center for box in boxes], y=[box.y_center for box in boxes],
        mode="markers+text", name="blocks", showlegend=False,
        text=[BOX_LABELS[box.row.kind] for box in boxes], textposition="middle center",
        textfont=dict(size=FONT_SIZE - 2, color=colors),
        marker=dict(size=22, color="rgba(0, 0, 0, 0)", symbol="square"),
        hovertext=[_hover_text(box.row) for box in boxes], hoverinfo="text",
        customdata=[box.row.index for box in boxes],
    )


def _flow_trace(boxes: list[_Box]) -> dict:
    """A thin line from each spatial block to the next: the path of the image tensor."""
    x, y = [], []
    spatial = [box for box in boxes if is_spatial(box.row)]
    for left, right in zip(spatial, spatial[1:]):
        x += [left.x1, right.x0, None]
        y += [left.y_center, right.y_center, None]
    return dict(type="scatter", x=x, y=y, mode="lines", name="forward path", showlegend=False, hoverinfo="skip",
                line=dict(color=FLOW_COLOR, width=1.5))


def _skip_trace(rows: tuple[TraceRow, ...], by_index: dict[int, _Box], emphasised: bool) -> dict:
    """Every skip as an arrow: up from the saving block, across, down into the consuming decoder ResBlock.

    One trace (arrows separated by None) keeps the figure quick to build; ``meta`` lists the arrows as
    ``[saving row, consuming row]`` pairs, in drawing order. The arrows of one row nest (the skips are a
    last-in first-out stack): the widest arch is the highest.
    """
    pairs = [(row.skip_from, row.index) for row in rows if row.skip_from is not None]
    by_row: dict[float, list[tuple[int, int]]] = {}
    for source, target in pairs:
        by_row.setdefault(by_index[target].y_center, []).append((source, target))
    x, y, sizes, texts, drawn = [], [], [], [], []
    for y_center, row_pairs in by_row.items():
        row_pairs.sort(key=lambda pair: by_index[pair[1]].x0 - by_index[pair[0]].x0)  # narrowest first
        top = by_index[row_pairs[0][1]].y1
        room = TOP_HEADROOM if y_center == 0 else ROW_PITCH - (top - y_center) - 0.1
        for rank, (source, target) in enumerate(row_pairs):
            peak = top + room * (rank + 1) / (len(row_pairs) + 0.3)
            start, end = by_index[source], by_index[target]
            text = (f"skip: #{source} {start.row.name} {format_shape(start.row.out_shape)}<br>"
                    f"→ #{target} {end.row.name} (concatenated on channels)")
            x += [start.x_center, start.x_center, end.x_center, end.x_center, None]
            y += [start.y1, peak, peak, end.y1, None]
            sizes += [0, 0, 0, 13, 0]  # an arrowhead on the last point only
            texts += [text] * 4 + [None]
            drawn.append([source, target])
    return dict(
        type="scatter",
        x=x, y=y, mode="lines+markers", name="skip connection", legendgroup="skip",
        opacity=1.0 if emphasised else FADED_OPACITY, line=dict(color=SKIP_COLOR, width=2.5),
        marker=dict(symbol="arrow", angleref="previous", size=sizes, color=SKIP_COLOR, standoff=4),
        hovertext=texts, hoverinfo="text", meta=drawn,
    )


def _time_marker_trace(boxes: list[_Box], emphasised: set[int], no_highlight: bool) -> dict:
    """A diamond under every ResBlock: time_emb is projected and added inside it."""
    resblocks = [box for box in boxes if box.row.kind == "ResBlock"]
    time_rows = [box.row.index for box in boxes if box.row.kind == "TimeEmbedding"]
    time_on = no_highlight or any(index in emphasised for index in time_rows)
    opacities = [1.0 if time_on or box.row.index in emphasised else FADED_OPACITY for box in resblocks]
    return dict(
        type="scatter",
        x=[box.x_center for box in resblocks], y=[box.y0 for box in resblocks],
        mode="markers", name="time_emb added (◆)",
        marker=dict(symbol="diamond", size=10, color=KIND_COLORS["TimeEmbedding"], opacity=opacities,
                    line=dict(color="black", width=1)),
        hovertext=[f"time_emb added in {box.row.name}" for box in resblocks], hoverinfo="text",
    )


def _layout_settings(rows, boxes: list[_Box], title: str | None, highlight) -> dict:
    centers = _row_centers(rows)
    total = sum(row.params for row in rows)
    if title is None:
        title = f"U-Net hourglass: {len(rows)} blocks, {format_count(total)} parameters"
        if highlight is not None:
            title += f" (highlighted: {_highlight_label(highlight)})"
    annotations = []
    bottleneck = [box for box in boxes if box.row.stage == "bottleneck"]
    if bottleneck:
        annotations.append(dict(x=(bottleneck[0].x0 + bottleneck[-1].x1) / 2, y=bottleneck[0].y0 - 0.08,
                                text="bottleneck", showarrow=False, yanchor="top",
                                font=dict(size=FONT_SIZE - 2)))
    time_boxes = [box for box in boxes if box.row.kind == "TimeEmbedding"]
    for box in time_boxes:
        annotations.append(dict(x=box.x1 + GAP, y=box.y_center, xanchor="left", showarrow=False,
                                text=f"time_emb {format_shape(box.row.out_shape)}: added in every ResBlock (◆)",
                                font=dict(size=FONT_SIZE - 2)))
    for box in boxes:
        if box.row.kind == "ClassEmbedding":
            annotations.append(dict(x=box.x1 + GAP, y=box.y_center, xanchor="left", showarrow=False,
                                    text=f"class_emb {format_shape(box.row.out_shape)}: added to time_emb",
                                    font=dict(size=FONT_SIZE - 2)))
    right = max(box.x1 for box in boxes)
    bottom = min(box.y0 for box in boxes)
    return dict(
        title=dict(text=title),
        height=min(PROJECTOR_HEIGHT, 230 + 110 * len(centers)),
        margin=dict(l=90, r=20, t=60, b=20),
        annotations=annotations,
        showlegend=True,
        legend=dict(orientation="h", x=0, y=-0.02, xanchor="left", yanchor="top"),
        hovermode="closest",
        plot_bgcolor="white",
        xaxis=dict(visible=False, range=[-0.3, right + 0.3]),
        yaxis=dict(
            title=dict(text="resolution"), tickvals=list(centers.values()),
            ticktext=[format_resolution(resolution) for resolution in centers],
            range=[bottom - 0.15, MAX_BOX_HEIGHT / 2 + TOP_HEADROOM + 0.1],
            showgrid=False, zeroline=False, fixedrange=True,
        ),
    )
