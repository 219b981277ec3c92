"""The presets side by side (parameters, FLOPs, memory), where compute and parameters live, and the chapter's numbers.

Used in ``notebooks/05_configs.ipynb``. Every number is measured on the meta device: parameter counts of a
meta model, FLOPs from ``FlopCounterMode`` (:func:`unet_lessons.analysis.count_forward_flops`), memory from
the traced shapes (:func:`unet_lessons.analysis.trace_memory`).
"""

import re
from collections.abc import Iterable, Mapping

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from unet_lessons.analysis import (
    count_forward_flops,
    count_forward_flops_by_component,
    count_forward_flops_by_level,
    count_parameters,
    count_parameters_by_component,
    count_parameters_by_level,
    trace_memory,
)
from unet_lessons.configs import PRESETS, UNetConfig, as_config
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import DataTable, describe, table
from unet_lessons.viz._common import (
    cached_trace,
    counted,
    format_count,
    format_percent,
    format_resolution,
    meta_model,
)
from unet_lessons.viz.style import FONT_SIZE, PALETTE, PROJECTOR_HEIGHT

MB = 1_000_000  # bytes in a megabyte, as the tables print it
GFLOP = 1_000_000_000

PARAMETERS_COLOR, FLOPS_COLOR, ACTIVATIONS_COLOR = PALETTE[0], PALETTE[1], PALETTE[3]
LABEL_COLOR = "black"


def label_count(label: str) -> int:
    """The number a size label states: ``"~8M"`` -> 8,000,000, ``"35.7M (paper)"`` -> 35,700,000.

    ``"~100M+"`` gives 100,000,000 (the label's lower bound).
    """
    match = re.search(r"(\d+(?:\.\d+)?)\s*M", label)
    if match is None:
        raise ValueError(f"label={label!r}: expected a size in millions such as '~35M' or '35.7M (paper)'.")
    return round(float(match.group(1)) * 1_000_000)


def preset_cost_rows(names: Iterable[str] | None = None) -> list[dict]:
    """One row per preset: what it is, what its label says, and what one forward pass of one image costs.

    Each row has ``name``, ``description``, ``label`` (the preset's ``chapter_label``), ``label_count``
    (:func:`label_count` of it), ``image_size``, ``params``, ``flops`` (batch 1), and, in bytes at
    float32 for batch 1, ``parameter_bytes``, ``activation_bytes`` and ``skip_bytes`` (see
    :func:`unet_lessons.analysis.trace_memory` for exactly what they count).

    Args:
        names: preset names (default: every preset, in ``PRESETS`` order).
    """
    rows = []
    for name in PRESETS if names is None else names:
        preset = PRESETS[name]
        trace = cached_trace(preset.config)  # shared with the hourglass and the explorer
        memory = trace_memory(trace)
        rows.append({
            "name": name,
            "description": preset.description,
            "label": preset.chapter_label,
            "label_count": label_count(preset.chapter_label),
            "image_size": preset.config.image_size,
            "params": sum(row.params for row in trace),
            "flops": count_forward_flops(preset.config),
            "parameter_bytes": memory["parameters"],
            "activation_bytes": memory["activations"],
            "skip_bytes": memory["skips"],
        })
    return rows


def _render(lines: list[tuple[str, ...]], left_aligned: int = 1) -> str:
    """Columns padded to their widest entry; the first ``left_aligned`` columns left-aligned, the rest right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    rendered = ["  ".join(cell.ljust(width) if i < left_aligned else cell.rjust(width)
                          for i, (cell, width) in enumerate(zip(line, widths))).rstrip()
                for line in lines]
    rendered.insert(1, "-" * max(len(line) for line in rendered))
    return "\n".join(rendered)


def preset_cost_table(rows: list[dict]) -> str:
    """The rows of :func:`preset_cost_rows` as a fixed-width table (GFLOPs and MB rounded)."""
    lines = [("preset", "label", "image", "parameters", "GFLOPs", "param MB", "activ. MB", "skips MB")]
    lines += [(
        row["name"], row["label"], format_resolution(row["image_size"]), format_count(row["params"]),
        f"{row['flops'] / GFLOP:.2f}", f"{row['parameter_bytes'] / MB:.1f}",
        f"{row['activation_bytes'] / MB:.1f}", f"{row['skip_bytes'] / MB:.1f}",
    ) for row in rows]
    return _render(lines, left_aligned=2)


def label_check_table(rows: list[dict]) -> str:
    """Each preset's label next to its measured count: the difference and the ratio measured / label."""
    lines = [("preset", "label", "label as a number", "measured", "measured - label", "measured / label")]
    lines += [(
        row["name"], row["label"], format_count(row["label_count"]), format_count(row["params"]),
        f"{row['params'] - row['label_count']:+,}", f"{row['params'] / row['label_count']:.3f}",
    ) for row in rows]
    return _render(lines, left_aligned=2)


