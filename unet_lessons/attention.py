"""Self-attention over pixels: every position looks at every other position of the feature map.

Taught in ``notebooks/03_attention.ipynb``.
"""

import torch
import torch.nn.functional as F
from torch import nn


class AttentionBlock(nn.Module):
    """Multi-head self-attention over the H*W positions of a feature map, with a residual add.

    GroupNorm, one 1x1 conv to queries, keys and values (3*C channels), scaled dot-product attention
    over all positions, a 1x1 output projection, ``x + out``. Cost grows with ``(H*W)**2``, which is why
    the U-Net only uses it at low resolutions.

    Args:
        channels: channels in and out.
        num_heads: attention heads; must divide ``channels``.
        groups: GroupNorm groups; must divide ``channels``.
        eps: GroupNorm epsilon.
    """

    def __init__(self, channels: int, num_heads: int = 1, groups: int = 32, eps: float = 1e-5):
        super().__init__()
        if channels % num_heads != 0:
            raise ValueError(
                f"AttentionBlock: num_heads={num_heads} does not divide channels={channels}; "
                "each head needs a whole share of the channels."
            )
        if channels % groups != 0:
            raise ValueError(
                f"AttentionBlock: channels={channels} is not divisible by groups={groups}."
            )
        self.num_heads = num_heads
        self.norm = nn.GroupNorm(groups, channels, eps=eps)
        self.qkv = nn.Conv2d(channels, 3 * channels, kernel_size=1)
        self.proj = nn.Conv2d(channels, channels, kernel_size=1)

    def _heads(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """x: [B, C, H, W] -> q, k, v, each [B, heads, H*W, C/heads]."""
        batch, channels, height, width = x.shape
        qkv = self.qkv(self.norm(x))  # [B, 3C, H, W]
        qkv = qkv.reshape(batch, 3, self.num_heads, channels // self.num_heads, height * width)
        q, k, v = qkv.permute(1, 0, 2, 4, 3)  # each [B, heads, H*W, C/heads]
        return q, k, v

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """x: [batch, channels, height, width] -> same shape."""
        batch, channels, height, width = x.shape
        q, k, v = self._heads(x)
        out = F.scaled_dot_product_attention(q, k, v)  # [B, heads, H*W, C/heads]
        out = out.transpose(2, 3).reshape(batch, channels, height, width)
        return x + self.proj(out)

    def attention_weights(self, x: torch.Tensor) -> torch.Tensor:
        """The attention matrix, for visualization: [batch, heads, H*W queries, H*W keys].

        Row ``q`` says how much query pixel ``q`` (flattened row-major) takes from every key pixel;
        each row sums to 1. Computed explicitly, the same numbers ``forward`` uses.
        """
        q, k, _ = self._heads(x)
        scores = q @ k.transpose(-2, -1) / q.shape[-1] ** 0.5  # [B, heads, HW, HW]
        return scores.softmax(dim=-1)
