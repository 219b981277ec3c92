"""Interactive explorers: thin ipywidgets layers over the pure builders of ``unet_lessons.viz``.

``unet_explorer()`` is used in ``notebooks/05_configs.ipynb`` (and wherever a lesson lets the learner change
the configuration). All the work happens in :func:`explorer_state`, a pure function of the configuration;
the widget only reads its controls, calls it, and shows the result. Figures are plain ``go.Figure``
shown inside ``ipywidgets.Output`` (``go.FigureWidget`` would store megabytes of JavaScript per widget).

The lesson explorers further down (lesson 02: time embedding, lesson 03: attention) are factories: each
wires a few controls to one builder and returns the container for the notebook to display.
"""

import base64
import html
import io
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import plotly.graph_objects as go
import torch
from IPython.display import display
from matplotlib.figure import Figure
from torch import nn

from unet_lessons.configs import PRESETS, TOPOLOGIES, UNetConfig
from unet_lessons.time_embedding import TimeEmbedding
from unet_lessons.viz._common import cached_trace, format_count
from unet_lessons.viz.attention_maps import attention_map_figure
from unet_lessons.viz.breakdown import breakdown_figure
from unet_lessons.viz.hourglass import hourglass_figure
from unet_lessons.viz.shapes import shape_table
from unet_lessons.viz.style import ERROR_COLOR
from unet_lessons.viz.time_embedding import embedding_vector_figure, time_response_figure

CUSTOM = "(custom)"  # the preset dropdown shows this when the controls match no preset
BASE_CHANNEL_CHOICES = (32, 64, 96, 128, 192, 256)


def explorer_state(config: UNetConfig) -> dict:
    """Everything the explorer shows for one configuration; raises ``ValueError`` if it is invalid.

    Returns ``{"hourglass": go.Figure, "breakdown": go.Figure, "table": str, "parameters": int}``. The
    configuration is traced once (cached per configuration) and both figures and the table reuse it.

    Args:
        config: the configuration to draw.
    """
    config = config.validate()
    trace = cached_trace(config)
    return {
        "hourglass": hourglass_figure(trace),
        "breakdown": breakdown_figure(config),
        "table": shape_table(trace),
        "parameters": sum(row.params for row in trace),
    }


def parse_ints(name: str, text: str) -> tuple[int, ...]:
    """'1, 2,2,4' -> (1, 2, 2, 4); '' -> (). ``ValueError`` naming the field for anything else."""
    parts = [part.strip() for part in text.replace(";", ",").split(",") if part.strip()]
    try:
        return tuple(int(part) for part in parts)
    except ValueError:
        raise ValueError(f"{name}={text!r}: write whole numbers separated by commas, e.g. 1,2,2,4.") from None


def _join(values: tuple[int, ...]) -> str:
    return ",".join(str(value) for value in values)


