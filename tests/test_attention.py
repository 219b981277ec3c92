"""Unit tests for the lesson 03 helpers in unet_lessons/attention.py (the block is in test_blocks.py)."""

import math

import pytest
import torch

from unet_lessons.attention import AttentionBlock, attention_spread, permute_pixels, tie_keys_to_queries
from unet_lessons.data import sample_photo


@pytest.fixture
def photo_features() -> torch.Tensor:
    with torch.no_grad():
        return torch.nn.Conv2d(3, 64, 3, padding=1)(sample_photo(16))


def test_tie_keys_to_queries_makes_scores_symmetric():
    block = AttentionBlock(32, num_heads=2, groups=8)
    x = torch.randn(1, 32, 5, 5)
    q, k, _ = block._heads(x)
    assert not torch.allclose(q, k)
    assert tie_keys_to_queries(block) is block
    q, k, _ = block._heads(x)
    assert torch.equal(q, k)
    scores = q @ k.transpose(-2, -1)
    assert torch.allclose(scores, scores.transpose(-2, -1), atol=1e-5)  # i looks at j as j looks at i


def test_tied_attention_is_more_concentrated_than_random(photo_features):
    block = AttentionBlock(64, num_heads=4, groups=32)
    random_spread = attention_spread(block.attention_weights(photo_features))
    tied_spread = attention_spread(tie_keys_to_queries(block).attention_weights(photo_features))
    assert tied_spread["effective_pixels"] < random_spread["effective_pixels"]
    assert tied_spread["largest_weight"] > random_spread["largest_weight"]


def test_attention_spread_extremes():
    uniform = torch.full((1, 2, 10, 10), 0.1)
    spread = attention_spread(uniform)
    assert spread["uniform_weight"] == pytest.approx(0.1)
    assert spread["largest_weight"] == pytest.approx(0.1)
    assert spread["effective_pixels"] == pytest.approx(10, rel=1e-5)
    one_hot = torch.eye(10)[None, None]  # every query looks at exactly one key
    spread = attention_spread(one_hot)
    assert spread["largest_weight"] == 1.0
    assert spread["effective_pixels"] == pytest.approx(1.0)
    half_half = torch.tensor([[0.5, 0.5, 0.0, 0.0]])
    assert attention_spread(half_half)["effective_pixels"] == pytest.approx(2.0)
    assert math.isclose(attention_spread(half_half)["uniform_weight"], 0.25)


def test_permute_pixels_moves_whole_pixels():
    x = torch.arange(2 * 3 * 2 * 2, dtype=torch.float32).reshape(2, 3, 2, 2)
    permutation = torch.tensor([3, 0, 1, 2])
    shuffled = permute_pixels(x, permutation)
    assert torch.equal(shuffled[:, :, 0, 0], x[:, :, 1, 1])  # position 0 holds old position 3
    assert torch.equal(shuffled[:, :, 0, 1], x[:, :, 0, 0])
    inverse = torch.argsort(permutation)
    assert torch.equal(permute_pixels(shuffled, inverse), x)


def test_permute_pixels_rejects_wrong_length():
    with pytest.raises(ValueError, match="one entry per pixel"):
        permute_pixels(torch.zeros(1, 1, 3, 3), torch.arange(8))


def test_attention_commutes_with_permutation_but_convolution_does_not():
    block = AttentionBlock(32, num_heads=4, groups=8)
    conv = torch.nn.Conv2d(32, 32, 3, padding=1)
    x = torch.randn(1, 32, 6, 6)
    permutation = torch.randperm(36)
    with torch.no_grad():
        assert torch.allclose(block(permute_pixels(x, permutation)), permute_pixels(block(x), permutation),
                              atol=1e-5)
        assert not torch.allclose(conv(permute_pixels(x, permutation)), permute_pixels(conv(x), permutation),
                                  atol=1e-2)
