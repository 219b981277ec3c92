"""How the parameter count scales when one knob of the configuration changes, beside the chapter's rules of thumb.

Used in ``notebooks/05_configs.ipynb``. Every count is measured: the changed configuration is built on the
meta device and its parameters counted. The rule's prediction is shown next to it, so where a rule of
thumb is only rough the gap is visible.
"""

import textwrap

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from unet_lessons.analysis import count_parameters, count_parameters_by_level
from unet_lessons.configs import UNetConfig, as_config
from unet_lessons.viz.alt_text import DataTable, describe, table
from unet_lessons.viz._common import cached_trace, counted, format_count, format_short, meta_model
from unet_lessons.viz.style import FONT_SIZE, PALETTE, PROJECTOR_HEIGHT

MEASURED_COLOR, BASELINE_COLOR = PALETTE[0], PALETTE[4]

KNOBS = ("base_channels", "num_res_blocks", "attention", "levels")

# The rule of thumb each knob is checked against, as the figure states it.
RULES = {
    "base_channels": "2× base_channels ≈ 4× parameters (weights ∝ C_in·C_out, so ∝ base²)",
    "num_res_blocks": "parameters grow roughly linearly with num_res_blocks (read as ∝ n)",
    "attention": "an attention block adds ≈ 4C² parameters (q, k, v, output), at any resolution",
    "levels": "one more level at the deepest width adds about the deepest level's parameters",
}

_TITLES = {
    "base_channels": "base_channels ×0.5, ×1, ×2<br>rule: 2× base ≈ 4× parameters",
    "num_res_blocks": "num_res_blocks 1 to 4<br>rule: roughly linear (∝ n)",
    "attention": "attention at one more resolution<br>rule: + ≈4C² per attention block",
    "levels": "one more level (repeat the last multiplier)<br>rule: + about one deepest level",
}


def scaling_rows(config: UNetConfig, knob: str) -> list[dict]:
    """The parameter count of ``config`` with one knob changed, one dict per setting, the baseline included.

    Knobs: ``"base_channels"`` (x0.5, x1, x2), ``"num_res_blocks"`` (1 to 4), ``"attention"`` (the
    baseline, then attention added at one more resolution: the next finer level above the attended
    ones, else the largest level without attention), ``"levels"`` (the baseline, then one more level
    that repeats the last channel multiplier).

    Each dict has: ``knob``; ``setting`` (a label such as ``"x2 (256)"``); ``config`` (the changed
    :class:`UNetConfig`, None if invalid); ``params`` (measured on a meta-device model, None if invalid);
    ``ratio`` (params / baseline params); ``rule_ratio`` (what the rule of thumb predicts); ``rule`` (the
    rule, stated); ``baseline`` (True for the unchanged config); ``note`` (why a setting was skipped: the
    configuration's ``ValueError`` message, or "" if valid).

    Args:
        config: the baseline configuration.
        knob: one of ``KNOBS``.
    """
    config = as_config(config)
    if knob not in KNOBS:
        raise ValueError(f"knob={knob!r}: use one of {KNOBS}.")
    baseline_params = count_parameters(meta_model(config))
    rows = []
    for setting, changed, rule_ratio in _settings(config, knob, baseline_params):
        row = dict(knob=knob, setting=setting, config=None, params=None, ratio=None, rule_ratio=rule_ratio,
                   rule=RULES[knob], baseline=changed == config, note="")
        try:
            changed = changed.validate() if isinstance(changed, UNetConfig) else changed
        except ValueError as error:
            changed = str(error)
        if isinstance(changed, str):  # a setting that does not give a valid model, with the reason
            row["note"] = changed
        else:
            row["config"] = changed
            row["params"] = count_parameters(meta_model(changed))
            row["ratio"] = row["params"] / baseline_params
        rows.append(row)
    return rows


