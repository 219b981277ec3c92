"""Figures of lesson 09 (``notebooks/09_train_your_own.ipynb``): the learner's model learning to draw (its loss
and one row of samples per class), and its samples beside their nearest training images.

Pure builders, matplotlib, greyscale images in [-1, 1]; the live view in
:mod:`unet_lessons.viz.train_your_own_widgets` redraws the first one while the model trains, in its training
thread. So the figures are made as plain ``Figure`` objects, outside pyplot's list of open figures: a
notebook cell finishing meanwhile would otherwise show (and close) a figure the thread is still drawing. A
cell that ends with one of these calls shows it once, through IPython's formatter.
"""

import torch
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from unet_lessons.training import check_images
from unet_lessons.viz._common import counted, format_image_size, format_value, thinned, titled
from unet_lessons.viz.alt_text import describe, table
from unet_lessons.viz.generation import show_image


def running_mean(values: list[float], window: int) -> list[float]:
    """The mean of each value and the ``window - 1`` before it (fewer at the start)."""
    sums, means = [0.0], []
    for i, value in enumerate(values):
        sums.append(sums[-1] + value)
        means.append((sums[-1] - sums[max(0, i + 1 - window)]) / (i + 1 - max(0, i + 1 - window)))
    return means


def learning_to_draw_figure(losses: list[float], total_steps: int, samples: torch.Tensor,
                            class_names: tuple[str, ...], title: str, smoothing: int = 25) -> Figure:
    """Left, the training loss so far on a log axis (each step faint, a running mean bold) over the whole run's
    steps; right, one row of samples per class.

    Args:
        losses: the loss of every step trained so far (may be empty: before the first step).
        total_steps: the run's length (the x axis ends there, so the learner sees how far it has come).
        samples: [classes * per_class, 1, H, W] in [-1, 1], class by class (the first ``per_class`` are class 0).
        class_names: one name per class, by label.
        title: the figure's title (say the step and how the samples were drawn).
        smoothing: window of the running mean.
    """
    check_images(samples, "samples")
    classes = len(class_names)
    if classes == 0 or len(samples) % classes:
        raise ValueError(f"samples: the same number of samples for each of the {classes} classes, class by class; "
                         f"got {len(samples)}.")
    per_class = len(samples) // classes
    fig = Figure(figsize=(5.8 + 0.72 * per_class, 7.0))  # fits a 1280x720 slide as shown
    left, right = fig.subfigures(1, 2, width_ratios=[5.8, 0.72 * per_class + 0.4])
    ax = left.add_subplot()
    if losses:
        steps = range(1, len(losses) + 1)
        ax.plot(steps, losses, color="C0", linewidth=1, alpha=0.35, label="each step")
        ax.plot(steps, running_mean(losses, smoothing), color="C0", linewidth=3, label=f"mean of {smoothing}")
        ax.legend(loc="upper right")
    else:
        ax.text(0.5, 0.5, "no step trained yet", ha="center", va="center", transform=ax.transAxes)
    ax.set_yscale("log")
    for axis in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
        axis(FuncFormatter(lambda value, _: f"{value:g}"))  # 0.2, not 2 x 10^-1
    ax.set_xlim(0, total_steps)
    ax.set_xlabel("training step")
    ax.set_ylabel("loss (log scale)")
    ax.grid(alpha=0.3, which="both")
    ax.set_title("training loss")
    grid = right.subplots(classes, per_class, squeeze=False, gridspec_kw={"hspace": 0.06, "wspace": 0.06})
    for c, name in enumerate(class_names):
        for k in range(per_class):
            show_image(grid[c][k], samples[c * per_class + k])
        grid[c][0].set_ylabel(name, fontsize=13, rotation=0, ha="right", va="center")
    for part in (left, right):
        part.subplots_adjust(top=0.86)  # room for the figure's title above the panels' titles
    right.suptitle("samples, one row per class", fontsize=15, y=0.9)
    fig.suptitle(title, fontsize=16)
    if losses:
        means = running_mean(losses, smoothing)
        curve = (f"the training loss over {counted(len(losses), 'step')} of {total_steps:,} on a log axis: "
                 f"{format_value(losses[0])} at step 1, {format_value(means[-1])} (mean of the last {smoothing}) at "
                 f"step {len(losses)}")
        rows = [(step, format_value(losses[step - 1]), format_value(means[step - 1]))
                for step in thinned(range(1, len(losses) + 1), 40)]
    else:
        curve, rows = f"an empty loss chart (no step of {total_steps:,} trained yet)", []
    alt = (f"Left, {curve}. Right, a grid of greyscale {format_image_size(samples)} samples, one row per class "
           f"({classes}: {', '.join(class_names)}), {counted(per_class, 'sample')} each.{titled(title)}")
    return describe(fig, alt, table(("training step", "loss", f"mean of {smoothing}"), rows) if rows else None)


