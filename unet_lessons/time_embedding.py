"""Telling the network which timestep it is denoising: sinusoidal features and a small MLP.

Taught in ``notebooks/02_time_embedding.ipynb``.
"""

import math

import torch
import torch.nn.functional as F
from torch import nn


def sinusoidal_embedding(
    t: torch.Tensor, dim: int, max_period: float = 10000, freq_shift: int = 0
) -> torch.Tensor:
    """Encode each timestep as ``dim`` sines and cosines of geometrically spaced frequencies.

    Frequency ``i`` (of ``half = dim // 2``) is ``exp(-ln(max_period) * i / (half - freq_shift))``; the
    output is ``[sin(t * f), cos(t * f)]``. ``freq_shift=0`` spreads the frequencies from 1 down to
    nearly ``1/max_period`` (the chapter's version); ``freq_shift=1`` reaches exactly ``1/max_period``
    (the DDPM paper's code).

    Args:
        t: timesteps, shape [batch] (integers or floats).
        dim: embedding size; must be even.
        max_period: the slowest wave's period, in timesteps.
        freq_shift: 0 (chapter) or 1 (DDPM paper).

    Returns:
        [batch, dim], every value in [-1, 1].
    """
    if dim % 2 != 0 or dim < 2:
        raise ValueError(f"sinusoidal_embedding: dim={dim} must be a positive even number (sin + cos pairs).")
    if t.dim() != 1:
        raise ValueError(f"sinusoidal_embedding: t must have shape [batch], got {list(t.shape)}.")
    half = dim // 2
    if half - freq_shift <= 0:
        raise ValueError(f"sinusoidal_embedding: dim={dim} is too small for freq_shift={freq_shift}.")
    exponents = torch.arange(half, dtype=torch.float32, device=t.device) / (half - freq_shift)
    freqs = torch.exp(-math.log(max_period) * exponents)  # [half], from 1 down to ~1/max_period
    args = t.float()[:, None] * freqs[None, :]  # [B, 1] * [1, half] -> [B, half]
    return torch.cat([torch.sin(args), torch.cos(args)], dim=1)  # [B, dim]


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
