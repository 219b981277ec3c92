"""Figures for ``notebooks/02_time_embedding.ipynb``: noise levels, sinusoidal embeddings, their
similarity, and how a ResBlock's output moves with the timestep."""

import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
import torch
from matplotlib.figure import Figure
from torch import nn

from unet_lessons.data import to_displayable
from unet_lessons.time_embedding import (
    TimeEmbedding,
    embedding_frequencies,
    embedding_similarity,
    noisy_image,
    signal_fraction,
    sinusoidal_embedding,
)
from unet_lessons.viz._common import counted, format_image_size, format_value, thinned
from unet_lessons.viz.alt_text import describe, table
from unet_lessons.viz.style import CONTINUOUS_SCALE, DIVERGING_CMAP, MATPLOTLIB_CMAP, PALETTE

FREQ_SHIFT_NAMES = {0: "chapter (freq_shift=0)", 1: "DDPM paper (freq_shift=1)"}


def noisy_photos_figure(photo: torch.Tensor, timesteps: tuple[int, ...] = (0, 250, 500, 750, 999),
                        seed: int = 0) -> Figure:
    """The same photo at several steps of DDPM's noise schedule, titled with the signal left.

    Args:
        photo: [1, 3, H, W] in [-1, 1].
        timesteps: the steps to show, each in 0..999.
        seed: seed of the noise (one noise image, shared by every panel).
    """
    noise = torch.randn(photo.shape, generator=torch.Generator().manual_seed(seed))
    fractions = signal_fraction(torch.tensor(timesteps))
    fig, axes = plt.subplots(1, len(timesteps), figsize=(2.6 * len(timesteps), 3.4), squeeze=False)
    for ax, t, fraction in zip(axes[0], timesteps, fractions):
        ax.imshow(to_displayable(noisy_image(photo, t, noise)), interpolation="nearest")  # the real pixels
        ax.set_title(f"t = {t}\nsignal {fraction:.2f}")
        ax.axis("off")
    fig.tight_layout()
    signals = [f"{fraction:.2f}" for fraction in fractions]
    steps = ", ".join(f"t = {t} (signal {signal})" for t, signal in zip(timesteps, signals))
    alt = (f"The same {format_image_size(photo)} photo at {counted(len(timesteps), 'step')} of DDPM's noise schedule, "
           f"side by side, with the share of the clean image left: {steps}. One noise image (seed {seed}) is shared "
           f"by every panel.")
    return describe(fig, alt, table(("timestep t", "signal left"), list(zip(timesteps, signals))))


def embedding_vector_figure(t: int, dim: int = 128, freq_shift: int = 0) -> go.Figure:
    """The ``dim`` numbers of one timestep's sinusoidal embedding: sines in the first half, cosines in the second."""
    emb = sinusoidal_embedding(torch.tensor([t]), dim, freq_shift=freq_shift)[0].numpy()
    half = dim // 2
    fig = go.Figure([
        go.Bar(x=np.arange(half), y=emb[:half], name="sin(t · f_i)", marker_color=PALETTE[0]),
        go.Bar(x=np.arange(half, dim), y=emb[half:], name="cos(t · f_i)", marker_color=PALETTE[1],
               marker_pattern_shape="/"),
    ])
    fig.update_layout(
        title=f"Sinusoidal embedding of t = {t} ({dim} numbers, {FREQ_SHIFT_NAMES.get(freq_shift, freq_shift)})",
        xaxis_title="embedding dimension (fast waves on the left of each half, slow on the right)",
        yaxis_title="value", yaxis_range=[-1.1, 1.1], bargap=0.05,
        legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"),
    )
    sines, cosines = emb[:half], emb[half:]
    convention = FREQ_SHIFT_NAMES.get(freq_shift, f"freq_shift={freq_shift}")
    alt = (f"Bar chart of the {dim} numbers of the sinusoidal embedding of t = {t}, {convention} convention: "
           f"sin(t · f_i) in dimensions 0 to {half - 1}, cos(t · f_i) in {half} to {dim - 1}, f_i falling from the "
           f"fastest wave (i = 0) to the slowest (i = {half - 1}). The sines range from {sines.min():.3f} to "
           f"{sines.max():.3f}, the cosines from {cosines.min():.3f} to {cosines.max():.3f}; the slowest pair reads "
           f"sin {sines[-1]:.3f}, cos {cosines[-1]:.3f}.")
    rows = [(i, f"{sine:.3f}", f"{cosine:.3f}") for i, (sine, cosine) in enumerate(zip(sines, cosines))]
    return describe(fig, alt, table(("frequency index i", "sin (dimension i)", f"cos (dimension {half} + i)"), rows))


