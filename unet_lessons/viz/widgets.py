"""Interactive explorers: thin ipywidgets layers over the pure builders of ``unet_lessons.viz``.

``unet_explorer()`` is used in ``notebooks/05_configs.ipynb`` (and wherever a lesson lets the learner change
the configuration). All the work happens in :func:`explorer_state`, a pure function of the configuration;
the widget only reads its controls, calls it, and shows the result. Figures are plain ``go.Figure``
shown inside ``ipywidgets.Output`` (``go.FigureWidget`` would store megabytes of JavaScript per widget).

The lesson explorers further down (lesson 01: ResBlocks, 02: time embedding, 03: attention, 06:
initialization, 07: denoising) are factories: each wires a few controls to one builder and returns the
container for the notebook to display.
"""

import html
from collections.abc import Callable

import ipywidgets as widgets
import matplotlib.pyplot as plt
import plotly.graph_objects as go
import torch
from IPython.display import display
from matplotlib.figure import Figure
from torch import nn

from unet_lessons.configs import PRESETS, TOPOLOGIES, UNetConfig
from unet_lessons.init import INIT_SCHEMES, compare_init_schemes
from unet_lessons.time_embedding import TimeEmbedding
from unet_lessons.training import NoiseSchedule
from unet_lessons.viz._common import cached_trace, format_count
from unet_lessons.viz.alt_text import png_output
from unet_lessons.viz.attention_maps import attention_map_figure
from unet_lessons.viz.breakdown import breakdown_figure
from unet_lessons.viz.hourglass import hourglass_figure
from unet_lessons.viz.init_stats import activation_std_figure, gradient_norm_figure
from unet_lessons.viz.resblocks import resblock_report
from unet_lessons.viz.shapes import shape_table
from unet_lessons.viz.style import ERROR_COLOR
from unet_lessons.viz.time_embedding import embedding_vector_figure, time_response_figure
from unet_lessons.viz.training import denoising_figure

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


def _display_data(item: Figure | go.Figure | str) -> dict:
    """One notebook output holding ``item``: plotly as its JSON mimetype, matplotlib as a PNG, text as text."""
    if isinstance(item, str):
        return {"output_type": "stream", "name": "stdout", "text": item + "\n"}
    if isinstance(item, go.Figure):
        # plotly JSON; JupyterLab draws it with its bundled plotly.js. (IPython's own formatter would call
        # the figure's _ipython_display_ and show it beside the widget instead of inside the Output.)
        data = item._repr_mimebundle_()
    else:
        png, metadata = png_output(item)  # with the figure's text alternative
        plt.close(item)  # shown once, in the Output only
        return {"output_type": "display_data", "data": {"image/png": png, "text/plain": repr(item)},
                "metadata": {"image/png": metadata} if metadata else {}}
    return {"output_type": "display_data", "data": data, "metadata": {}}


def _redraw(output: widgets.Output, build: Callable[[], object]) -> None:
    """Replace what ``output`` shows with what ``build()`` returns (a figure, a text, or a list of them),
    or with its error message.

    Setting ``output.outputs`` (instead of ``with output: display(...)``) works the same inside a kernel
    and in a plain Python process, so the explorers are tested without a notebook; the old view stays up
    while ``build()`` runs and is replaced in one step, without a blank flash.
    """
    try:
        shown = build()
        output.outputs = tuple(_display_data(item) for item in (shown if isinstance(shown, list) else [shown]))
    except ValueError as error:  # an invalid combination is shown in the widget, never raised
        output.outputs = ({"output_type": "stream", "name": "stdout", "text": f"⚠️ {error}\n"},)


# Lesson 01: ResBlocks

_CHANNEL_CHOICES = [16, 24, 32, 48, 64, 96, 128, 256]
_GROUP_CHOICES = [1, 2, 4, 8, 16, 32]


def resblock_explorer(image: torch.Tensor, in_channels: int = 64, out_channels: int = 128,
                      groups: int = 32) -> widgets.VBox:
    """Pick a ResBlock's channels and groups; see its shortcut, its parameters term by term and its
    output on ``image`` (text from :func:`unet_lessons.viz.resblocks.resblock_report`).

    Channels that ``groups`` does not divide show ResBlock's ``ValueError`` message in the widget.

    Args:
        image: the photo, [1, 3, H, W].
        in_channels, out_channels, groups: the starting values of the controls.
    """
    style = {"description_width": "110px"}
    in_control = widgets.Dropdown(options=_CHANNEL_CHOICES, value=in_channels, description="in_channels",
                                  style=style)
    out_control = widgets.Dropdown(options=_CHANNEL_CHOICES, value=out_channels, description="out_channels",
                                   style=style)
    groups_control = widgets.Dropdown(options=_GROUP_CHOICES, value=groups, description="groups", style=style)
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: resblock_report(in_control.value, out_control.value, groups_control.value, image))

    for control in (in_control, out_control, groups_control):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([in_control, out_control, groups_control]), output])


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