def nearest_images_figure(samples: torch.Tensor, nearest: torch.Tensor, distances: torch.Tensor,
                          held_out_distances: torch.Tensor, title: str, shown: int = 8) -> Figure:
    """Did it copy? On top, the distance of every sample and of every held-out real image to its nearest
    training image (histograms); below, the ``shown`` samples nearest to a training image, each above that image.

    Args:
        samples: [N, 1, H, W] in [-1, 1].
        nearest: [N, 1, H, W], the training image nearest to each sample.
        distances: [N] the samples' distances to them.
        held_out_distances: [M] the same distance for real images the model never saw.
        title: the figure's title.
        shown: how many of the closest calls to show.
    """
    check_images(samples, "samples")
    check_images(nearest, "nearest")
    if nearest.shape != samples.shape or distances.shape != samples.shape[:1] or held_out_distances.dim() != 1:
        raise ValueError("nearest_images_figure: nearest must match samples' shape, distances be [N] and "
                         "held_out_distances [M] (as nearest_training_images returns).")
    shown = min(shown, len(samples))
    width = 1.35 * max(shown, 7)
    # image rows as tall as a column is wide (plus the caption), so the images stay square in a tight PNG
    fig = Figure(figsize=(width, 3.4 + 2 * (width / shown + 0.3)))
    grid = fig.add_gridspec(3, shown, height_ratios=[3.4, width / shown + 0.3, width / shown + 0.3])
    ax = fig.add_subplot(grid[0, :])
    top = float(max(distances.max(), held_out_distances.max()))
    bins = torch.linspace(0, top * 1.02, 30).numpy()
    ax.hist(held_out_distances.numpy(), bins=bins, density=True, histtype="step", linewidth=3, color="C1",
            label=f"real images it never saw ({len(held_out_distances):,})")
    ax.hist(distances.numpy(), bins=bins, density=True, histtype="step", linewidth=3, linestyle="--", color="C0",
            label=f"its samples ({len(distances):,})")
    ax.set_xlabel("distance to the nearest training image")
    ax.set_ylabel("share of images")
    ax.set_yticks([])
    ax.legend(loc="upper left")
    closest = distances.argsort()[:shown]
    for column, i in enumerate(closest.tolist()):
        for row, (image, caption) in enumerate(((samples[i], f"{distances[i]:.1f}"), (nearest[i], ""))):
            axis = fig.add_subplot(grid[1 + row, column])
            show_image(axis, image)
            axis.set_xlabel(caption, fontsize=13, labelpad=2)
            if column == 0:
                axis.set_ylabel("sample" if row == 0 else "nearest\ntraining", fontsize=12)
    fig.suptitle(title, fontsize=16)
    fig.tight_layout()
    medians = (format_value(distances.median().item()), format_value(held_out_distances.median().item()))
    alt = (f"Histograms of the distance to the nearest training image for {counted(len(distances), 'sample')} "
           f"(median {medians[0]}) and {counted(len(held_out_distances), 'real image')} the model never saw (median "
           f"{medians[1]}); below, the {shown} samples nearest to a training image, each above that image, with the "
           f"distance ({', '.join(f'{distances[i]:.1f}' for i in closest.tolist())}).{titled(title)}")
    return describe(fig, alt)


def snapshots_figure(snapshots: dict[int, torch.Tensor], class_names: tuple[str, ...], title: str) -> Figure:
    """The same samples at several training steps: one row per class (its first sample), one column per step.

    Args:
        snapshots: ``{step: samples}``, each [classes * per_class, 1, H, W] class by class, drawn from the same
            noise (as the live view keeps them in ``TrainingView.snapshots``).
        class_names: one name per class, by label.
        title: the figure's title.
    """
    if not snapshots:
        raise ValueError("snapshots: at least one {step: samples}; the view keeps one per redraw.")
    classes = len(class_names)
    steps = sorted(snapshots)
    for step in steps:
        check_images(snapshots[step], f"snapshots[{step}]")
        if len(snapshots[step]) % classes:
            raise ValueError(f"snapshots[{step}]: the same number of samples for each of the {classes} classes.")
    fig = Figure(figsize=(2.1 + 0.66 * len(steps), 0.6 * classes + 1.1))  # fits a 1280x720 slide as shown
    grid = fig.subplots(classes, len(steps), squeeze=False, gridspec_kw={"hspace": 0.06, "wspace": 0.06})
    for column, step in enumerate(steps):
        per_class = len(snapshots[step]) // classes
        grid[0][column].set_title(f"step\n{step:,}", fontsize=13)
        for c in range(classes):
            show_image(grid[c][column], snapshots[step][c * per_class])
    for c, name in enumerate(class_names):
        grid[c][0].set_ylabel(name, fontsize=13, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=16)
    alt = (f"A grid of greyscale {format_image_size(snapshots[steps[0]])} samples: one row per class "
           f"({classes}: {', '.join(class_names)}), the same sample (the same starting noise) in each column, drawn "
           f"after {', '.join(f'{step:,}' for step in steps)} training steps.{titled(title)}")
    return describe(fig, alt)
