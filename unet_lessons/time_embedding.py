"""Telling the network which timestep it is denoising: sinusoidal features and a small MLP.

Taught in ``notebooks/02_time_embedding.ipynb``.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def embedding_frequencies(dim: int, max_period: float = 10000, freq_shift: int = 0) -> torch.Tensor:
    """The ``dim // 2`` angular frequencies of :func:`sinusoidal_embedding`, fastest first.

    Frequency ``i`` is ``exp(-ln(max_period) * i / (dim // 2 - freq_shift))``: 1 for ``i = 0``, then
    geometrically slower. ``freq_shift=0`` (the chapter) stops just short of ``1/max_period``;
    ``freq_shift=1`` (the DDPM paper's code) ends exactly at ``1/max_period``.

    Args:
        dim: embedding size; must be even.
        max_period: sets the slowest frequency (period ``2 * pi * max_period`` timesteps for ``freq_shift=1``).
        freq_shift: 0 (chapter) or 1 (DDPM paper).

    Returns:
        [dim // 2] frequencies in radians per timestep.
    """
    if isinstance(dim, bool) or not isinstance(dim, int) or dim % 2 != 0 or dim < 2:
        raise ValueError(f"embedding size dim={dim} must be a positive even number (sin + cos pairs).")
    half = dim // 2
    if half - freq_shift <= 0:
        raise ValueError(f"embedding size dim={dim} is too small for freq_shift={freq_shift}.")
    exponents = torch.arange(half, dtype=torch.float32) / (half - freq_shift)
    return torch.exp(-math.log(max_period) * exponents)  # [half], from 1 down to ~1/max_period


def sinusoidal_embedding(
    t: torch.Tensor, dim: int, max_period: float = 10000, freq_shift: int = 0
) -> torch.Tensor:
    """Encode each timestep as ``dim`` sines and cosines of geometrically spaced frequencies.

    The output is ``[sin(t * f), cos(t * f)]`` with the frequencies ``f`` of :func:`embedding_frequencies`.
    ``freq_shift=0`` spreads the frequencies from 1 down to nearly ``1/max_period`` (the chapter's
    version); ``freq_shift=1`` reaches exactly ``1/max_period`` (the DDPM paper's code).

    Args:
        t: timesteps, shape [batch] (integers or floats).
        dim: embedding size; must be even.
        max_period: the slowest wave's period, in timesteps.
        freq_shift: 0 (chapter) or 1 (DDPM paper).

    Returns:
        [batch, dim], every value in [-1, 1].
    """
    if t.dim() != 1:
        raise ValueError(f"sinusoidal_embedding: t must have shape [batch], got {list(t.shape)}.")
    freqs = embedding_frequencies(dim, max_period, freq_shift).to(t.device)  # [half]
    args = t.float()[:, None] * freqs[None, :]  # [B, 1] * [1, half] -> [B, half]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)  # [B, dim]


def embedding_similarity(timesteps: torch.Tensor, dim: int, freq_shift: int = 0) -> torch.Tensor:
    """Cosine similarity between the sinusoidal embeddings of every pair of timesteps.

    Args:
        timesteps: [T] timesteps.
        dim: embedding size (even).
        freq_shift: 0 (chapter) or 1 (DDPM paper).

    Returns:
        [T, T]; entry (i, j) is 1 when the two embeddings point the same way, 0 when orthogonal.
    """
    emb = F.normalize(sinusoidal_embedding(timesteps, dim, freq_shift=freq_shift), dim=1)  # [T, dim]
    return emb @ emb.T  # [T, dim] @ [dim, T] -> [T, T]


class TimeEmbedding(nn.Module):
    """Timestep -> vector that every ResBlock reads: sinusoidal features, then a two-layer MLP.

    ``Linear(base, 4*base) -> SiLU -> Linear(4*base, 4*base)``; the output size ``4 * base_channels``
    is the ``time_emb_dim`` of every ResBlock.

    Args:
        base_channels: size of the sinusoidal embedding (the UNet's base channel count).
        freq_shift: passed to :func:`sinusoidal_embedding` (0 chapter, 1 DDPM paper).
    """

    def __init__(self, base_channels: int, freq_shift: int = 0):
        super().__init__()
        self.base_channels = base_channels
        self.freq_shift = freq_shift
        self.linear1 = nn.Linear(base_channels, 4 * base_channels)
        self.linear2 = nn.Linear(4 * base_channels, 4 * base_channels)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """t: [batch] -> time_emb: [batch, 4 * base_channels]."""
        emb = sinusoidal_embedding(t, self.base_channels, freq_shift=self.freq_shift)  # [B, base]
        return self.linear2(F.silu(self.linear1(emb)))  # [B, base] -> [B, 4*base]


def signal_fraction(t: torch.Tensor, num_steps: int = 1000, beta_start: float = 1e-4,
                    beta_end: float = 0.02) -> torch.Tensor:
    """How much of the clean image is left at step ``t`` of DDPM's linear noise schedule.

    ``x_t = sqrt(alpha_bar_t) * x_0 + sqrt(1 - alpha_bar_t) * noise``; this returns ``sqrt(alpha_bar_t)``,
    where ``alpha_bar_t`` is the product of ``1 - beta_s`` for ``s <= t`` and the betas rise linearly
    from ``beta_start`` to ``beta_end`` (Ho et al. 2020). Step 0 is the first noising step.

    Args:
        t: [batch] integer timesteps in ``0 .. num_steps - 1``.
        num_steps: length of the schedule.
        beta_start: noise variance added at the first step.
        beta_end: noise variance added at the last step.

    Returns:
        [batch], from almost 1 (t = 0) down to almost 0 (t = num_steps - 1).
    """
    if t.dim() != 1 or t.min() < 0 or t.max() >= num_steps:
        raise ValueError(f"signal_fraction: t must be a [batch] tensor of steps in 0..{num_steps - 1}, got {t}.")
    betas = torch.linspace(beta_start, beta_end, num_steps, dtype=torch.float64)
    alpha_bar = torch.cumprod(1 - betas, dim=0)  # [num_steps]
    return alpha_bar[t.long()].sqrt().float()


def noisy_image(x0: torch.Tensor, t: int, noise: torch.Tensor) -> torch.Tensor:
    """The image the network sees at step ``t``: ``x_0`` mixed with ``noise`` as DDPM's schedule says.

    Args:
        x0: clean image [batch, channels, height, width] in [-1, 1].
        t: one timestep in 0..999.
        noise: standard normal noise, same shape as ``x0``.

    Returns:
        x_t, same shape as ``x0``.
    """
    signal = signal_fraction(torch.tensor([t]))[0]
    return signal * x0 + (1 - signal**2).sqrt() * noise


@torch.no_grad()
def time_sensitivity(block: nn.Module, time_embed: TimeEmbedding, x: torch.Tensor,
                     timesteps: list[int], reference: int = 0) -> dict[int, float]:
    """How much a ResBlock's output moves when only the timestep changes.

    Runs the same ``x`` through the same ``block`` with the time embedding of each timestep and
    compares with the output at ``reference``.

    Args:
        block: a :class:`~unet_lessons.resblock.ResBlock` (``block(x, time_emb)``).
        time_embed: turns timesteps into the block's ``time_emb``.
        x: [1, channels, height, width] input feature map.
        timesteps: the timesteps to compare.
        reference: the timestep every output is compared with.

    Returns:
        ``{t: mean |block(x, t) - block(x, reference)|}`` for each ``t`` in ``timesteps``.
    """
    steps = torch.tensor([reference, *timesteps])
    time_emb = time_embed(steps)  # [1 + T, time_emb_dim]
    outputs = block(x.expand(len(steps), -1, -1, -1), time_emb)  # [1 + T, C, H, W]
    return {t: (outputs[i + 1] - outputs[0]).abs().mean().item() for i, t in enumerate(timesteps)}
