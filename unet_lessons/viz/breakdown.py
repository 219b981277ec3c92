"""Where the parameters are: by component, by resolution level (encoder vs decoder), and by block kind.

Used in ``notebooks/04_assembly.ipynb`` and ``05_configs.ipynb`` and by the explorer in ``viz/architecture_widgets.py``.
Every count comes from a model built on the meta device (no weights allocated).
"""

from functools import lru_cache

import plotly.graph_objects as go

from unet_lessons.analysis import (
    count_parameters,
    count_parameters_by_component,
    count_parameters_by_kind,
    count_parameters_by_level,
)
from unet_lessons.configs import UNetConfig, as_config
from unet_lessons.unet import UNet
from unet_lessons.viz.alt_text import DataTable, describe, table
from unet_lessons.viz._common import (
    format_count,
    format_percent,
    format_resolution,
    format_short,
    meta_model,
)
from unet_lessons.viz.style import COMPONENT_COLORS, FONT_SIZE, KIND_COLORS

# The kinds of count_parameters_by_kind gathered into the families the lessons compare.
KIND_FAMILIES = {
    "ResBlocks": ("ResBlock",),
    "attention": ("Attention",),
    "resampling (↓ ↑)": ("Downsample", "Upsample"),
    "time embedding": ("TimeEmbedding",),
    "class embedding": ("ClassEmbedding",),
    "in/out convs + norm": ("InitConv", "OutNorm", "OutConv"),
}
_FAMILY_COLORS = {
    "ResBlocks": KIND_COLORS["ResBlock"],
    "attention": KIND_COLORS["Attention"],
    "resampling (↓ ↑)": KIND_COLORS["Downsample"],
    "time embedding": KIND_COLORS["TimeEmbedding"],
    "class embedding": KIND_COLORS["ClassEmbedding"],
    "in/out convs + norm": KIND_COLORS["InitConv"],
}


def parameters_by_family(model: UNet) -> dict[str, int]:
    """count_parameters_by_kind summed into KIND_FAMILIES (ResBlocks, attention, resampling, ...); a family
    the model lacks (the class embedding of an unconditional model) is left out."""
    by_kind = count_parameters_by_kind(model)
    families = {family: sum(by_kind.get(kind, 0) for kind in kinds) for family, kinds in KIND_FAMILIES.items()}
    return {family: count for family, count in families.items() if count}


@lru_cache(maxsize=64)
def _counts(config: UNetConfig) -> tuple[int, dict[str, int], list[dict], dict[str, int]]:
    """Total, by component, by level and by family, counted once per (valid) config on its meta model."""
    model = meta_model(config)
    return (count_parameters(model), count_parameters_by_component(model), count_parameters_by_level(model),
            parameters_by_family(model))


def breakdown_table(config_or_model: UNetConfig | UNet) -> str:
    """The chapter's table: one line per component (parameters, percent of the total), then the total.

    Args:
        config_or_model: a :class:`UNetConfig` or a :class:`UNet`; counted on a meta-device copy.
    """
    total, by_component, _, _ = _counts(as_config(config_or_model, "config_or_model"))
    lines = [("component", "parameters", "percent")]
    lines += [(name, format_count(count), format_percent(count, total)) for name, count in by_component.items()]
    lines.append(("total", format_count(total), "100.0%"))
    widths = [max(len(line[i]) for line in lines) for i in range(3)]
    rendered = [f"{name:<{widths[0]}}  {count:>{widths[1]}}  {percent:>{max(widths[2], 7)}}"
                for name, count, percent in lines]
    rendered.insert(-1, "-" * len(rendered[0]))
    return "\n".join(rendered)


def _bar_text(count: int, total: int) -> str:
    return f"{format_short(count)} ({format_percent(count, total)})"