def embedding_heatmap_figure(dim: int = 128, num_steps: int = 1000, step: int = 5,
                             freq_shift: int = 0) -> go.Figure:
    """Embeddings of ``t = 0, step, 2*step, ... < num_steps`` as rows of a heatmap (dimensions across).

    ``step`` thins the rows so the stored figure stays small; the waves are still visible.
    """
    timesteps = torch.arange(0, num_steps, step)
    emb = sinusoidal_embedding(timesteps, dim, freq_shift=freq_shift).numpy().round(3)
    fig = go.Figure(go.Heatmap(
        z=emb, x=np.arange(dim), y=timesteps.numpy(), colorscale=DIVERGING_CMAP, zmin=-1, zmax=1,
        colorbar=dict(title="value"),
        hovertemplate="t = %{y}<br>dimension %{x}<br>value %{z:.2f}<extra></extra>",
    ))
    fig.add_vline(x=dim / 2 - 0.5, line_width=3, line_color="black")
    fig.add_annotation(x=dim / 4, y=1.0, yref="paper", yanchor="bottom", text="sines", showarrow=False)
    fig.add_annotation(x=3 * dim / 4, y=1.0, yref="paper", yanchor="bottom", text="cosines", showarrow=False)
    fig.update_layout(title=f"Every timestep's embedding (one row per {step} steps)",
                      xaxis_title="embedding dimension", yaxis_title="timestep t",
                      yaxis_autorange="reversed", margin=dict(t=100))
    half = dim // 2
    alt = (f"Heatmap of the sinusoidal embeddings of {len(timesteps)} timesteps, t = 0 to {timesteps[-1].item()} "
           f"every {step} steps (rows, top to bottom), across their {dim} dimensions (columns: sines in 0 to "
           f"{half - 1}, cosines in {half} to {dim - 1}); values from {emb.min():.3f} to {emb.max():.3f}. The table "
           f"gives a summary of some rows.")
    kept = set(thinned(timesteps.tolist()))
    rows = [(t, f"{row.min():.3f}", f"{row.mean():.3f}", f"{row.max():.3f}", f"{row[0]:.3f}", f"{row[half - 1]:.3f}")
            for t, row in zip(timesteps.tolist(), emb) if t in kept]
    return describe(fig, alt, table(("timestep t", "min", "mean", "max", "dimension 0 (fastest sine)",
                                     f"dimension {half - 1} (slowest sine)"), rows))


