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
    return fig


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
    return fig


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
    return fig


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
    return fig


def similarity_curve_figure(reference_steps: tuple[int, ...] = (0, 500, 999), dim: int = 128,
                            num_steps: int = 1000, freq_shift: int = 0) -> go.Figure:
    """One curve per reference step: its cosine similarity with every timestep ``0 .. num_steps-1``."""
    timesteps = torch.arange(num_steps)
    emb = torch.nn.functional.normalize(sinusoidal_embedding(timesteps, dim, freq_shift=freq_shift), dim=1)
    fig = go.Figure()
    dashes = ("solid", "dash", "dot", "dashdot")
    for i, reference in enumerate(reference_steps):
        similarity = (emb @ emb[reference]).numpy().round(4)
        fig.add_trace(go.Scatter(
            x=timesteps.numpy(), y=similarity, mode="lines", name=f"compared with t = {reference}",
            line=dict(color=PALETTE[i % len(PALETTE)], dash=dashes[i % len(dashes)], width=3),
        ))
    fig.update_layout(title="Nearby timesteps look alike, distant ones do not",
                      xaxis_title="timestep t", yaxis_title="cosine similarity",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))
    return fig


def frequency_figure(dim: int = 128, max_period: float = 10000) -> go.Figure:
    """The period (in timesteps) of every sine/cosine pair, for ``freq_shift`` 0 and 1, on a log axis."""
    fig = go.Figure()
    symbols = ("circle", "x")
    for shift, symbol in zip((0, 1), symbols):
        periods = (2 * np.pi / embedding_frequencies(dim, max_period, shift)).numpy()
        fig.add_trace(go.Scatter(
            x=np.arange(dim // 2), y=periods, mode="markers", name=FREQ_SHIFT_NAMES[shift],
            marker=dict(symbol=symbol, size=8, color=PALETTE[shift]),
        ))
    fig.add_hline(y=1000, line_dash="dash", line_color="black",
                  annotation_text="1000 steps: the whole diffusion process", annotation_position="top left")
    fig.update_layout(title="Period of each sine/cosine pair", xaxis_title="frequency index i",
                      yaxis_title="period (timesteps, log scale)", yaxis_type="log",
                      legend=dict(orientation="h", y=1.02, yanchor="bottom", x=1, xanchor="right"))
    return fig


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
    fig.suptitle(f"t = {t} vs t = {reference}: mean |difference| = {difference.abs().mean().item():.3f}")
    return fig
