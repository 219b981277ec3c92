"""The U-Net explorer (lessons 00, 04 and 05): pick a preset or change a field, see the whole model.

All the work happens in :func:`explorer_state`, a pure function of the configuration; the widget only reads
its controls, calls it, and shows the result.
"""

import html

import ipywidgets as widgets
import plotly.graph_objects as go

from unet_lessons.configs import PRESETS, TOPOLOGIES, UNetConfig, as_config
from unet_lessons.viz._common import cached_trace, format_count
from unet_lessons.viz.breakdown import breakdown_figure
from unet_lessons.viz.hourglass import hourglass_figure
from unet_lessons.viz.shapes import shape_table
from unet_lessons.viz.style import ERROR_COLOR
from unet_lessons.viz.widgets import figure_area, redraw

CUSTOM = "(custom)"  # the preset dropdown shows this when the controls match no preset
BASE_CHANNEL_CHOICES = (32, 64, 96, 128, 192, 256)


def explorer_state(config: UNetConfig) -> dict:
    """Everything the explorer shows for one configuration; raises ``ValueError`` if it is invalid.

    Returns ``{"hourglass": go.Figure, "breakdown": go.Figure, "table": str, "parameters": int}``. The
    configuration is traced once (cached per configuration) and both figures and the table reuse it.

    Args:
        config: the configuration to draw (a preset or its name, or a model, works too).
    """
    config = as_config(config)
    trace = cached_trace(config)
    return {
        "hourglass": hourglass_figure(trace),
        "breakdown": breakdown_figure(config),
        "table": shape_table(trace),
        "parameters": sum(row.params for row in trace),
    }


