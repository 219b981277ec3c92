"""The explorers of lesson 08 (``notebooks/08_it_generates.ipynb``): walk the reverse process step by step,
and draw samples with any sampler, number of steps, guidance scale and seed.

Thin layers over :mod:`unet_lessons.sampling` and the builders of :mod:`unet_lessons.viz.generation`; an
invalid choice shows its message in the widget (:func:`unet_lessons.viz.widgets.redraw`), never a traceback.
"""

import operator

import ipywidgets as widgets
import torch
from torch import nn

from unet_lessons.sampling import ancestral_sample, ddim_sample
from unet_lessons.training import NoiseSchedule, check_count
from unet_lessons.viz._common import check_schedule, check_unet
from unet_lessons.viz.generation import image_row_figure, trajectory_figure
from unet_lessons.viz.widgets import figure_area, redraw

_STYLE = {"description_width": "initial"}
# The sampler explorer's seed box takes any seed a browser holds exactly (a JavaScript number is a float64):
# a larger one would reach the kernel rounded, a different seed than the one typed.
LARGEST_SEED = 2**53 - 1


def _check_class(model: nn.Module, schedule: NoiseSchedule, label: int) -> None:
    """A ``ValueError`` naming the argument unless ``model`` is a class-conditional UNet, ``schedule`` a schedule
    and ``label`` one of the model's classes."""
    check_unet(model)
    check_schedule(schedule)
    classes = model.config.num_classes
    if classes is None:
        raise ValueError("model: this UNet is unconditional (num_classes=None); drawing a class needs a "
                         "class-conditional one, such as load_course_model()'s.")
    try:
        valid = 0 <= operator.index(label) < classes
    except TypeError:  # a float, a string, a tensor of several labels
        valid = False
    if not valid:
        raise ValueError(f"label={label!r}: a class of this model, an int in 0..{classes - 1} (the class's index in "
                         "its list of names).")


def record_trajectory(model: nn.Module, schedule: NoiseSchedule, label: int, num_steps: int = 50,
                      guidance_scale: float = 2.0, seed: int = 0) -> list[tuple[int, torch.Tensor, torch.Tensor]]:
    """One DDIM run (eta = 0) of a single image of class ``label``: ``(t, x_t, predicted x_0)`` at every step."""
    _check_class(model, schedule, label)
    frames: list[tuple[int, torch.Tensor, torch.Tensor]] = []
    size = model.config.image_size
    ddim_sample(model, schedule, (1, model.config.in_channels, size, size), num_steps=num_steps,
                y=torch.tensor([operator.index(label)]), guidance_scale=guidance_scale, seed=seed,
                on_step=lambda i, t, x_t, x0: frames.append((t, x_t[0].clone(), x0[0].clone())))
    return frames


def trajectory_explorer(frames: list[tuple[int, torch.Tensor, torch.Tensor]], title: str) -> widgets.VBox:
    """A slider over the steps of a recorded run (:func:`record_trajectory`) -> x_t and the x_0 guess there."""
    listed = isinstance(frames, (list, tuple))
    if not listed or not frames or not all(isinstance(frame, tuple) and len(frame) == 3 for frame in frames):
        got = (type(frames).__name__ if not listed else "an empty list" if not frames
               else f"a {type(frames).__name__} of {type(frames[0]).__name__}")
        raise ValueError(f"frames: the list of (t, x_t, predicted x_0) that record_trajectory(model, schedule, label) "
                         f"returns, at least one; got {got}.")
    step = widgets.IntSlider(value=0, min=0, max=len(frames) - 1, description="step", continuous_update=False,
                             layout=widgets.Layout(width="500px"))
    output = figure_area()

    def update(_=None):
        t, x_t, x0 = frames[step.value]
        redraw(output, lambda: trajectory_figure([(t, x_t, x0)], f"{title}\nstep {step.value + 1} of {len(frames)}"))

    step.observe(update, names="value")
    update()
    return widgets.VBox([step, output])