def preset_cost_figure(rows: list[dict]) -> go.Figure:
    """Three bar charts per preset: parameters (measured, and the label's number dotted below), GFLOPs, memory.

    Memory is stacked: parameters, then the block outputs of one forward pass (batch 1, float32), with
    the total written after the bar. Every bar carries its value as text, so nothing is read from colour.
    """
    names = [row["name"] for row in rows]
    figure = make_subplots(rows=1, cols=3, horizontal_spacing=0.05, subplot_titles=(
        "parameters (millions)", "GFLOPs, one forward pass", "memory, MB (float32, batch 1)"))
    outside = dict(orientation="h", textposition="outside", textangle=0, cliponaxis=False)

    params = [row["params"] / 1e6 for row in rows]
    labels = [row["label_count"] / 1e6 for row in rows]
    texts = {"params": [f"{value:.1f}M" for value in params]}
    figure.add_trace(go.Bar(
        y=names, x=params, name="parameters (measured)", marker_color=PARAMETERS_COLOR, offsetgroup="measured",
        text=texts["params"], customdata=[format_count(row["params"]) for row in rows],
        hovertemplate="%{y}: %{customdata} parameters<extra></extra>", **outside,
    ), row=1, col=1)
    figure.add_trace(go.Bar(
        y=names, x=labels, name="the preset's label", offsetgroup="label",
        marker=dict(color="white", pattern_shape=".", pattern_fgcolor=LABEL_COLOR, line=dict(color=LABEL_COLOR, width=1.5)),
        text=[row["label"] for row in rows], hovertemplate="%{y}: label %{text}<extra></extra>", **outside,
    ), row=1, col=1)

    flops = [row["flops"] / GFLOP for row in rows]
    texts["flops"] = [f"{value:.1f}" for value in flops]
    figure.add_trace(go.Bar(
        y=names, x=flops, name="GFLOPs", marker=dict(color=FLOPS_COLOR, pattern_shape="x"),
        text=texts["flops"], hovertemplate="%{y}: %{x:.2f} GFLOPs<extra></extra>", **outside,
    ), row=1, col=2)

    for key, label, color, pattern, base in (
        ("parameter_bytes", "parameters", PARAMETERS_COLOR, "", None),
        ("activation_bytes", "block outputs (activations)", ACTIVATIONS_COLOR, "/",
         [row["parameter_bytes"] / MB for row in rows]),  # drawn after the parameters: a stack
    ):
        figure.add_trace(go.Bar(
            y=names, x=[row[key] / MB for row in rows], orientation="h", name=label, base=base,
            offsetgroup="memory", showlegend=key == "activation_bytes",  # the parameters entry is the first panel's
            marker=dict(color=color, pattern_shape=pattern, line=dict(color="white", width=1)),
            hovertemplate="%{y}: %{x:.1f} MB<extra>" + label + "</extra>",
        ), row=1, col=3)
    totals = [(row["parameter_bytes"] + row["activation_bytes"]) / MB for row in rows]
    texts["memory"] = [f"{total:.0f}" for total in totals]
    figure.add_trace(go.Scatter(
        y=names, x=totals, mode="text", text=[f" {text}" for text in texts["memory"]], textposition="middle right",
        showlegend=False, hoverinfo="skip", cliponaxis=False,
    ), row=1, col=3)

    for col, values in ((1, params + labels), (2, flops), (3, totals)):
        figure.update_xaxes(range=[0, 1.3 * max(values)], row=1, col=col)  # room for the outside labels
    figure.update_layout(
        barmode="group", bargroupgap=0.1, height=min(PROJECTOR_HEIGHT, 160 + 65 * len(rows)),
        margin=dict(l=150, r=40, t=90, b=90),
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.1, yanchor="top"),
        title=dict(text="The presets: size, compute and memory of one forward pass (measured)"),
    )
    # Separate y-axes (bars are grouped per axis: only the first panel has two bars per preset), same order.
    figure.update_yaxes(autorange="reversed", ticksuffix=" ")
    figure.update_yaxes(showticklabels=False, col=2)
    figure.update_yaxes(showticklabels=False, col=3)
    figure.update_annotations(font_size=FONT_SIZE)
    return describe(figure, *_preset_cost_alternative(rows, texts))


