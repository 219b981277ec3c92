"""Per-block measurements at initialization, drawn along the network's depth (lesson 06).

One line per init scheme, one point per block in forward order; the x axis is labelled with the block's
stage and resolution level (``E1 Res`` = encoder level 1 ResBlock, ``B Attn`` = bottleneck attention,
``D0 Up`` = decoder level 0 Upsample). The y axis is logarithmic, so values that are exactly zero are drawn
on a dotted line at the bottom whose tick reads "0 (exact)".
"""

import math

import plotly.graph_objects as go

from unet_lessons.configs import UNetConfig
from unet_lessons.init import BlockStat
from unet_lessons.viz._common import as_trace, format_value, rounded, thinned, titled
from unet_lessons.viz.alt_text import describe, table
from unet_lessons.viz.style import FONT_SIZE, KIND_COLORS, PALETTE

_SHORT_KIND = {"TimeEmbedding": "Time", "InitConv": "InitConv", "ResBlock": "Res", "Attention": "Attn",
               "Downsample": "Down", "Upsample": "Up", "OutNorm": "OutNorm", "OutConv": "OutConv"}
_STAGE_PREFIX = {"encoder": "E", "decoder": "D", "bottleneck": "B"}
_SCHEME_STYLES = [("circle", "solid"), ("square", "dash"), ("diamond", "dot"), ("triangle-up", "dashdot")]


def activation_std_figure(stats_by_scheme: dict[str, list[BlockStat]], config: UNetConfig,
                          title: str = "Activation std through the depth, at initialization") -> go.Figure:
    """Standard deviation of every block's output, one line per scheme.

    Args:
        stats_by_scheme: legend label -> the list from :func:`unet_lessons.init.activation_stds`.
        config: the measured model's configuration (labels the blocks by stage and level).
        title: figure title.
    """
    return _per_block_figure(stats_by_scheme, config, "std of the block's output",
                             "standard deviation of each block's output", title)


def gradient_norm_figure(norms_by_scheme: dict[str, list[BlockStat]], config: UNetConfig,
                         title: str = "Gradient norm per block, one batch") -> go.Figure:
    """L2 norm of each block's parameter gradient, one line per scheme.

    Args:
        norms_by_scheme: legend label -> the list from :func:`unet_lessons.init.gradient_norms`.
        config: the measured model's configuration.
        title: figure title.
    """
    return _per_block_figure(norms_by_scheme, config, "gradient norm ‖∂loss/∂θ‖",
                             "L2 norm of each block's parameter gradient", title)


def block_labels(config: UNetConfig) -> dict[str, str]:
    """Module name -> short axis label (``"E1 Res"``, ``"B Attn"``, ``"D0 Up"``, ``"InitConv"``)."""
    labels = {}
    for row in as_trace(config):  # cached per config: an explorer redraw traces nothing
        kind = _SHORT_KIND[row.kind]
        if row.stage in ("encoder", "decoder"):
            labels[row.name] = f"{_STAGE_PREFIX[row.stage]}{row.level} {kind}"
        elif row.stage == "bottleneck":
            labels[row.name] = f"B {kind}"
        else:
            labels[row.name] = kind
    return labels


def _per_block_figure(values_by_scheme: dict[str, list[BlockStat]], config: UNetConfig,
                      y_title: str, measure: str, title: str) -> go.Figure:
    """One line per scheme of ``measure`` (what the y axis shows, said in words for the text alternative)."""
    if not values_by_scheme:
        raise ValueError("Nothing to draw: give at least one scheme's measurements.")
    labels = block_labels(config)
    names = [stat.name for stat in next(iter(values_by_scheme.values()))]
    positive = [stat.value for stats in values_by_scheme.values() for stat in stats if stat.value > 0]
    # Zeros have no place on a log axis: draw them one decade below the smallest positive value.
    zero_line = 10 ** (math.floor(math.log10(min(positive))) - 1) if positive else 1e-3

    fig = go.Figure()
    _add_stage_bands(fig, [_stage_of(name) for name in names])
    for i, (label, stats) in enumerate(values_by_scheme.items()):
        symbol, dash = _SCHEME_STYLES[i % len(_SCHEME_STYLES)]
        fig.add_trace(go.Scatter(
            x=list(range(len(stats))),
            y=rounded(stat.value if stat.value > 0 else zero_line for stat in stats),
            mode="lines+markers", name=label,
            line=dict(color=PALETTE[i], dash=dash, width=3),
            marker=dict(symbol=symbol, size=11, color=PALETTE[i], line=dict(width=1, color="white")),
            customdata=[[stat.name, f"{stat.value:.3g}"] for stat in stats],
            hovertemplate="%{customdata[0]}<br>%{customdata[1]}<extra>" + label + "</extra>",
        ))
    has_zeros = any(stat.value == 0 for stats in values_by_scheme.values() for stat in stats)
    if has_zeros:
        fig.add_hline(y=zero_line, line=dict(color="grey", dash="dot", width=1))
    fig.update_xaxes(tickmode="array", tickvals=list(range(len(names))),
                     ticktext=[labels.get(name, name) for name in names], tickangle=-60,
                     title="block, in forward order")
    # One tick per decade above the zero line, and the zero line itself labelled "0" when it is used.
    top = math.ceil(math.log10(max(positive))) if positive else 0
    decades = range(round(math.log10(zero_line)) + 1, top + 1)
    zero_tick = [zero_line] if has_zeros else []
    fig.update_yaxes(type="log", title=y_title, tickmode="array",
                     tickvals=zero_tick + [10.0 ** k for k in decades],
                     ticktext=["0 (exact)"] * len(zero_tick) + [f"10<sup>{k}</sup>" for k in decades])
    fig.update_layout(title=title, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      margin=dict(t=110), height=560)
    ticks = [labels.get(name, name) for name in names]
    lines = "; ".join(_scheme_summary(label, [stat.value for stat in stats])
                      for label, stats in values_by_scheme.items())
    alt = (f"Line chart, on a log axis, of the {measure} for {len(names)} blocks in forward order ({ticks[0]} to "
           f"{ticks[-1]}), one line per init scheme: {lines}.{titled(title)}")
    columns = ("block", "module", *values_by_scheme)
    rows = [(tick, name, *(_cell(stats[i].value) if i < len(stats) else "" for stats in values_by_scheme.values()))
            for i, (tick, name) in enumerate(zip(ticks, names))]
    return describe(fig, alt, table(columns, rows))