def _settings(config: UNetConfig, knob: str, baseline_params: int) -> list[tuple[str, UNetConfig | str, float]]:
    """(label, changed config or the reason there is none, the rule's predicted ratio) for each setting."""
    if knob == "base_channels":
        settings = []
        for factor in (0.5, 1, 2):
            channels = config.base_channels * factor
            if channels != int(channels):
                settings.append((f"x{factor:g}", f"base_channels={channels}: not an integer", factor**2))
            else:
                settings.append((f"x{factor:g} ({int(channels)})", config.replace(base_channels=int(channels)),
                                 factor**2))
        return settings
    if knob == "num_res_blocks":
        counts = sorted({1, 2, 3, 4, config.num_res_blocks})
        return [(str(n), config.replace(num_res_blocks=n), n / config.num_res_blocks) for n in counts]
    if knob == "attention":
        as_is = ("as is " + _attention_label(config.attention_resolutions), config, 1.0)
        return [as_is, _more_attention(config, baseline_params)]
    deeper = config.replace(channel_mults=config.channel_mults + config.channel_mults[-1:])
    deepest = count_parameters_by_level(meta_model(config))[-1]
    added = deepest["encoder"] + deepest["decoder"]
    return [(f"{len(config.channel_mults)} levels", config, 1.0),
            (f"{len(config.channel_mults) + 1} levels", deeper, 1 + added / baseline_params)]


def _attention_label(resolutions: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(r) for r in resolutions) + ")" if resolutions else "(none)"


def _more_attention(config: UNetConfig, baseline_params: int) -> tuple[str, UNetConfig | str, float]:
    """Attention added at one more level: the next finer than the attended ones, else the largest free one."""
    levels = config.level_resolutions
    attended = [r for r in levels if r in config.attention_resolutions]
    free = [r for r in levels if r not in config.attention_resolutions]
    if not free:
        return "+ one more", "attention is already at every level", None
    if not attended:
        added = min(free)
    else:
        finer = [r for r in free if r > max(attended)]
        added = min(finer) if finer else max(free)
    changed = config.replace(attention_resolutions=config.attention_resolutions + (added,))
    channels = config.level_channels[levels.index(added)]
    try:
        blocks = sum(row.kind == "ResBlock" and row.stage != "bottleneck" and row.out_shape[-1] == added
                     for row in cached_trace(changed.validate()))  # one attention block after each
    except ValueError as error:
        return f"+ {added}", str(error), None
    label = f"+ {added}x{added} " + _attention_label(changed.attention_resolutions)
    return label, changed, 1 + blocks * 4 * channels**2 / baseline_params


def _ratio(value: float) -> str:
    """A ratio to the baseline as the figure prints it: 3.9976 -> '×4.00'."""
    return f"×{value:.2f}"


def _tick_label(row: dict) -> str:
    """The setting, then the measured ratio and the rule's, one per line: the numbers are never hidden."""
    if row["baseline"]:
        return f"{row['setting']}<br>baseline"
    return f"{row['setting']}<br>measured {_ratio(row['ratio'])}<br>rule {_ratio(row['rule_ratio'])}"


