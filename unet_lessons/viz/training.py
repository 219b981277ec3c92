"""Figures for ``notebooks/07_does_it_learn.ipynb``: the forward process, loss curves, denoising, samples.

Pure builders: each takes tensors (and a model where it must run one) and returns a figure; nothing is
displayed here.
"""

import matplotlib.pyplot as plt
import plotly.graph_objects as go
import torch
from matplotlib.figure import Figure
from torch import nn

from unet_lessons.data import to_displayable
from unet_lessons.training import NoiseSchedule, predict_x0, q_sample
from unet_lessons.viz._common import counted, format_image_size, format_value, rounded, thinned, titled
from unet_lessons.viz.alt_text import describe, table
from unet_lessons.viz.style import PALETTE

# Losses from 1 (the zero-noise baseline) down to a few hundredths: a log axis from 0.01 to 1.5
LOSS_AXIS = dict(type="log", range=[-2, 0.18], tickvals=[0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1],
                 ticktext=["0.01", "0.02", "0.05", "0.1", "0.2", "0.5", "1"])
LOSS_LEGEND = dict(x=0.02, y=0.03, xanchor="left", yanchor="bottom")  # bottom left, where the curves are not

NOISE_DISPLAY_SCALE = 2.0  # noise has std 1: divide by 2 so +-2 std fills the [-1, 1] display range
BASELINE_LABEL = "predict zero noise (MSE 1.0)"


def forward_process_figure(images: torch.Tensor, schedule: NoiseSchedule,
                           timesteps: tuple[int, ...] = (0, 50, 100, 250, 500, 999), seed: int = 0) -> Figure:
    """Each image (one row) noised to several steps (columns), titled with the signal left.

    Args:
        images: [N, 3, H, W] in [-1, 1].
        schedule: the noise schedule.
        timesteps: the steps to show.
        seed: seed of the noise (one noise image per row, shared along the row).
    """
    noise = torch.randn(images.shape, generator=torch.Generator().manual_seed(seed))
    signals = [f"{schedule.alpha_bars[t].sqrt():.2f}" for t in timesteps]
    fig, axes = plt.subplots(len(images), len(timesteps), figsize=(2.4 * len(timesteps), 2.5 * len(images) + 0.4),
                             squeeze=False)
    for row, (image, image_noise) in enumerate(zip(images, noise)):
        for ax, t, signal in zip(axes[row], timesteps, signals):
            x_t = q_sample(image[None], torch.tensor([t]), image_noise[None], schedule)
            ax.imshow(to_displayable(x_t), interpolation="nearest")
            if row == 0:
                ax.set_title(f"t = {t}\nsignal {signal}")
            ax.axis("off")
    fig.tight_layout()
    steps = ", ".join(f"t = {t} (signal {signal})" for t, signal in zip(timesteps, signals))
    alt = (f"A grid of {counted(len(images), f'{format_image_size(images)} training image')} (rows), each noised "
           f"to {counted(len(timesteps), 'step')} of the forward process (columns), with the share of the clean image "
           f"left: {steps}. One seeded noise image per row (seed {seed}).")
    return describe(fig, alt, table(("timestep t", "signal left"), list(zip(timesteps, signals))))


def loss_curve_figure(history: list[float], held_out: dict[int, float] | None = None,
                      smoothing: int = 10) -> go.Figure:
    """Training loss per step (raw and a running mean), held-out loss at checkpoints, and the baseline.

    Args:
        history: the loss of every step, as returned by :func:`unet_lessons.training.train`.
        held_out: ``{steps done: held-out loss}`` (step 0 = before training).
        smoothing: window of the running mean.
    """
    if not history:
        raise ValueError("history is empty: pass the list of losses train() returned (one per step).")
    steps = list(range(1, len(history) + 1))
    running = [sum(history[max(0, i + 1 - smoothing):i + 1]) / len(history[max(0, i + 1 - smoothing):i + 1])
               for i in range(len(history))]
    fig = go.Figure([
        go.Scatter(x=steps, y=rounded(history), mode="lines", name="training loss (each batch)",
                   line=dict(color=PALETTE[0], width=1), opacity=0.6),
        go.Scatter(x=steps, y=rounded(running), mode="lines", name=f"training loss (mean of {smoothing})",
                   line=dict(color=PALETTE[0], width=3)),
    ])
    if held_out:
        fig.add_trace(go.Scatter(x=list(held_out), y=rounded(held_out.values()), mode="lines+markers",
                                 name="held-out loss", line=dict(color=PALETTE[1], width=3, dash="dot"),
                                 marker=dict(size=10, symbol="diamond")))
    fig.update_layout(title="Noise-prediction loss (MSE) while training", xaxis_title="training step",
                      yaxis_title="MSE (log scale)", legend=LOSS_LEGEND)
    alt = (f"Line chart, on a log axis, of the training loss (MSE of the predicted noise) over {len(history)} "
           f"steps, each batch and the mean of the last {smoothing}: {format_value(history[0])} at step 1, "
           f"{format_value(history[-1])} at the end (mean {format_value(running[-1])})")
    if held_out:
        alt += (f"; held-out loss {format_value(held_out[min(held_out)])} at step {min(held_out)}, "
                f"{format_value(held_out[max(held_out)])} at step {max(held_out)}")
    alt += f". A dashed line marks the baseline, {BASELINE_LABEL}."
    held = held_out or {}
    rows = []
    for step in sorted(set(thinned(steps)) | set(held)):  # held-out step 0 comes before any training step
        trained = ((format_value(history[step - 1]), format_value(running[step - 1])) if 1 <= step <= len(history)
                   else ("", ""))
        rows.append((step, *trained, format_value(held[step]) if step in held else ""))
    return describe(_on_loss_axis(fig), alt, table(
        ("training step", "training loss", f"mean of {smoothing}", "held-out loss"), rows))