class UNetExplorer(widgets.VBox):
    """The explorer container. For tests and notebooks it exposes:

    * ``controls``: dict of the control widgets, keyed ``preset, image_size, base_channels, channel_mults,
      num_res_blocks, attention_resolutions, topology``; set ``controls[name].value`` to change one.
    * ``message``: an ``HTML`` widget; shows ``❌`` and the ``ValueError`` for an invalid combination.
    * ``config``: the last valid :class:`UNetConfig`; ``figures``: its ``{"hourglass", "breakdown"}``
      figures; ``table``: its shape table. An invalid combination leaves all three unchanged.
    * ``outputs``: the ``Output`` widgets the figures and the table are shown in.
    """

    def __init__(self, preset: str = "chapter_example"):
        if preset not in PRESETS:
            raise ValueError(f"preset={preset!r}: use one of {sorted(PRESETS)}.")
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
        self.outputs = {name: widgets.Output() for name in ("hourglass", "breakdown", "table")}
        self.outputs["table"].layout = widgets.Layout(max_height="360px", overflow="auto")
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
            attention_resolutions=parse_ints("attention_resolutions", c["attention_resolutions"].value),
            topology=c["topology"].value,
        )

    def update(self) -> None:
        """Redraw from the controls; an invalid combination shows its message and keeps the last figures."""
        try:
            config = self.config_from_controls()
            state = explorer_state(config)
        except ValueError as error:
            self.message.value = (
                f'<span style="color: {ERROR_COLOR}; font-size: 16px">❌ Not a valid configuration: '
                f"{html.escape(str(error))} (the figures below still show the last valid configuration)</span>"
            )
            return
        self.config = config
        self.figures = {"hourglass": state["hourglass"], "breakdown": state["breakdown"]}
        self.table = state["table"]
        self.message.value = (f'<span style="font-size: 16px">✔ {format_count(state["parameters"])} parameters, '
                              f"{len(cached_trace(config))} blocks</span>")
        self._select_matching_preset(config)
        for name, figure in self.figures.items():
            with self.outputs[name]:
                self.outputs[name].clear_output(wait=True)
                display(figure)
        with self.outputs["table"]:
            self.outputs["table"].clear_output(wait=True)
            print(self.table)

    def _select_matching_preset(self, config: UNetConfig) -> None:
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
    valid pictures; nothing is raised into the notebook. See :class:`UNetExplorer` for the attributes
    tests and notebooks can use (``controls``, ``message``, ``figures``, ``table``, ``config``).

    Args:
        preset: the preset shown first, a key of ``PRESETS``.
    """
    return UNetExplorer(preset)


def _display_data(figure: Figure | go.Figure) -> dict:
    """One notebook output holding ``figure``: plotly as its JSON mimetype, matplotlib as a PNG."""
    if isinstance(figure, go.Figure):
        data = figure._repr_mimebundle_()  # plotly JSON; JupyterLab draws it with its bundled plotly.js
    else:
        png = io.BytesIO()
        figure.savefig(png, format="png", bbox_inches="tight")
        plt.close(figure)  # shown once, in the Output only
        data = {"image/png": base64.b64encode(png.getvalue()).decode(), "text/plain": repr(figure)}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _redraw(output: widgets.Output, build: Callable[[], Figure | go.Figure]) -> None:
    """Replace what ``output`` shows with the figure ``build()`` returns, or with its error message.

    Setting ``output.outputs`` (instead of ``with output: display(...)``) works the same inside a kernel
    and in a plain Python process, so the explorers are tested without a notebook; the old figure is
    replaced in one step, without a blank flash.
    """
    try:
        output.outputs = (_display_data(build()),)
    except ValueError as error:  # an invalid combination is shown in the widget, never raised
        output.outputs = ({"output_type": "stream", "name": "stdout", "text": f"⚠️ {error}\n"},)


# Lesson 02: time embedding

def time_embedding_explorer(dim: int = 128) -> widgets.VBox:
    """Slider for ``t`` and a switch for ``freq_shift`` -> the sinusoidal embedding vector of ``t``.

    Args:
        dim: embedding size (the UNet's ``base_channels``).
    """
    t = widgets.IntSlider(value=500, min=0, max=999, description="t", continuous_update=False,
                          layout=widgets.Layout(width="600px"))
    freq_shift = widgets.ToggleButtons(options=[("chapter (0)", 0), ("DDPM paper (1)", 1)], value=0,
                                       description="freq_shift")
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: embedding_vector_figure(t.value, dim, freq_shift.value))

    for control in (t, freq_shift):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([t, freq_shift]), output])


def time_response_explorer(block: nn.Module, time_embed: TimeEmbedding, x: torch.Tensor) -> widgets.VBox:
    """Sliders for two timesteps -> the same input through the same ResBlock at both, and the difference.

    Args:
        block: a ResBlock (``block(x, time_emb)``).
        time_embed: maps timesteps to the block's ``time_emb``.
        x: [1, C, H, W] input feature map.
    """
    t = widgets.IntSlider(value=500, min=0, max=999, description="t", continuous_update=False)
    reference = widgets.IntSlider(value=0, min=0, max=999, description="compare with",
                                  continuous_update=False, style={"description_width": "initial"})
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: time_response_figure(block, time_embed, x, t.value, reference.value))

    for control in (t, reference):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([t, reference]), output])


# Lesson 03: attention

def attention_explorer(image: torch.Tensor, weights: torch.Tensor) -> widgets.VBox:
    """Sliders for the query pixel (x, y) and the head -> that pixel's attention map over the image.

    Args:
        image: [1, 3, H_img, W_img] photo in [-1, 1], shown under the query marker.
        weights: [1, heads, H*W, H*W] from :meth:`AttentionBlock.attention_weights` (square map).
    """
    heads, tokens = weights.shape[1], weights.shape[-1]
    side = round(tokens ** 0.5)
    query_x = widgets.IntSlider(value=side // 2, min=0, max=side - 1, description="query x",
                                continuous_update=False)
    query_y = widgets.IntSlider(value=side // 3, min=0, max=side - 1, description="query y",
                                continuous_update=False)
    head = widgets.IntSlider(value=0, min=0, max=heads - 1, description="head", continuous_update=False,
                             disabled=heads == 1)
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: attention_map_figure(image, weights, query_x.value, query_y.value, head.value))

    for control in (query_x, query_y, head):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([query_x, query_y, head]), output])
