"""Unit tests for the lesson 01-03 blocks: ResBlock, Down/Upsample, time embedding, attention."""

import math

import pytest
import torch

from unet_lessons.attention import AttentionBlock
from unet_lessons.resblock import Downsample, ResBlock, Upsample
from unet_lessons.time_embedding import TimeEmbedding, sinusoidal_embedding


def test_resblock_shapes_and_shortcut():
    x, time_emb = torch.randn(2, 32, 8, 8), torch.randn(2, 64)
    same = ResBlock(32, 32, 64)
    wider = ResBlock(32, 64, 64)
    assert isinstance(same.shortcut, torch.nn.Identity)
    assert isinstance(wider.shortcut, torch.nn.Conv2d) and wider.shortcut.kernel_size == (1, 1)
    assert same(x, time_emb).shape == (2, 32, 8, 8)
    assert wider(x, time_emb).shape == (2, 64, 8, 8)


def test_resblock_hears_the_time_embedding():
    block = ResBlock(32, 32, 64).eval()
    x = torch.randn(1, 32, 8, 8)
    assert not torch.allclose(block(x, torch.randn(1, 64)), block(x, torch.randn(1, 64)))


def test_resblock_rejects_channels_not_divisible_by_groups():
    with pytest.raises(ValueError, match="in_channels=20"):
        ResBlock(20, 32, 64)


def test_down_and_upsample_change_only_resolution():
    x = torch.randn(2, 16, 8, 8)
    assert Downsample(16)(x).shape == (2, 16, 4, 4)
    assert Downsample(16, padding="tf_same")(x).shape == (2, 16, 4, 4)
    assert Upsample(16)(x).shape == (2, 16, 16, 16)


def test_tf_same_padding_pads_only_right_and_bottom():
    symmetric, tf_same = Downsample(1), Downsample(1, padding="tf_same")
    tf_same.conv.load_state_dict(symmetric.conv.state_dict())
    x = torch.randn(1, 1, 8, 8)
    # With padding on right/bottom only, output pixel (0, 0) sees input rows/cols 0..2 instead of -1..1.
    expected = torch.nn.functional.conv2d(x[:, :, :3, :3], symmetric.conv.weight, symmetric.conv.bias)
    assert torch.allclose(tf_same(x)[:, :, :1, :1], expected, atol=1e-6)
    assert not torch.allclose(tf_same(x), symmetric(x))


def test_sinusoidal_embedding_properties():
    t = torch.arange(1000)
    emb = sinusoidal_embedding(t, 128)
    assert emb.shape == (1000, 128)
    assert emb.abs().max() <= 1.0
    # t = 0 is all sines 0 and all cosines 1.
    assert torch.equal(emb[0], torch.cat([torch.zeros(64), torch.ones(64)]))
    # Distinct timesteps give distinct vectors: the smallest pairwise distance is clearly positive.
    assert torch.cdist(emb, emb).add(torch.eye(1000) * 1e9).min() > 1e-3


@pytest.mark.parametrize("freq_shift, slowest", [(0, 10000 ** (-63 / 64)), (1, 1 / 10000)])
def test_sinusoidal_frequencies(freq_shift, slowest):
    # sin(t * f) at small t is ~ t * f, so the slowest frequency can be read off directly.
    t = torch.tensor([1e-3])
    emb = sinusoidal_embedding(t, 128, freq_shift=freq_shift)
    assert emb[0, 0].item() == pytest.approx(1e-3, rel=1e-4)  # fastest frequency is exactly 1
    assert emb[0, 63].item() == pytest.approx(1e-3 * slowest, rel=1e-3)


def test_sinusoidal_embedding_rejects_odd_dim():
    with pytest.raises(ValueError, match="dim=7"):
        sinusoidal_embedding(torch.arange(3), 7)


def test_time_embedding_mlp():
    embed = TimeEmbedding(32)
    out = embed(torch.tensor([0, 10, 999]))
    assert out.shape == (3, 128)
    assert not torch.allclose(out[0], out[1])


def test_attention_is_permutation_equivariant_over_pixels():
    block = AttentionBlock(32, num_heads=4, groups=8).eval()
    x = torch.randn(2, 32, 6, 6)
    perm = torch.randperm(36)
    permute = lambda z: z.flatten(2)[:, :, perm].reshape(z.shape)  # noqa: E731
    assert torch.allclose(block(permute(x)), permute(block(x)), atol=1e-5)


def test_attention_weights_match_forward():
    block = AttentionBlock(32, num_heads=2, groups=8)
    torch.nn.init.normal_(block.proj.weight)  # make the output depend visibly on the attention
    x = torch.randn(2, 32, 5, 5)
    weights = block.attention_weights(x)
    assert weights.shape == (2, 2, 25, 25)
    assert torch.allclose(weights.sum(-1), torch.ones(2, 2, 25), atol=1e-5)
    _, _, v = block._heads(x)
    out = (weights @ v).transpose(2, 3).reshape(x.shape)
    assert torch.allclose(x + block.proj(out), block(x), atol=1e-5)


def test_attention_rejects_heads_that_do_not_divide():
    with pytest.raises(ValueError, match="num_heads=3"):
        AttentionBlock(32, num_heads=3, groups=8)


def test_attention_cost_is_quadratic_in_pixels():
    block = AttentionBlock(32, groups=8)
    small, large = (block.attention_weights(torch.randn(1, 32, s, s)) for s in (4, 8))
    assert large.numel() == 16 * small.numel()  # 4x the pixels, 16x the attention matrix
    assert math.isclose(large.sum().item(), 64, rel_tol=1e-5)  # one unit of attention per query