def _preset_cost_alternative(rows: list[dict], texts: dict[str, list[str]]) -> tuple[str, DataTable]:
    """The preset figure in words (the range of each panel, the preset farthest from its label) and one row per
    preset; ``texts`` holds each panel's bar labels (``params``, ``flops``, ``memory``), as the figure prints them."""
    sizes = {"params": [row["params"] for row in rows], "flops": [row["flops"] for row in rows],
             "memory": [row["parameter_bytes"] + row["activation_bytes"] for row in rows]}

    def extremes(key: str, unit: str) -> str:
        order = sorted(range(len(rows)), key=sizes[key].__getitem__)
        low, high = order[0], order[-1]
        return f"from {texts[key][low]}{unit} ({rows[low]['name']}) to {texts[key][high]}{unit} ({rows[high]['name']})"

    farthest = max(range(len(rows)), key=lambda k: abs(rows[k]["params"] / rows[k]["label_count"] - 1))
    alt = (f"Three bar charts of {counted(len(rows), 'preset')}, one forward pass of one image: parameters (measured, beside "
           f"the label's number), GFLOPs, and memory (parameters + activations, float32). "
           f"Parameters go {extremes('params', '')}, GFLOPs {extremes('flops', '')}, memory "
           f"{extremes('memory', ' MB')}. Farthest from its label: {rows[farthest]['name']}, "
           f"{texts['params'][farthest]} measured against {rows[farthest]['label']}.")
    cells = [(row["name"], format_count(row["params"]), row["label"], f"{row['flops'] / GFLOP:.2f}",
              f"{row['parameter_bytes'] / MB:.1f}", f"{row['activation_bytes'] / MB:.1f}", memory)
             for row, memory in zip(rows, texts["memory"])]
    return alt, table(("preset", "parameters", "label", "GFLOPs", "parameters MB", "activations MB", "total MB"),
                      cells)


def cost_by_part_rows(config_or_model: UNetConfig | UNet) -> list[dict]:
    """Parameters and FLOPs (batch 1) of each part, in forward order: encoder levels, bottleneck, decoder levels.

    The time embedding, ``init_conv`` and the output layers are one row, ``"in/out + time"``. Each row has
    ``part``, ``stage`` (encoder, bottleneck, decoder, other), ``resolution`` (None for other),
    ``params``, ``flops``; both columns sum to the model's totals.
    """
    config = as_config(config_or_model, "config_or_model")
    model = meta_model(config)
    param_levels = count_parameters_by_level(model)
    flop_levels = count_forward_flops_by_level(config)
    param_components = count_parameters_by_component(model)
    flop_components = count_forward_flops_by_component(config)
    rows = [{"part": f"encoder {format_resolution(p['resolution'])}", "stage": "encoder",
             "resolution": p["resolution"], "params": p["encoder"], "flops": f["encoder"]}
            for p, f in zip(param_levels, flop_levels)]
    rows.append({"part": f"bottleneck {format_resolution(config.bottleneck_resolution)}", "stage": "bottleneck",
                 "resolution": config.bottleneck_resolution, "params": param_components["bottleneck"],
                 "flops": flop_components["bottleneck"]})
    rows += [{"part": f"decoder {format_resolution(p['resolution'])}", "stage": "decoder",
              "resolution": p["resolution"], "params": p["decoder"], "flops": f["decoder"]}
             for p, f in reversed(list(zip(param_levels, flop_levels)))]
    other = ("time_embed", "init_conv", "output")
    rows.append({"part": "in/out + time", "stage": "other", "resolution": None,
                 "params": sum(param_components[name] for name in other),
                 "flops": sum(flop_components[name] for name in other)})
    return rows


def cost_by_part_table(config_or_model: UNetConfig | UNet) -> str:
    """:func:`cost_by_part_rows` as a table: parameters and FLOPs of each part, each with its share."""
    rows = cost_by_part_rows(config_or_model)
    total_params, total_flops = sum(row["params"] for row in rows), sum(row["flops"] for row in rows)
    lines = [("part", "parameters", "% params", "GFLOPs", "% FLOPs")]
    lines += [(row["part"], format_count(row["params"]), format_percent(row["params"], total_params),
               f"{row['flops'] / GFLOP:.2f}", format_percent(row["flops"], total_flops)) for row in rows]
    lines.append(("total", format_count(total_params), "100.0%", f"{total_flops / GFLOP:.2f}", "100.0%"))
    return _render(lines)


