"""Explorers of how training starts and goes: initialization (lesson 06), a progress bar and the denoising
explorer (lesson 07).

Each wires a few controls to one builder of ``unet_lessons.viz`` and returns the container; an invalid
choice shows its message in the widget (:func:`unet_lessons.viz.widgets.redraw`).
"""

from collections.abc import Callable

import ipywidgets as widgets
import torch
from torch import nn

from unet_lessons.configs import UNetConfig, as_config
from unet_lessons.init import INIT_SCHEMES, compare_init_schemes
from unet_lessons.training import NoiseSchedule, check_count
from unet_lessons.viz._common import check_one_image, check_schedule, check_unet
from unet_lessons.viz.init_stats import activation_std_figure, gradient_norm_figure
from unet_lessons.viz.training import denoising_figure
from unet_lessons.viz.widgets import figure_area, redraw

# Lesson 06: initialization

def init_explorer(config: UNetConfig, base_channel_choices: tuple[int, ...] = (32, 64)) -> widgets.VBox:
    """Compare init schemes on a small UNet: tick schemes, move the timestep, change the width, take a
    few Adam steps; the activation-std and gradient-norm figures are measured again on every change.

    Args:
        config: the small model to measure; ``base_channels`` is replaced by the chosen width.
        base_channel_choices: widths offered (each must be divisible by ``config.groups``), ``config``'s among them.
    """
    config = as_config(config)
    if not isinstance(base_channel_choices, (tuple, list)) or config.base_channels not in base_channel_choices:
        raise ValueError(f"base_channel_choices={base_channel_choices!r}: a tuple of widths that includes "
                         f"config.base_channels={config.base_channels}, e.g. ({config.base_channels}, "
                         f"{2 * config.base_channels}).")
    for width in base_channel_choices:
        try:
            config.replace(base_channels=width).validate()
        except ValueError as error:
            raise ValueError(f"base_channel_choices={base_channel_choices!r}: {error}") from None
    scheme_boxes = {scheme: widgets.Checkbox(value=True, description=label, indent=False)
                    for scheme, label in INIT_SCHEMES.items()}
    timestep = widgets.IntSlider(value=500, min=0, max=999, step=1, description="timestep t",
                                 continuous_update=False, style={"description_width": "initial"})
    base_channels = widgets.Dropdown(options=list(base_channel_choices), value=config.base_channels,
                                     description="base_channels", style={"description_width": "initial"})
    steps = widgets.IntSlider(value=0, min=0, max=3, description="Adam steps first", continuous_update=False,
                              style={"description_width": "initial"})
    output = figure_area()

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
        control.observe(lambda _: redraw(output, build), names="value")
    redraw(output, build)
    return widgets.VBox([widgets.HBox(list(scheme_boxes.values()), layout=widgets.Layout(flex_flow="row wrap")),
                         widgets.HBox([timestep, base_channels, steps]), output])


# Lesson 07: does it learn?

def progress_bar(steps: int, description: str = "training") -> tuple[widgets.HBox, Callable[[int, float], None]]:
    """A progress bar for :func:`unet_lessons.training.train`: returns the widget and its ``on_step``.

    ``on_step(step, loss)`` moves the bar and shows the step's loss; pass it to ``train``.
    """
    check_count(steps, "steps", 1)
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
    check_unet(model)
    check_schedule(schedule)
    check_one_image(x0, "x0", model.config.in_channels, model.config.image_size)
    t = widgets.IntSlider(value=250, min=0, max=schedule.num_steps - 1, description="t", continuous_update=False)
    seed = widgets.IntSlider(value=0, min=0, max=9, description="noise seed", continuous_update=False,
                             style={"description_width": "initial"})
    output = figure_area()

    def update(_=None):
        redraw(output, lambda: denoising_figure(model, x0, schedule, (t.value,), seed.value))

    for control in (t, seed):
        control.observe(update, names="value")
    update()
    return widgets.VBox([widgets.HBox([t, seed]), output])