def breakdown_figure(config_or_model: UNetConfig | UNet) -> go.Figure:
    """Three bar charts of the parameter count: by component, by block family, and by resolution level.

    Top left: ``time_embed, init_conv, encoder, bottleneck, decoder, output`` (sums to the total).
    Top right: ResBlocks vs attention vs resampling vs the rest, from :func:`count_parameters_by_kind`
    (sums to the total). Below: each resolution level's encoder and decoder parameters (the bottleneck,
    time embedding and in/out layers belong to no level). Bars are labelled with millions and percent;
    hover gives the exact count.

    Args:
        config_or_model: a :class:`UNetConfig` or a :class:`UNet`; counted on a meta-device copy.
    """
    total, by_component, levels, families = _counts(as_config(config_or_model, "config_or_model"))
    level_names = [f"{format_resolution(level['resolution'])} ({level['channels']} ch)" for level in levels]

    panels = [  # (title, bars, x domain, y domain): components and kinds side by side, levels below
        ("by component", [_bars(list(by_component), list(by_component.values()), total,
                                [COMPONENT_COLORS[name] for name in by_component], "component")],
         [0.0, 0.36], [0.6, 1.0]),
        ("by block kind", [_bars(list(families), list(families.values()), total,
                                 [_FAMILY_COLORS[name] for name in families], "kind")],
         [0.64, 1.0], [0.6, 1.0]),
        ("by resolution level (the bottleneck is in none)", [
            _bars(level_names, [level[stage] for level in levels], total, COMPONENT_COLORS[stage], stage,
                  pattern="/" if stage == "decoder" else "")
            for stage in ("encoder", "decoder")],
         [0.0, 1.0], [0.0, 0.45]),
    ]
    # Built as one layout, not with make_subplots: the explorer redraws this on every change.
    layout = dict(
        title=dict(text=f"Where the {format_count(total)} parameters are"),
        barmode="group", height=420 + 45 * len(levels), margin=dict(l=20, r=20, t=100, b=20),
        hovermode="closest", annotations=[],
        legend=dict(orientation="h", x=1.0, xanchor="right", y=0.45, yanchor="bottom"),
    )
    data = []
    for number, (title, bars, x_domain, y_domain) in enumerate(panels, start=1):
        suffix = "" if number == 1 else str(number)
        longest = max(max(bar["x"]) for bar in bars)
        # the x range leaves room right of the longest bar for its label
        layout[f"xaxis{suffix}"] = dict(domain=x_domain, anchor=f"y{suffix}", range=[0, 1.7 * longest],
                                        showticklabels=False, showgrid=False, zeroline=False)
        layout[f"yaxis{suffix}"] = dict(domain=y_domain, anchor=f"x{suffix}", autorange="reversed",
                                        ticksuffix=" ", automargin=True)
        layout["annotations"].append(dict(text=title, x=x_domain[0], y=y_domain[1], xref="paper", yref="paper",
                                          xanchor="left", yanchor="bottom", showarrow=False,
                                          font=dict(size=FONT_SIZE)))
        for bar in bars:
            data.append(dict(bar, xaxis=f"x{suffix}", yaxis=f"y{suffix}"))
    alt, numbers = _alternative(total, by_component, families, levels, level_names)
    return describe(go.Figure(data=data, layout=layout), alt, numbers)


def _alternative(total: int, by_component: dict[str, int], families: dict[str, int], levels: list[dict],
                 level_names: list[str]) -> tuple[str, DataTable]:
    """The figure in words (the three largest bars of each top panel, the heaviest level) and its bars as a table."""

    def largest(counts: dict[str, int]) -> str:
        ranked = sorted(counts.items(), key=lambda item: item[1], reverse=True)[:3]
        return ", ".join(f"{name} {_bar_text(count, total)}" for name, count in ranked)

    heaviest = max(range(len(levels)), key=lambda k: levels[k]["encoder"] + levels[k]["decoder"])
    alt = (f"Bar charts of where the {format_count(total)} parameters are. By component, largest first: "
           f"{largest(by_component)}. By block kind: {largest(families)}. By resolution level, the most are at "
           f"{level_names[heaviest]}: encoder {_bar_text(levels[heaviest]['encoder'], total)}, "
           f"decoder {_bar_text(levels[heaviest]['decoder'], total)}.")
    bars = [("by component", name, count) for name, count in by_component.items()]
    bars += [("by block kind", name, count) for name, count in families.items()]
    bars += [(f"by resolution level, {stage}", name, level[stage])
             for stage in ("encoder", "decoder") for name, level in zip(level_names, levels)]
    rows = [(chart, name, format_count(count), format_percent(count, total)) for chart, name, count in bars]
    return alt, table(("chart", "bar", "parameters", "share"), rows)


def _bars(names: list[str], counts: list[int], total: int, color, label: str, pattern: str = "") -> dict:
    """Horizontal bars with 'xM (y%)' outside each bar; ``label`` names the bars in the legend and hover.

    A plain dict: plotly validates it once, when the figure is built.
    """
    return dict(
        type="bar", y=names, x=counts, orientation="h", name=label, showlegend=label in ("encoder", "decoder"),
        marker=dict(color=color, line=dict(color="black", width=1), pattern=dict(shape=pattern)),
        text=[_bar_text(count, total) for count in counts], textposition="outside", cliponaxis=False,
        textfont=dict(size=FONT_SIZE - 2),
        hovertemplate=f"{label} %{{y}}<br>%{{customdata}} parameters<extra></extra>",
        customdata=[format_count(count) for count in counts],
    )
