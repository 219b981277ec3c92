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


@torch.no_grad()
def tie_keys_to_queries(block: AttentionBlock) -> AttentionBlock:
    """Copy the query projection into the key projection, in place: then ``q_i . k_j = q_i . q_j``.

    A teaching device, not a training trick. At random initialisation queries and keys are unrelated, so
    every pixel spreads its attention almost evenly. With identical projections the score of a pair of
    pixels is the dot product of their (projected) features: pixels attend most to pixels that look like
    them, which makes the attention map readable before any training.

    Args:
        block: the block to change (its ``qkv`` holds queries, keys, values in that order).

    Returns:
        the same block, for chaining.
    """
    channels = block.proj.in_channels
    block.qkv.weight[channels:2 * channels] = block.qkv.weight[:channels]  # keys := queries
    block.qkv.bias[channels:2 * channels] = block.qkv.bias[:channels]
    return block


def attention_spread(weights: torch.Tensor) -> dict[str, float]:
    """How concentrated attention is, averaged over queries (and heads and batch).

    Args:
        weights: [..., queries, keys] softmax weights, each row summing to 1.

    Returns:
        ``largest_weight``: the mean over queries of the biggest weight in the row;
        ``uniform_weight``: ``1 / keys``, what every weight would be if attention were uniform;
        ``effective_pixels``: the mean of ``exp(entropy)`` over rows, the number of keys a row
        "really" looks at (``keys`` when uniform, 1 when it looks at a single key).
    """
    entropy = -(weights * weights.clamp_min(1e-12).log()).sum(-1)  # [..., queries]
    return {
        "largest_weight": weights.amax(-1).mean().item(),
        "uniform_weight": 1 / weights.shape[-1],
        "effective_pixels": entropy.exp().mean().item(),
    }


def permute_pixels(x: torch.Tensor, permutation: torch.Tensor) -> torch.Tensor:
    """Shuffle the pixel positions of a feature map, the same way for every channel.

    Args:
        x: [batch, channels, height, width].
        permutation: [height * width], a permutation of the flattened (row-major) positions.

    Returns:
        [batch, channels, height, width]; position ``i`` holds what was at ``permutation[i]``.
    """
    if permutation.shape != (x.shape[2] * x.shape[3],):
        raise ValueError(
            f"permutation has shape {list(permutation.shape)}; it needs one entry per pixel, "
            f"[{x.shape[2] * x.shape[3]}] for a {x.shape[2]}x{x.shape[3]} map."
        )
    return x.flatten(2)[:, :, permutation].reshape(x.shape)  # [B, C, HW] -> shuffled -> [B, C, H, W]