def parse_ints(name: str, text: str, example: str = "1,2,2,4") -> tuple[int, ...]:
    """'1, 2,2,4' -> (1, 2, 2, 4); '' -> (). ``ValueError`` naming the field (and showing ``example``) for
    anything else."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(f"{name}={text!r}: write whole numbers separated by commas, e.g. {example}.") from None


def _join(values: tuple[int, ...]) -> str:
    return ",".join(str(value) for value in values)


class UNetExplorer(widgets.VBox):
    """The explorer container. For tests and notebooks it exposes:

    * ``controls``: dict of the control widgets, keyed ``preset, image_size, base_channels, channel_mults,
      num_res_blocks, attention_resolutions, topology``; set ``controls[name].value`` to change one.
    * ``message``: an ``HTML`` widget; shows ``✘`` and the ``ValueError`` for an invalid combination.
    * ``config``: the last valid :class:`UNetConfig`; ``figures``: its ``{"hourglass", "breakdown"}``
      figures; ``table``: its shape table. An invalid combination leaves all three unchanged.
    * ``outputs``: the widgets the figures and the table are shown in (:func:`unet_lessons.viz.widgets.figure_area`).
    """

    def __init__(self, preset: str = "chapter_example"):
        if not isinstance(preset, str) or preset not in PRESETS:
            shown = repr(preset) if isinstance(preset, str) else f"a {type(preset).__name__}"
            raise ValueError(f"preset={shown}: give a preset's name, one of {sorted(PRESETS)}.")
        self._preset_config = PRESETS[preset].config  # fields without a control (groups, dropout...) come from here
        self._holding = False  # True while several controls are set at once: one redraw at the end
        wide = {"description_width": "initial"}
        self.controls = {
            "preset": widgets.Dropdown(options=list(PRESETS) + [CUSTOM], value=preset, description="preset",
                                       style=wide),
            "image_size": widgets.IntText(description="image_size", style=wide,
                                          layout=widgets.Layout(width="170px")),
            "base_channels": widgets.Dropdown(options=BASE_CHANNEL_CHOICES, description="base_channels",
                                              style=wide, layout=widgets.Layout(width="190px")),
            "channel_mults": widgets.Text(description="channel_mults", continuous_update=False, style=wide,
                                          placeholder="1,2,2,4"),
            "num_res_blocks": widgets.IntSlider(min=1, max=4, description="num_res_blocks", style=wide),
            "attention_resolutions": widgets.Text(description="attention_resolutions", continuous_update=False,
                                                  style=wide, placeholder="16,8 (empty: none)"),
            "topology": widgets.Dropdown(options=TOPOLOGIES, description="topology", style=wide,
                                         layout=widgets.Layout(width="200px")),
        }
        self.message = widgets.HTML()
        self.outputs = {name: figure_area() for name in ("hourglass", "breakdown")}
        self.outputs["table"] = figure_area(max_height="360px", overflow="auto")
        self.config: UNetConfig | None = None
        self.figures: dict[str, go.Figure] = {}
        self.table = ""

        c = self.controls
        super().__init__([
            widgets.HBox([c["preset"], c["topology"]]),
            widgets.HBox([c["image_size"], c["base_channels"], c["channel_mults"]]),
            widgets.HBox([c["num_res_blocks"], c["attention_resolutions"]]),
            self.message,
            self.outputs["hourglass"],
            self.outputs["breakdown"],
            self.outputs["table"],
        ])
        self._show_config(self._preset_config)
        for name, control in self.controls.items():
            control.observe(self._on_preset if name == "preset" else self._on_control, names="value")
        self.update()

    def _show_config(self, config: UNetConfig) -> None:
        """Set every control from a configuration, with one redraw (by the caller) instead of six."""
        self._holding = True
        try:
            c = self.controls
            c["image_size"].value = config.image_size
            if config.base_channels not in c["base_channels"].options:
                c["base_channels"].options = sorted({*c["base_channels"].options, config.base_channels})
            c["base_channels"].value = config.base_channels
            c["channel_mults"].value = _join(config.channel_mults)
            c["num_res_blocks"].max = max(4, config.num_res_blocks)
            c["num_res_blocks"].value = config.num_res_blocks
            c["attention_resolutions"].value = _join(config.attention_resolutions)
            c["topology"].value = config.topology
        finally:
            self._holding = False

    def _on_preset(self, change) -> None:
        if self._holding or change["new"] == CUSTOM:
            return
        self._preset_config = PRESETS[change["new"]].config
        self._show_config(self._preset_config)
        self.update()

    def _on_control(self, change) -> None:
        if not self._holding:
            self.update()

    def config_from_controls(self) -> UNetConfig:
        """The configuration the controls describe (not yet validated); ``ValueError`` for unreadable text."""
        c = self.controls
        return self._preset_config.replace(
            image_size=c["image_size"].value,
            base_channels=c["base_channels"].value,
            channel_mults=parse_ints("channel_mults", c["channel_mults"].value),
            num_res_blocks=c["num_res_blocks"].value,
            attention_resolutions=parse_ints("attention_resolutions", c["attention_resolutions"].value, "16,8"),
            topology=c["topology"].value,
        )

    def update(self) -> None:
        """Redraw from the controls; an invalid combination shows its message and keeps the last figures."""
        try:
            config = self.config_from_controls()
            state = explorer_state(config)
        except ValueError as error:
            self.message.value = (
                f'<span style="color: {ERROR_COLOR}; font-size: 16px">✘ Not a valid configuration: '
                f"{html.escape(str(error))} (the figures below still show the last valid configuration)</span>"
            )
            self._select_matching_preset(None)  # '(custom)': choosing the preset again repairs every control
            return
        self.config = config
        self.figures = {"hourglass": state["hourglass"], "breakdown": state["breakdown"]}
        self.table = state["table"]
        self.message.value = (f'<span style="font-size: 16px">✔ {format_count(state["parameters"])} parameters, '
                              f"{len(cached_trace(config))} blocks</span>")
        self._select_matching_preset(config)
        for name, figure in self.figures.items():
            redraw(self.outputs[name], lambda: figure)
        redraw(self.outputs["table"], lambda: self.table)

    def _select_matching_preset(self, config: UNetConfig | None) -> None:
        """Show the preset's name when the controls match one exactly, else '(custom)'."""
        name = next((name for name, preset in PRESETS.items() if preset.config == config), CUSTOM)
        self._holding = True
        try:
            self.controls["preset"].value = name
        finally:
            self._holding = False


def unet_explorer(preset: str = "chapter_example") -> UNetExplorer:
    """An explorer of U-Net configurations: controls, then the hourglass, the parameter breakdown and the shape table.

    Choosing a preset sets every control; changing a control redraws all three. An invalid combination
    (e.g. image_size 60 with four levels) shows the reason in red inside the widget and keeps the last
    valid pictures; nothing is raised into the notebook. The preset menu then reads '(custom)', so choosing
    the preset again repairs every control. See :class:`UNetExplorer` for the attributes
    tests and notebooks can use (``controls``, ``message``, ``figures``, ``table``, ``config``).

    Args:
        preset: the preset shown first, a key of ``PRESETS``.
    """
    return UNetExplorer(preset)
