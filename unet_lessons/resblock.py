"""Residual blocks and resolution changes: the building blocks of every U-Net level.

Taught in ``notebooks/01_resblocks.ipynb``.

A ``ResBlock`` keeps the spatial size and (optionally) changes the channel count; it is the only block
that hears the diffusion timestep. ``Downsample`` halves the resolution, ``Upsample`` doubles it; both
keep the channel count. ``resblock_parameter_terms`` and ``group_statistics`` are the lesson's
measuring tools: a ResBlock's parameter count layer by layer, and the per-group statistics GroupNorm uses.
"""

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn



def groups_that_fit(groups: int, *channels: int) -> int:
    """The largest power of two, at most ``groups``, that divides every one of ``channels``: the number of
    GroupNorm groups to suggest when ``groups`` does not fit (published U-Nets use 32, a power of two)."""
    common = math.gcd(*channels)
    fit = 1
    while fit * 2 <= groups and common % (fit * 2) == 0:
        fit *= 2
    return fit


class ResBlock(nn.Module):
    """A residual block conditioned on the timestep, as in DDPM.

    ``h = conv3x3(SiLU(GroupNorm(x)))``, add a per-channel shift computed from the time embedding,
    ``h = conv3x3(Dropout(SiLU(GroupNorm(h))))``, return ``h + shortcut(x)``.

    Args:
        in_channels: channels of the input feature map.
        out_channels: channels of the output feature map.
        time_emb_dim: size of the time embedding vector (``4 * base_channels`` in the UNet).
        dropout: dropout probability before the second convolution.
        groups: number of GroupNorm groups; must divide ``in_channels`` and ``out_channels``.
        eps: GroupNorm epsilon (PyTorch's 1e-5; the DDPM paper's code uses 1e-6).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        time_emb_dim: int,
        dropout: float = 0.0,
        groups: int = 32,
        eps: float = 1e-5,
    ):
        super().__init__()
        for name, channels in (("in_channels", in_channels), ("out_channels", out_channels)):
            if channels % groups != 0:
                raise ValueError(
                    f"ResBlock: {name}={channels} is not divisible by groups={groups}; GroupNorm needs whole "
                    f"groups. groups={groups_that_fit(groups, in_channels, out_channels)} fits both channel "
                    f"counts, or use channels that are multiples of {groups}."
                )
        self.norm1 = nn.GroupNorm(groups, in_channels, eps=eps)
        self.conv1 = nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1)
        # One shift per output channel, computed from the timestep: this is how a block "knows" t.
        self.time_proj = nn.Linear(time_emb_dim, out_channels)
        self.norm2 = nn.GroupNorm(groups, out_channels, eps=eps)
        self.dropout = nn.Dropout(dropout)
        self.conv2 = nn.Conv2d(out_channels, out_channels, kernel_size=3, padding=1)
        # The residual sum needs equal channel counts: a 1x1 conv fixes them when they differ.
        if in_channels != out_channels:
            self.shortcut = nn.Conv2d(in_channels, out_channels, kernel_size=1)
        else:
            self.shortcut = nn.Identity()

    def forward(self, x: torch.Tensor, time_emb: torch.Tensor) -> torch.Tensor:
        """x: [batch, in_channels, height, width], time_emb: [batch, time_emb_dim]
        -> [batch, out_channels, height, width]."""
        h = self.conv1(F.silu(self.norm1(x)))  # [B, C_in, H, W] -> [B, C_out, H, W]
        h = h + self.time_proj(F.silu(time_emb))[:, :, None, None]  # [B, C_out] broadcast over H, W
        h = self.conv2(self.dropout(F.silu(self.norm2(h))))
        return h + self.shortcut(x)


class Downsample(nn.Module):
    """Halve the resolution with a stride-2 3x3 convolution; the channel count is unchanged.

    Args:
        channels: channels in and out.
        padding: ``"symmetric"`` pads one pixel on every side (the chapter's block);
            ``"tf_same"`` pads only right and bottom, as TensorFlow's "SAME" padding does in the DDPM
            paper's code. Same parameters, slightly different numbers.
    """

    def __init__(self, channels: int, padding: str = "symmetric"):
        super().__init__()
        if padding not in ("symmetric", "tf_same"):
            raise ValueError(f"Downsample: padding={padding!r}; use 'symmetric' or 'tf_same'.")
        self.padding = padding
        self.conv = nn.Conv2d(
            channels, channels, kernel_size=3, stride=2, padding=1 if padding == "symmetric" else 0
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [batch, channels, height, width] -> [batch, channels, height/2, width/2]."""
        if self.padding == "tf_same":
            x = F.pad(x, (0, 1, 0, 1))  # (left, right, top, bottom)
        return self.conv(x)


class Upsample(nn.Module):
    """Double the resolution: nearest-neighbour x2, then a 3x3 convolution to smooth the blocks.

    Args:
        channels: channels in and out.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.conv = nn.Conv2d(channels, channels, kernel_size=3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [batch, channels, height, width] -> [batch, channels, 2*height, 2*width]."""
        x = F.interpolate(x, scale_factor=2, mode="nearest")
        return self.conv(x)


@dataclass(frozen=True)
class ParameterTerm:
    """One layer's share of a ResBlock's parameters.

    ``layer`` is the ResBlock attribute that holds the parameters, ``formula`` the count in symbols
    (``C_in``, ``C_out``, ``T`` = time embedding size) and ``count`` its value.
    """

    layer: str
    formula: str
    count: int


def resblock_parameter_terms(in_channels: int, out_channels: int, time_emb_dim: int) -> list[ParameterTerm]:
    """The parameter count of ``ResBlock(in_channels, out_channels, time_emb_dim)``, one term per layer.

    The terms sum to ``count_parameters(ResBlock(...))``; a 3x3 conv has ``3*3*C_in*C_out`` weights plus
    one bias per output channel, a GroupNorm one scale and one shift per channel. The shortcut is a 1x1
    conv only when the channel count changes, otherwise it has no parameters.

    Args:
        in_channels: ``C_in``.
        out_channels: ``C_out``.
        time_emb_dim: ``T``, the size of the time embedding vector.
    """
    changes_channels = in_channels != out_channels
    return [
        ParameterTerm("norm1", "2·C_in", 2 * in_channels),
        ParameterTerm("conv1", "3·3·C_in·C_out + C_out", 9 * in_channels * out_channels + out_channels),
        ParameterTerm("time_proj", "T·C_out + C_out", time_emb_dim * out_channels + out_channels),
        ParameterTerm("norm2", "2·C_out", 2 * out_channels),
        ParameterTerm("conv2", "3·3·C_out·C_out + C_out", 9 * out_channels * out_channels + out_channels),
        ParameterTerm("shortcut", "C_in·C_out + C_out" if changes_channels else "0 (identity)",
                      in_channels * out_channels + out_channels if changes_channels else 0),
    ]


def group_statistics(x: torch.Tensor, groups: int) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean and standard deviation of every channel group, as GroupNorm computes them.

    GroupNorm splits the channels into ``groups`` consecutive groups and normalizes each group of each
    image over its channels and all its pixels together.

    Args:
        x: [batch, channels, height, width].
        groups: number of groups; must divide ``channels``.

    Returns:
        ``(mean, std)``, each [batch, groups] (std without Bessel's correction, as GroupNorm uses).
    """
    batch, channels = x.shape[:2]
    if channels % groups != 0:
        raise ValueError(f"group_statistics: channels={channels} is not divisible by groups={groups}; "
                         f"use a number of groups that divides {channels}, e.g. {groups_that_fit(groups, channels)}.")
    grouped = x.reshape(batch, groups, -1)  # [B, C, H, W] -> [B, G, C/G * H * W]
    return grouped.mean(dim=2), grouped.std(dim=2, unbiased=False)