# Lesson 06: initialization

def init_explorer(config: UNetConfig, base_channel_choices: tuple[int, ...] = (32, 64)) -> widgets.VBox:
    """Compare init schemes on a small UNet: tick schemes, move the timestep, change the width, take a
    few Adam steps; the activation-std and gradient-norm figures are measured again on every change.

    Args:
        config: the small model to measure; ``base_channels`` is replaced by the chosen width.
        base_channel_choices: widths offered (each must be divisible by ``config.groups``).
    """
    scheme_boxes = {scheme: widgets.Checkbox(value=True, description=label, indent=False)
                    for scheme, label in INIT_SCHEMES.items()}
    timestep = widgets.IntSlider(value=500, min=0, max=999, step=1, description="timestep t",
                                 continuous_update=False, style={"description_width": "initial"})
    base_channels = widgets.Dropdown(options=list(base_channel_choices), value=config.base_channels,
                                     description="base_channels", style={"description_width": "initial"})
    steps = widgets.IntSlider(value=0, min=0, max=3, description="Adam steps first", continuous_update=False,
                              style={"description_width": "initial"})
    output = widgets.Output()

    def build():
        schemes = tuple(scheme for scheme, box in scheme_boxes.items() if box.value)
        if not schemes:
            raise ValueError("No scheme ticked: tick at least one init scheme to measure.")
        model_config = config.replace(base_channels=base_channels.value).validate()
        results = compare_init_schemes(model_config, schemes, timestep=timestep.value,
                                       optimizer_steps=steps.value)
        after = f"after {steps.value} Adam step(s)" if steps.value else "at initialization"
        losses = "   ".join(f"{INIT_SCHEMES[s]}: {m.loss:.4f}" for s, m in results.items())
        return [
            f"loss {after}, t = {timestep.value}:  {losses}",
            activation_std_figure({INIT_SCHEMES[s]: m.activation_stds for s, m in results.items()},
                                  model_config, title=f"Activation std through the depth, {after}"),
            gradient_norm_figure({INIT_SCHEMES[s]: m.gradient_norms for s, m in results.items()},
                                 model_config, title=f"Gradient norm per block, {after}"),
        ]

    for control in (*scheme_boxes.values(), timestep, base_channels, steps):
        control.observe(lambda _: _redraw(output, build), names="value")
    _redraw(output, build)
    return widgets.VBox([widgets.HBox(list(scheme_boxes.values())),
                         widgets.HBox([timestep, base_channels, steps]), output])


# Lesson 07: does it learn?

def progress_bar(steps: int, description: str = "training") -> tuple[widgets.HBox, Callable[[int, float], None]]:
    """A progress bar for :func:`unet_lessons.training.train`: returns the widget and its ``on_step``.

    ``on_step(step, loss)`` moves the bar and shows the step's loss; pass it to ``train``.
    """
    bar = widgets.IntProgress(value=0, min=0, max=steps, description=description,
                              style={"description_width": "initial"})
    label = widgets.Label()

    def on_step(step: int, loss: float) -> None:
        bar.value = step + 1
        label.value = f"step {step + 1}/{steps}, loss {loss:.3f}"

    return widgets.HBox([bar, label]), on_step


def denoising_explorer(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule) -> widgets.VBox:
    """A slider for t -> x_t, the true noise, the model's predicted noise and the implied x_0 estimate.

    Args:
        model: a (trained) UNet that predicts noise.
        x0: [1, 3, H, W] clean image in [-1, 1].
        schedule: the noise schedule the model was trained with.
    """
    t = widgets.IntSlider(value=250, min=0, max=schedule.num_steps - 1, description="t", continuous_update=False)
    seed = widgets.IntSlider(value=0, min=0, max=9, description="noise seed", continuous_update=False,
                             style={"description_width": "initial"})
    output = widgets.Output()

    def update(_=None):
        _redraw(output, lambda: denoising_figure(model, x0, schedule, (t.value,), seed.value))

    for control in (t, seed):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([t, seed]), output])