def _scheme_summary(label: str, values: list[float]) -> str:
    """'chapter: 0.572 to 13.8, exactly 0 at 1 of 16 blocks', a scheme's line in words."""
    positive = [format_value(value) for value in sorted(value for value in values if value > 0)]
    if not positive:
        span = "no positive value"
    else:
        span = positive[0] if positive[0] == positive[-1] else f"{positive[0]} to {positive[-1]}"
    zeros = sum(value == 0 for value in values)
    return f"{label}: {span}" + (f", exactly 0 at {zeros} of {len(values)} blocks" if zeros else "")


def _cell(value: float) -> str:
    """A measured value for the data table; an exact zero is '0', as the figure's "0 (exact)" tick says."""
    return "0" if value == 0 else format_value(value)


def _stage_of(name: str) -> str:
    return name.split(".")[0] if name.split(".")[0] in _STAGE_PREFIX else "other"


def _add_stage_bands(fig: go.Figure, stages: list[str]) -> None:
    """Shade the encoder, bottleneck and decoder spans and name them at the top."""
    colors = {"encoder": KIND_COLORS["Downsample"], "bottleneck": KIND_COLORS["Bottleneck"],
              "decoder": KIND_COLORS["Upsample"]}
    for stage, color in colors.items():
        positions = [i for i, s in enumerate(stages) if s == stage]
        if not positions:
            continue
        fig.add_vrect(x0=positions[0] - 0.5, x1=positions[-1] + 0.5, fillcolor=color, opacity=0.12,
                      line_width=0, annotation_text=stage, annotation_position="top left",
                      annotation_font_size=FONT_SIZE - 2)


def loss_curve_figure(losses_by_scheme: dict[str, list[float]],
                      title: str = "The first training steps (Adam, a fresh batch each step)") -> go.Figure:
    """The loss at each of the first training steps, one line per scheme, with the level 1.0 marked
    (the loss of a prediction that is exactly zero, for noise of variance 1).

    Args:
        losses_by_scheme: legend label -> losses, e.g. from :func:`unet_lessons.init.early_training_losses`.
        title: figure title.
    """
    fig = go.Figure()
    for i, (label, losses) in enumerate(losses_by_scheme.items()):
        symbol, dash = _SCHEME_STYLES[i % len(_SCHEME_STYLES)]
        fig.add_trace(go.Scatter(x=list(range(len(losses))), y=rounded(losses), mode="lines+markers", name=label,
                                 line=dict(color=PALETTE[i], dash=dash, width=3),
                                 marker=dict(symbol=symbol, size=11, color=PALETTE[i])))
    fig.add_hline(y=1.0, line=dict(color="grey", dash="dot", width=1), annotation_text="predict 0: loss ≈ 1",
                  annotation_position="top right", annotation_font_size=FONT_SIZE - 2)
    fig.update_xaxes(title="training step", dtick=1)
    fig.update_yaxes(title="MSE loss (noise prediction)")
    fig.update_layout(title=title, legend=dict(orientation="h", y=1.02, yanchor="bottom", x=0),
                      margin=dict(t=110), height=480)
    longest = max((len(losses) for losses in losses_by_scheme.values()), default=0)
    lines = "; ".join(f"{label}: {format_value(losses[0])} at step 0, "
                      f"{format_value(losses[-1])} at step {len(losses) - 1}"
                      for label, losses in losses_by_scheme.items() if losses)
    alt = (f"Line chart of the MSE loss of noise prediction over the first {longest} training steps, one line per "
           f"init scheme, with the level 1.0 of predicting 0 marked: {lines or 'no losses given'}.{titled(title)}")
    if not longest:
        return describe(fig, alt)
    rows = [(step, *(format_value(losses[step]) if step < len(losses) else "" for losses in losses_by_scheme.values()))
            for step in thinned(range(longest))]
    return describe(fig, alt, table(("training step", *losses_by_scheme), rows))