def held_out_curves_figure(runs: dict[str, dict[int, float]], title: str) -> go.Figure:
    """Held-out loss against training steps for several runs; each legend entry ends with the last value.

    On a log scale, where losses of 0.03 and 0.05 lie apart; the first run's line is the widest and each
    later one is thinner and dashed, so a curve drawn on top of another leaves it visible.

    Args:
        runs: name -> ``{steps done: held-out loss}`` (as in :class:`unet_lessons.training.TrainingRun`).
        title: the figure's title.
    """
    symbols = ("circle", "diamond", "square", "triangle-up", "x")
    dashes = ("solid", "dash", "dot", "dashdot", "longdash")
    fig = go.Figure()
    for i, (name, held_out) in enumerate(runs.items()):
        last_step, last_loss = max(held_out), held_out[max(held_out)]
        fig.add_trace(go.Scatter(
            x=list(held_out), y=rounded(held_out.values()), mode="lines+markers",
            name=f"{name}: {last_loss:.3f} at step {last_step}",
            line=dict(color=PALETTE[i % len(PALETTE)], width=max(3, 6 - 1.5 * i), dash=dashes[i % len(dashes)]),
            marker=dict(size=max(7, 12 - 2 * i), symbol=symbols[i % len(symbols)])))
    fig.update_layout(title=title, xaxis_title="training step", yaxis_title="held-out MSE (log scale)",
                      legend=LOSS_LEGEND)
    ends = "; ".join(f"{name}: {format_value(held_out[min(held_out)])} at step {min(held_out)}, "
                     f"{format_value(held_out[max(held_out)])} at step {max(held_out)}"
                     for name, held_out in runs.items())
    alt = (f"Line chart, on a log axis, of the held-out loss (MSE of the predicted noise) against training steps for "
           f"{counted(len(runs), 'run')}: {ends}. A dashed line marks the baseline, {BASELINE_LABEL}.{titled(title)}")
    steps = sorted({step for held_out in runs.values() for step in held_out})
    rows = [(step, *(format_value(held_out[step]) if step in held_out else "" for held_out in runs.values()))
            for step in thinned(steps)]
    return describe(_on_loss_axis(fig), alt, table(("training step", *runs), rows))


def _on_loss_axis(fig: go.Figure) -> go.Figure:
    """The log loss axis and the zero-noise baseline at 1, labelled (a log axis places annotations by log10)."""
    fig.add_hline(y=1.0, line=dict(color="gray", dash="dash", width=2))
    fig.add_annotation(text=BASELINE_LABEL, x=1, xref="paper", xanchor="right", y=0, yref="y", yanchor="bottom",
                       showarrow=False)
    fig.update_yaxes(**LOSS_AXIS)
    return fig