def scaling_figure(config: UNetConfig) -> go.Figure:
    """Four bar charts, one per knob: the measured parameter count per setting, the rule's prediction beside it.

    Bars are measured counts (meta-device models); the darker bar is the baseline. A black dash marks
    what the rule of thumb predicts; under each bar, the measured ratio to the baseline and the rule's.
    A setting that gives no valid configuration is skipped, its reason written under the chart.

    Args:
        config: the baseline configuration.
    """
    config = as_config(config)
    baseline_params = count_parameters(meta_model(config))
    rows_by_knob = {knob: scaling_rows(config, knob) for knob in KNOBS}
    figure = make_subplots(rows=2, cols=2, subplot_titles=[_TITLES[knob] for knob in KNOBS],
                           vertical_spacing=0.3, horizontal_spacing=0.1)
    for position, knob in enumerate(KNOBS):
        cell = dict(row=position // 2 + 1, col=position % 2 + 1)
        rows = rows_by_knob[knob]
        valid = [row for row in rows if row["params"] is not None]
        changed = [row for row in valid if not row["baseline"]]
        figure.add_trace(go.Bar(
            x=[_tick_label(row) for row in valid], y=[row["params"] for row in valid],
            name="measured", showlegend=False,
            marker=dict(color=[BASELINE_COLOR if row["baseline"] else MEASURED_COLOR for row in valid],
                        line=dict(color="black", width=1)),
            customdata=[format_count(row["params"]) for row in valid],
            hovertemplate="%{customdata} parameters<extra></extra>",
        ), **cell)
        figure.add_trace(go.Scatter(
            x=[_tick_label(row) for row in changed], y=[row["rule_ratio"] * baseline_params for row in changed],
            mode="markers", name="rule of thumb predicts", showlegend=position == 0,
            marker=dict(symbol="line-ew", size=40, line=dict(color="black", width=3)),
            customdata=[format_short(round(row["rule_ratio"] * baseline_params)) for row in changed],
            hovertemplate="rule predicts %{customdata}<extra></extra>",
        ), **cell)
        top = max([row["params"] for row in valid] + [row["rule_ratio"] * baseline_params for row in changed])
        skipped_rows = [row for row in rows if row["params"] is None]
        headroom = 1.8 if skipped_rows else 1.15  # a note about a skipped setting goes above the bars
        figure.update_yaxes(range=[0, headroom * top], tickformat="~s", **cell)
        figure.update_xaxes(tickfont_size=FONT_SIZE - 2, **cell)
        for skipped in skipped_rows:
            note = "<br>".join(textwrap.wrap(f"skipped {skipped['setting']}: {skipped['note']}", 62))
            figure.add_annotation(text=note, x=0.98, y=0.98, xref="x domain", yref="y domain", xanchor="right",
                                  yanchor="top", showarrow=False, align="right", font=dict(size=FONT_SIZE - 2),
                                  **cell)
    for name, color in (("measured (meta-device model)", MEASURED_COLOR), ("measured, baseline", BASELINE_COLOR)):
        marker = dict(color=color, line=dict(color="black", width=1))
        figure.add_trace(go.Bar(x=[None], y=[None], name=name, marker=marker), row=1, col=1)
    figure.update_yaxes(title_text="parameters", col=1)
    figure.update_layout(
        title=dict(text=f"Parameters as one knob changes (baseline {format_count(baseline_params)})"),
        height=PROJECTOR_HEIGHT, bargap=0.35, margin=dict(l=80, r=20, t=110, b=90), hovermode="closest",
        legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.12, yanchor="top"),
    )
    return describe(figure, *_alternative(baseline_params, rows_by_knob))


def _alternative(baseline_params: int, rows_by_knob: dict[str, list[dict]]) -> tuple[str, DataTable]:
    """The four charts in words (each knob's farthest valid setting, measured against the rule) and one row per
    setting, skipped ones included with their reason."""
    outcomes = []
    for knob, rows in rows_by_knob.items():
        changed = [row for row in rows if row["params"] is not None and not row["baseline"]]
        outcomes.append(f"{knob} {changed[-1]['setting']}: measured {_ratio(changed[-1]['ratio'])}, rule "
                        f"{_ratio(changed[-1]['rule_ratio'])}" if changed else f"{knob}: no valid change")
    every_row = [row for rows in rows_by_knob.values() for row in rows]
    skipped = sum(row["params"] is None for row in every_row)
    alt = (f"Four bar charts of the measured parameter count as one knob of the configuration changes, each beside "
           f"its rule of thumb's prediction (baseline {format_count(baseline_params)}). " + "; ".join(outcomes) + "."
           + (f" Skipped, as no valid configuration: {counted(skipped, 'setting')}." if skipped else ""))
    cells = []
    for row in every_row:
        if row["params"] is None:
            cells.append((row["knob"], row["setting"], "", "", "", f"skipped: {row['note']}"))
        elif row["baseline"]:
            cells.append((row["knob"], row["setting"], format_count(row["params"]), "baseline", "", ""))
        else:
            cells.append((row["knob"], row["setting"], format_count(row["params"]), _ratio(row["ratio"]),
                          _ratio(row["rule_ratio"]), ""))
    return alt, table(("knob", "setting", "parameters", "measured", "rule of thumb", "note"), cells)