def similarity_matrix_figure(dim: int = 128, num_steps: int = 1000, step: int = 10,
                             freq_shift: int = 0) -> go.Figure:
    """Cosine similarity between the embeddings of every pair of timesteps (a ``step`` grid)."""
    timesteps = torch.arange(0, num_steps, step)
    similarity = embedding_similarity(timesteps, dim, freq_shift).numpy().round(3)
    fig = go.Figure(go.Heatmap(
        z=similarity, x=timesteps.numpy(), y=timesteps.numpy(), colorscale=CONTINUOUS_SCALE,
        colorbar=dict(title="cosine<br>similarity"),
        hovertemplate="t = %{y} vs t = %{x}<br>similarity %{z:.2f}<extra></extra>",
    ))
    fig.update_layout(title="How alike two timesteps' embeddings are", xaxis_title="timestep t",
                      yaxis_title="timestep t", yaxis_autorange="reversed", width=700, height=620)
    neighbours = np.diagonal(similarity, offset=1)
    alt = (f"Heatmap of the cosine similarity between the embeddings of every pair of {len(timesteps)} timesteps, "
           f"t = 0 to {timesteps[-1].item()} every {step} steps on both axes ({len(timesteps)} x {len(timesteps)} "
           f"cells); values from {similarity.min():.3f} to {similarity.max():.3f}, the highest on the diagonal (each "
           f"timestep with itself). Timesteps {step} apart have a similarity of {neighbours.mean():.3f} on average. "
           f"The table gives a summary of some rows.")
    kept = set(thinned(timesteps.tolist()))
    rows = [(t, f"{row.min():.3f}", f"{row.mean():.3f}", f"{row[i + 1]:.3f}" if i + 1 < len(row) else "")
            for i, (t, row) in enumerate(zip(timesteps.tolist(), similarity)) if t in kept]
    return describe(fig, alt, table(("timestep t", "min", "mean", f"with t + {step}"), rows))


def similarity_curve_figure(reference_steps: tuple[int, ...] = (0, 500, 999), dim: int = 128,
                            num_steps: int = 1000, freq_shift: int = 0) -> go.Figure:
    """One curve per reference step: its cosine similarity with every timestep ``0 .. num_steps-1``."""
    timesteps = torch.arange(num_steps)
    emb = torch.nn.functional.normalize(sinusoidal_embedding(timesteps, dim, freq_shift=freq_shift), dim=1)
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot")
    curves = []
    for i, reference in enumerate(reference_steps):
        similarity = (emb @ emb[reference]).numpy().round(4)
        curves.append(similarity)
        fig.add_trace(go.Scatter(
            x=timesteps.numpy(), y=similarity, mode="lines", name=f"compared with t = {reference}",
            line=dict(color=PALETTE[i % len(PALETTE)], dash=dashes[i % len(dashes)], width=3),
        ))
    fig.update_layout(title="Nearby timesteps look alike, distant ones do not",
                      xaxis_title="timestep t", yaxis_title="cosine similarity",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))
    lows = "; ".join(f"compared with t = {reference}, lowest {curve.min():.3f}, mean {curve.mean():.3f}"
                     for reference, curve in zip(reference_steps, curves))
    alt = (f"Line chart, one line per reference timestep, of the cosine similarity between its embedding and that "
           f"of every timestep t = 0 to {num_steps - 1}: each line peaks at 1.000 at its reference and falls away "
           f"from it; {lows}.")
    kept = sorted(set(thinned(range(num_steps))) | set(reference_steps))
    rows = [(t, *(f"{curve[t]:.3f}" for curve in curves)) for t in kept]
    return describe(fig, alt, table(("timestep t", *(f"with t = {reference}" for reference in reference_steps)), rows))


def frequency_figure(dim: int = 128, max_period: float = 10000) -> go.Figure:
    """The period (in timesteps) of every sine/cosine pair, for ``freq_shift`` 0 and 1, on a log axis."""
    fig = go.Figure()
    symbols = ("circle", "x")
    periods_by_shift = {}
    for shift, symbol in zip((0, 1), symbols):
        periods = periods_by_shift[shift] = (2 * np.pi / embedding_frequencies(dim, max_period, shift)).numpy()
        fig.add_trace(go.Scatter(
            x=np.arange(dim // 2), y=periods, mode="markers", name=FREQ_SHIFT_NAMES[shift],
            marker=dict(symbol=symbol, size=8, color=PALETTE[shift]),
        ))
    fig.add_hline(y=1000, line_dash="dash", line_color="black",
                  annotation_text="1000 steps: the whole diffusion process", annotation_position="top left")
    fig.update_layout(title="Period of each sine/cosine pair", xaxis_title="frequency index i",
                      yaxis_title="period (timesteps, log scale)", yaxis_type="log",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))
    ranges = "; ".join(f"{FREQ_SHIFT_NAMES[shift]} from {format_value(periods[0])} to {format_value(periods[-1])}, "
                       f"{(periods > 1000).sum()} periods above the line"
                       for shift, periods in periods_by_shift.items())
    alt = (f"Scatter plot, on a log axis, of the period in timesteps of each of the {dim // 2} sine/cosine pairs "
           f"(frequency index i = 0 to {dim // 2 - 1}) for two conventions, with a dashed line at 1000 steps, the "
           f"whole diffusion process: {ranges}.")
    rows = [(i, *(format_value(period) for period in periods))
            for i, periods in enumerate(zip(*periods_by_shift.values()))]
    return describe(fig, alt, table(("frequency index i", *(f"period, {FREQ_SHIFT_NAMES[shift]}"
                                                            for shift in periods_by_shift)), rows))