@torch.no_grad()
def denoising_figure(model: nn.Module, x0: torch.Tensor, schedule: NoiseSchedule,
                     timesteps: tuple[int, ...] = (50, 250, 500, 750), seed: int = 0) -> Figure:
    """One row per step: x_0, x_t, the true noise, the model's predicted noise, and the implied x_0 estimate.

    Args:
        model: a UNet that predicts noise.
        x0: [1, 3, H, W] clean image in [-1, 1].
        schedule: the noise schedule the model was trained with.
        timesteps: the steps to show.
        seed: seed of the noise (the same noise at every step).
    """
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    model.eval()
    columns = ("clean x₀", "noisy x_t", "true noise", "predicted noise", "x₀ estimate")
    fig, axes = plt.subplots(len(timesteps), len(columns), figsize=(2.3 * len(columns), 1.65 * len(timesteps) + 0.55),
                             squeeze=False)
    errors = []
    for row, t in enumerate(timesteps):
        x_t, predicted, estimate = _denoise(model, x0, t, noise, schedule)
        error = (predicted - noise).pow(2).mean().item()
        errors.append(f"{error:.3f}")
        panels = (x0, x_t, noise / NOISE_DISPLAY_SCALE, predicted / NOISE_DISPLAY_SCALE, estimate)
        for ax, image, name in zip(axes[row], panels, columns):
            ax.imshow(to_displayable(image), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            if row == 0:
                ax.set_title(name)
        axes[row][0].set_ylabel(f"t = {t}")
        axes[row][3].set_xlabel(f"MSE {errors[-1]}")
    fig.tight_layout()
    scores = ", ".join(f"{error} at t = {t}" for t, error in zip(timesteps, errors))
    alt = (f"A grid of {counted(len(timesteps), 'row')}, one per timestep, and {len(columns)} columns "
           f"({', '.join(columns)}) for one {format_image_size(x0)} image: what the model is given and what it "
           f"predicts. The mean squared error of the predicted noise against the true noise is {scores}.")
    return describe(fig, alt, table(("timestep t", "noise MSE"), list(zip(timesteps, errors))))


@torch.no_grad()
def estimates_figure(models: dict[str, nn.Module], x0: torch.Tensor, schedule: NoiseSchedule, t: int = 250,
                     seed: int = 0) -> Figure:
    """One noisy image and each model's estimate of the clean image from it, side by side.

    Args:
        models: name -> a UNet that predicts noise.
        x0: [1, 3, H, W] clean image in [-1, 1].
        schedule: the noise schedule the models were trained with.
        t: the step of the noisy image.
        seed: seed of the noise.
    """
    noise = torch.randn(x0.shape, generator=torch.Generator().manual_seed(seed))
    panels = [("clean x₀", x0, ""), (f"noisy x_t (t = {t})", q_sample(x0, torch.tensor([t]), noise, schedule), "")]
    errors = {}
    for name, model in models.items():
        model.eval()
        _, predicted, estimate = _denoise(model, x0, t, noise, schedule)
        errors[name] = f"{(predicted - noise).pow(2).mean().item():.3f}"
        panels.append((f"{name}:\nx₀ estimate", estimate, f"noise MSE {errors[name]}"))
    fig, axes = plt.subplots(1, len(panels), figsize=(2.7 * len(panels), 3.4), squeeze=False)
    for ax, (title, image, label) in zip(axes[0], panels):
        ax.imshow(to_displayable(image), interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel(label)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    estimates = "; ".join(f"{name} (noise MSE {error})" for name, error in errors.items())
    alt = (f"One {format_image_size(x0)} image, clean and noised to t = {t}, then the estimate of the clean image "
           f"from the noisy one by each of {counted(len(models), 'model')}, side by side: {estimates}.")
    return describe(fig, alt, table(("model", "noise MSE"), list(errors.items())))


def _denoise(model: nn.Module, x0: torch.Tensor, t: int, noise: torch.Tensor,
             schedule: NoiseSchedule) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Noise ``x0`` to step t, ask ``model`` for the noise: returns x_t, the predicted noise, the x_0 estimate."""
    t_batch = torch.tensor([t])
    x_t = q_sample(x0, t_batch, noise, schedule)
    predicted = model(x_t, t_batch)
    return x_t, predicted, predict_x0(x_t, t_batch, predicted, schedule)


def image_grid_figure(images: torch.Tensor, columns: int = 8, title: str | None = None) -> Figure:
    """Images in a grid, ``columns`` per row.

    Args:
        images: [N, 3, H, W] in [-1, 1].
        columns: images per row.
        title: the figure's title.
    """
    rows = -(-len(images) // columns)  # ceiling division
    fig, axes = plt.subplots(rows, columns, figsize=(1.9 * columns, 1.9 * rows + (0.5 if title else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        if i < len(images):
            ax.imshow(to_displayable(images[i]), interpolation="nearest")
        ax.axis("off")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    alt = (f"A grid of {len(images)} colour {format_image_size(images)} images, {counted(rows, 'row')} of up to "
           f"{columns}.{titled(title)}")
    return describe(fig, alt)


def samples_figure(samples: torch.Tensor, training_images: torch.Tensor, num_steps: int) -> Figure:
    """Generated samples (top row) above training images (bottom row)."""
    columns = max(len(samples), len(training_images))
    fig, axes = plt.subplots(2, columns, figsize=(2.2 * columns, 5.0), squeeze=False)
    for row, (images, label) in enumerate(((samples, f"sampled\n({num_steps} steps)"), (training_images, "training\nimages"))):
        for column, ax in enumerate(axes[row]):
            if column < len(images):
                ax.imshow(to_displayable(images[column]), interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            ax.spines[:].set_visible(column < len(images))
        axes[row][0].set_ylabel(label)
    fig.tight_layout()
    alt = (f"Two rows of colour {format_image_size(samples)} images: {counted(len(samples), 'sample')} generated in "
           f"{counted(num_steps, 'sampling step')} (top) above {counted(len(training_images), 'training image')} "
           f"(bottom).")
    return describe(fig, alt)
