"""Thin ipywidgets factories that wire controls to the figure builders; each returns the container for the notebook to display."""

from collections.abc import Callable

import ipywidgets as widgets
import torch

from unet_lessons.configs import UNetConfig
from unet_lessons.init import INIT_SCHEMES, compare_init_schemes
from unet_lessons.viz.init_stats import activation_std_figure, gradient_norm_figure
from unet_lessons.viz.resblocks import resblock_report


def _show(output: widgets.Output, build: Callable[[], object]) -> None:
    """Replace what ``output`` shows with what ``build()`` returns: text, a plotly figure, or a list of them.

    The new content is computed first and swapped in at once, so the previous view stays up while a
    measurement runs. A ``ValueError`` (an invalid combination of controls) is shown as its message, never
    raised. Writing ``output.outputs`` directly works the same in a kernel and in a plain Python process,
    so the explorers can be tested without a notebook.
    """
    try:
        shown = build()
    except ValueError as error:
        shown = f"⚠️ {error}"
    output.outputs = tuple(_as_output(item) for item in (shown if isinstance(shown, list) else [shown]))


def _as_output(item: object) -> dict:
    """One entry of ``Output.outputs`` for a string or a plotly figure."""
    if isinstance(item, str):
        return {"output_type": "stream", "name": "stdout", "text": item + "\n"}
    # A plotly figure brings its own bundle. (IPython's formatter would call the figure's
    # _ipython_display_, which shows it beside the widget instead of inside the Output.)
    return {"output_type": "display_data", "data": item._repr_mimebundle_(), "metadata": {}}


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
        _show(output, lambda: resblock_report(in_control.value, out_control.value, groups_control.value, image))

    for control in (in_control, out_control, groups_control):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([in_control, out_control, groups_control]), output])


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
        control.observe(lambda _: _show(output, build), names="value")
    _show(output, build)
    return widgets.VBox([widgets.HBox(list(scheme_boxes.values())),
                         widgets.HBox([timestep, base_channels, steps]), output])