def sampler_explorer(model: nn.Module, schedule: NoiseSchedule, class_names: tuple[str, ...],
                     label: int = 0, batch: int = 8) -> widgets.VBox:
    """Pick a class, a sampler, its steps, eta (DDIM), the guidance scale and a seed; ``batch`` samples are
    drawn again on every change, with a progress bar.

    Args:
        model: a class-conditional UNet (the course model).
        schedule: its noise schedule.
        class_names: one name per class, by label.
        label: the class shown first.
        batch: images drawn per change.
    """
    _check_class(model, schedule, label)
    classes = model.config.num_classes
    if isinstance(class_names, str) or not isinstance(class_names, (tuple, list)) or len(class_names) != classes:
        got = f"{len(class_names)} names" if isinstance(class_names, (tuple, list)) else type(class_names).__name__
        raise ValueError(f"class_names: one name per class of the model, {classes} names (e.g. "
                         f"FASHION_MNIST_CLASSES); got {got}.")
    check_count(batch, "batch", 1)
    label = widgets.Dropdown(options=[(name, index) for index, name in enumerate(class_names)],
                             value=operator.index(label), description="class", style=_STYLE)
    sampler = widgets.ToggleButtons(options=["DDIM", "ancestral"], value="DDIM", description="sampler",
                                    style=_STYLE)
    most = min(100, schedule.num_steps)  # a sampler takes at most the schedule's steps
    steps = widgets.IntSlider(value=min(25, most), min=1, max=most, description="steps", continuous_update=False,
                              style=_STYLE)
    eta = widgets.FloatSlider(value=0.0, min=0.0, max=1.0, step=0.1, description="eta (DDIM)",
                              continuous_update=False, style=_STYLE)
    guidance = widgets.FloatSlider(value=2.0, min=0.0, max=8.0, step=0.5, description="guidance w",
                                   continuous_update=False, style=_STYLE)
    seed = widgets.IntText(value=0, description="seed", style=_STYLE, layout=widgets.Layout(width="220px"))
    progress = widgets.IntProgress(value=0, min=0, max=steps.value, description="sampling", style=_STYLE)
    output = figure_area()

    def build():
        if not 0 <= seed.value <= LARGEST_SEED:  # said in the widget, never clamped to another seed unseen
            raise ValueError(f"seed={seed.value} is out of range: a whole number from 0 to {LARGEST_SEED:,} "
                             "(2**53 - 1, the largest a browser holds exactly), e.g. 0, 1 or 2024.")
        if sampler.value == "ancestral" and eta.value != 0:
            raise ValueError(f"eta={eta.value:g} applies to DDIM only (the ancestral sampler always adds its own "
                             "fresh noise): set eta to 0 or choose DDIM.")
        progress.value, progress.max = 0, steps.value
        size = model.config.image_size
        options = dict(y=torch.full((batch,), label.value), guidance_scale=guidance.value, seed=seed.value,
                       on_step=lambda i, t, x_t, x0: setattr(progress, "value", i + 1))
        shape = (batch, model.config.in_channels, size, size)
        if sampler.value == "DDIM":
            images = ddim_sample(model, schedule, shape, num_steps=steps.value, eta=eta.value, **options)
        else:
            images = ancestral_sample(model, schedule, shape, num_steps=steps.value, **options)
        detail = f", eta {eta.value:g}" if sampler.value == "DDIM" else ""
        return image_row_figure(images, f"{class_names[label.value]}: {sampler.value}, {steps.value} steps{detail}, "
                                        f"w = {guidance.value:g}, seed {seed.value}")

    for control in (label, sampler, steps, eta, guidance, seed):
        control.observe(lambda _: redraw(output, build), names="value")
    redraw(output, build)
    return widgets.VBox([widgets.HBox([label, sampler, seed]), widgets.HBox([steps, eta, guidance]), progress, output])
