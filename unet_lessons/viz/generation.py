"""Figures of lesson 08 (``notebooks/08_it_generates.ipynb``): samples beside real images, the reverse
process step by step, and quality against steps and guidance. Greyscale images, matplotlib (colours from
the course style's colour-blind-safe cycle, ``C0``, ``C1``, ...)."""

import matplotlib.pyplot as plt
import torch
from matplotlib.figure import Figure

from unet_lessons.training import check_images
from unet_lessons.viz._common import counted, format_image_size, titled
from unet_lessons.viz.alt_text import describe, table

_MARKERS = ("o", "s", "^", "D", "v", "P")


def show_image(ax, image: torch.Tensor) -> None:
    """One [1, H, W] image in [-1, 1], black to white, no axes."""
    ax.imshow(((image[0].detach().float() + 1) / 2).clamp(0, 1).numpy(), cmap="gray", vmin=0, vmax=1,
              interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def _check_labels(images: torch.Tensor, argument: str, labels, labels_argument: str) -> None:
    """A ValueError naming the argument unless ``images`` is [N, C, H, W] and ``labels`` is [N]."""
    check_images(images, argument)
    if not isinstance(labels, torch.Tensor) or labels.shape != images.shape[:1]:
        got = list(labels.shape) if isinstance(labels, torch.Tensor) else type(labels).__name__
        raise ValueError(f"{labels_argument} must hold one label per image of {argument}, shape [{len(images)}]; "
                         f"got {got}.")


def _two_lines(name: str) -> str:
    """'Ankle boot' -> 'Ankle\\nboot', so ten class names fit above ten columns at a projector's font size."""
    return name.replace(" ", "\n", 1).replace("/", "/\n", 1)


def class_grid_figure(samples: torch.Tensor, sample_labels: torch.Tensor, real: torch.Tensor,
                      real_labels: torch.Tensor, class_names: tuple[str, ...], title: str) -> Figure:
    """One column per class: real images of the class on top, samples generated for it below a line.

    Args:
        samples, real: [N, 1, H, W] in [-1, 1]; the same number of each class in both.
        sample_labels, real_labels: [N] class of each image.
        class_names: one name per class, by label.
        title: the figure's title (say how the samples were drawn).
    """
    _check_labels(samples, "samples", sample_labels, "sample_labels")
    _check_labels(real, "real", real_labels, "real_labels")
    columns = len(class_names)
    per_class = {name: [images[labels == c] for c in range(columns)]
                 for name, images, labels in (("real", real, real_labels), ("samples", samples, sample_labels))}
    real_rows = min(len(group) for group in per_class["real"])
    sample_rows = min(len(group) for group in per_class["samples"])
    if real_rows == 0 or sample_rows == 0:
        raise ValueError("class_grid_figure needs at least one real image and one sample of every class.")
    rows = real_rows + sample_rows
    fig, axes = plt.subplots(rows, columns, figsize=(1.05 * columns, 1.05 * rows + 1.6), squeeze=False,
                             gridspec_kw={"hspace": 0.08, "wspace": 0.08})
    for c, name in enumerate(class_names):
        axes[0][c].set_title(_two_lines(name), fontsize=14)
        for r in range(rows):
            image = per_class["real"][c][r] if r < real_rows else per_class["samples"][c][r - real_rows]
            show_image(axes[r][c], image)
    axes[0][0].set_ylabel("real", fontsize=14)
    axes[real_rows][0].set_ylabel("drawn", fontsize=14)
    for c in range(columns):  # a line between the real images and the samples
        axes[real_rows][c].spines["top"].set(color="C0", linewidth=4)
    fig.suptitle(title, fontsize=16)
    alt = (f"A grid of greyscale {format_image_size(real)} images, one column per class ({columns}: "
           f"{', '.join(class_names)}): {counted(real_rows, 'row')} of real images of the class on top, then, below a "
           f"line, {counted(sample_rows, 'row')} of samples drawn for it.{titled(title)}")
    return describe(fig, alt)


def trajectory_figure(frames: list[tuple[int, torch.Tensor, torch.Tensor]], title: str) -> Figure:
    """The reverse process of one image: x_t (top) and the model's x_0 estimate (bottom) at chosen steps.

    Args:
        frames: ``(t, x_t, predicted_x0)`` per shown step, each image [1, H, W] (or [1, 1, H, W]).
        title: the figure's title.
    """
    fig, axes = plt.subplots(2, len(frames), figsize=(max(4.2, 1.45 * len(frames) + 0.8), 4.2), squeeze=False)
    for column, (t, x_t, x0) in enumerate(frames):
        show_image(axes[0][column], x_t.reshape(x_t.shape[-3:]))
        show_image(axes[1][column], x0.reshape(x0.shape[-3:]))
        axes[0][column].set_title(f"t = {t}", fontsize=14)
    axes[0][0].set_ylabel("x_t", fontsize=14)
    axes[1][0].set_ylabel("x_0 guess", fontsize=14)
    fig.suptitle(title, fontsize=16)
    fig.tight_layout()
    alt = (f"The reverse process of one greyscale {format_image_size(frames[0][1])} image at "
           f"{counted(len(frames), 'step')} (columns, t = {', '.join(str(t) for t, _, _ in frames)}): the noisy "
           f"image x_t on top and the model's guess of the clean image x_0 below.{titled(title)}")
    return describe(fig, alt)


def quality_figure(accuracy: dict[tuple[int, float], float], real_accuracy: float, title: str) -> Figure:
    """Class accuracy of samples against the guidance scale, one line (and marker) per number of steps.

    Args:
        accuracy: ``{(steps, guidance_scale): share classified as the class asked for}``.
        real_accuracy: the classifier's accuracy on real images, drawn as a dashed line.
        title: the figure's title.
    """
    fig, ax = plt.subplots(figsize=(8, 4.8))
    lines = []
    for index, steps in enumerate(sorted({steps for steps, _ in accuracy})):
        scales = sorted(w for s, w in accuracy if s == steps)
        lines.append(f"{steps} steps: {', '.join(_percent(accuracy[steps, w]) for w in scales)} "
                     f"at w = {', '.join(f'{w:g}' for w in scales)}")
        ax.plot(scales, [100 * accuracy[steps, w] for w in scales], marker=_MARKERS[index % len(_MARKERS)],
                markersize=9, linewidth=2.5, color=f"C{index}", label=f"DDIM, {steps} steps")
    ax.axhline(100 * real_accuracy, color="black", linestyle="--", linewidth=1.5, label="real images")
    ax.set_xlabel("guidance scale w")
    ax.set_ylabel("classified as asked (%)")
    ax.set_ylim(0, 100)
    ax.grid(alpha=0.3)
    ax.legend(loc="lower right")
    ax.set_title(title)
    fig.tight_layout()
    alt = (f"Line chart of the share of samples a classifier puts in the class asked for against the guidance "
           f"scale w, one line per number of DDIM steps: {'; '.join(lines)}; real images {_percent(real_accuracy)} "
           f"(dashed line).{titled(title)}")
    rows = [(steps, f"{w:g}", _percent(accuracy[steps, w])) for steps, w in sorted(accuracy)]
    return describe(fig, alt, table(("DDIM steps", "guidance scale w", "classified as asked"), rows))


def _percent(share: float) -> str:
    """0.925 -> '92.5%'."""
    return f"{100 * share:.1f}%"


def image_row_figure(images: torch.Tensor, title: str, columns: int = 8,
                     row_labels: tuple[str, ...] | None = None) -> Figure:
    """Greyscale images [N, 1, H, W] in [-1, 1], ``columns`` per row, under a title.

    ``row_labels``: one label per row, written left of it (e.g. the guidance scale each row was drawn at).
    """
    check_images(images, "images")
    rows = -(-len(images) // columns)  # ceiling division
    if row_labels is not None and (isinstance(row_labels, str) or len(row_labels) != rows):
        got = f"{len(row_labels)} labels" if not isinstance(row_labels, str) else "a string"
        raise ValueError(f"row_labels: one label per row, {rows} for {len(images)} images in rows of {columns}; "
                         f"got {got}.")
    fig, axes = plt.subplots(rows, columns, figsize=(1.3 * columns + (0.9 if row_labels else 0), 1.3 * rows + 0.7),
                             squeeze=False)
    for index, ax in enumerate(axes.flat):
        if index < len(images):
            show_image(ax, images[index])
        else:
            ax.axis("off")
    for ax, label in zip(axes[:, 0], row_labels or ()):
        ax.set_ylabel(label, fontsize=14, rotation=0, ha="right", va="center")
    fig.suptitle(title, fontsize=16)
    fig.tight_layout()
    labelled = f", labelled {', '.join(row_labels)}" if row_labels else ""
    return describe(fig, f"A grid of {len(images)} greyscale {format_image_size(images)} images, "
                         f"{counted(rows, 'row')} of up to {columns}{labelled}.{titled(title)}")