@torch.no_grad()
def time_response_figure(block: nn.Module, time_embed: TimeEmbedding, x: torch.Tensor, t: int,
                         reference: int = 0, num_channels: int = 4) -> Figure:
    """The same input through the same ResBlock at two timesteps, and the difference, channel by channel.

    Rows: output at ``reference``, output at ``t`` (both on one colour scale per channel), and
    ``output(t) - output(reference)`` on a shared diverging scale centred on 0.

    Args:
        block: a ResBlock (``block(x, time_emb)``).
        time_embed: maps timesteps to the block's ``time_emb``.
        x: [1, C, H, W] input.
        t: the timestep to compare.
        reference: the timestep to compare with.
        num_channels: how many output channels to show (columns).
    """
    outputs = block(x.expand(2, -1, -1, -1), time_embed(torch.tensor([reference, t])))  # [2, C, H, W]
    difference = outputs[1] - outputs[0]  # [C, H, W]
    count = min(num_channels, outputs.shape[1])
    limit = difference[:count].abs().max().item() or 1.0
    fig, axes = plt.subplots(3, count, figsize=(2.1 * count + 1.2, 7.0), squeeze=False, layout="constrained")
    for channel in range(count):
        low = outputs[:, channel].min().item()
        high = outputs[:, channel].max().item()
        for row, (label, image) in enumerate(((f"t = {reference}", outputs[0, channel]),
                                              (f"t = {t}", outputs[1, channel]))):
            axes[row, channel].imshow(image.numpy(), cmap=MATPLOTLIB_CMAP, vmin=low, vmax=high,
                                      interpolation="nearest")
            axes[row, channel].set_title(f"ch {channel}, {label}", fontsize=14)
        shown = axes[2, channel].imshow(difference[channel].numpy(), cmap=DIVERGING_CMAP, vmin=-limit, vmax=limit,
                                        interpolation="nearest")
        axes[2, channel].set_title(f"ch {channel}, difference", fontsize=14)
    for ax in axes.flat:
        ax.axis("off")
    fig.colorbar(shown, ax=axes[2].tolist(), label=f"t={t} minus t={reference}", shrink=0.9)
    mean_difference = f"{difference.abs().mean().item():.3f}"
    fig.suptitle(f"t = {t} vs t = {reference}: mean |difference| = {mean_difference}")
    alt = (f"Images of {counted(count, 'output channel')} (columns) of a ResBlock for the same "
           f"{format_image_size(x)} input: at t = {reference} (top row), at t = {t} (middle row), both on one colour "
           f"scale per channel, and their difference (bottom row, a diverging scale from {format_value(-limit)} to "
           f"{format_value(limit)}). The mean |difference| over all channels is {mean_difference}; the table gives "
           f"each channel's means.")
    rows = [(channel, format_value(outputs[0, channel].mean().item()), format_value(outputs[1, channel].mean().item()),
             format_value(difference[channel].mean().item()), format_value(difference[channel].abs().mean().item()))
            for channel in range(count)]
    return describe(fig, alt, table(("channel", f"mean at t = {reference}", f"mean at t = {t}", "mean difference",
                                     "mean |difference|"), rows))