def cost_by_part_figure(config_or_model: UNetConfig | UNet) -> go.Figure:
    """Paired bars per part: its share of the parameters and its share of the FLOPs (batch 1).

    Shows the U-Net's trade: deep levels hold the parameters (wide channels), high-resolution levels do
    the compute (many pixels). Bars carry their percentages; FLOPs bars are hatched.
    """
    config = as_config(config_or_model, "config_or_model")
    rows = cost_by_part_rows(config)
    total_params, total_flops = sum(row["params"] for row in rows), sum(row["flops"] for row in rows)
    parts = [row["part"] for row in rows]
    shares = {"params": [100 * row["params"] / total_params for row in rows],
              "flops": [100 * row["flops"] / total_flops for row in rows]}
    texts = {key: [f"{share:.1f}%" for share in values] for key, values in shares.items()}
    figure = go.Figure()
    for key, label, color, pattern in (("params", "share of parameters", PARAMETERS_COLOR, ""),
                                       ("flops", "share of FLOPs", FLOPS_COLOR, "/")):
        figure.add_trace(go.Bar(
            y=parts, x=shares[key], orientation="h", name=label,
            marker=dict(color=color, pattern_shape=pattern, line=dict(color="black", width=1)),
            text=texts[key], textposition="outside", cliponaxis=False,
            hovertemplate="%{y}: %{x:.1f}%<extra>" + label + "</extra>",
        ))
    figure.update_layout(
        barmode="group", height=min(PROJECTOR_HEIGHT, 170 + 55 * len(rows)), margin=dict(l=190, r=60, t=90, b=90),
        title=dict(text=f"Where the parameters are, where the compute is "
                        f"({format_count(total_params)} parameters, {total_flops / GFLOP:.1f} GFLOPs)"),
        xaxis=dict(title="percent of the model's total", ticksuffix="%",
                   range=[0, 1.15 * max(shares["params"] + shares["flops"])]),  # room for the outside labels
        yaxis=dict(autorange="reversed", ticksuffix=" "),
        # Inside the plot, top right, where the first levels' bars are short: under the axis it touched
        # the axis title on a slide.
        legend=dict(x=0.99, xanchor="right", y=0.99, yanchor="top", bgcolor="rgba(255, 255, 255, 0.9)"),
    )
    return describe(figure, *_cost_by_part_alternative(rows, shares, texts))


def _cost_by_part_alternative(rows: list[dict], shares: dict[str, list[float]],
                              texts: dict[str, list[str]]) -> tuple[str, DataTable]:
    """The paired bars in words (the two largest shares of parameters and of FLOPs) and one row per part."""
    total_params, total_flops = sum(row["params"] for row in rows), sum(row["flops"] for row in rows)

    def largest(key: str) -> str:
        ranked = sorted(range(len(rows)), key=shares[key].__getitem__, reverse=True)[:2]
        return ", then ".join(f"{rows[k]['part']} ({texts[key][k]})" for k in ranked)

    alt = (f"Paired bar charts of each of {len(rows)} parts' share of the {format_count(total_params)} parameters "
           f"and of the {total_flops / GFLOP:.1f} GFLOPs of one forward pass. Most parameters: {largest('params')}. "
           f"Most compute: {largest('flops')}.")
    cells = [(row["part"], format_count(row["params"]), params_share, f"{row['flops'] / GFLOP:.2f}", flops_share)
             for row, params_share, flops_share in zip(rows, texts["params"], texts["flops"])]
    return alt, table(("part", "parameters", "share of parameters", "GFLOPs", "share of FLOPs"), cells)


def alternatives_rows(config: UNetConfig, alternatives: Mapping[str, Mapping], target: int) -> list[dict]:
    """The parameter count of ``config`` with each set of changes, and how far it lands from ``target``.

    Args:
        config: the configuration to start from.
        alternatives: ``{description: {field: value, ...}}``; ``{}`` measures ``config`` itself.
        target: the count to compare with.

    Returns:
        One dict per alternative, in the given order: ``description``, ``changes``, ``config``,
        ``params``, ``difference`` (params - target), ``relative`` (difference / target).
    """
    rows = []
    for description, changes in alternatives.items():
        changed = config.replace(**changes).validate()
        params = count_parameters(meta_model(changed))
        rows.append({"description": description, "changes": dict(changes), "config": changed, "params": params,
                     "difference": params - target, "relative": (params - target) / target})
    return rows


def alternatives_table(rows: list[dict]) -> str:
    """:func:`alternatives_rows` as a table, closest to the target first."""
    lines = [("what changes", "parameters", "minus target", "off by")]
    lines += [(row["description"], format_count(row["params"]), f"{row['difference']:+,}",
               f"{100 * row['relative']:+.1f}%") for row in sorted(rows, key=lambda row: abs(row["difference"]))]
    return _render(lines)

