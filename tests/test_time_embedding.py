"""Unit tests for the lesson 02 helpers in unet_lessons/time_embedding.py (the blocks are in test_blocks.py)."""

import math

import pytest
import torch

from unet_lessons.resblock import ResBlock
from unet_lessons.time_embedding import (
    TimeEmbedding,
    embedding_frequencies,
    embedding_similarity,
    noisy_image,
    signal_fraction,
    sinusoidal_embedding,
    time_sensitivity,
)


@pytest.mark.parametrize("freq_shift", [0, 1])
def test_frequencies_are_geometric_from_one(freq_shift):
    freqs = embedding_frequencies(128, freq_shift=freq_shift)
    assert freqs.shape == (64,)
    assert freqs[0].item() == 1.0
    ratios = freqs[1:] / freqs[:-1]
    assert torch.allclose(ratios, ratios[0].expand(63))  # one constant ratio: a geometric sequence
    assert freqs[-1].item() == pytest.approx(10000 ** (-63 / (64 - freq_shift)), rel=1e-5)


def test_frequencies_drive_the_embedding():
    t = torch.tensor([3.0, 700.0])
    freqs = embedding_frequencies(16, freq_shift=1)
    emb = sinusoidal_embedding(t, 16, freq_shift=1)
    assert torch.allclose(emb[:, :8], torch.sin(t[:, None] * freqs), atol=1e-6)
    assert torch.allclose(emb[:, 8:], torch.cos(t[:, None] * freqs), atol=1e-6)


@pytest.mark.parametrize("dim", [0, 7, 2.0, True])
def test_frequencies_reject_bad_dim(dim):
    with pytest.raises(ValueError, match="dim="):
        embedding_frequencies(dim)


def test_similarity_is_cosine_and_depends_only_on_the_gap():
    timesteps = torch.arange(0, 1000, 7)
    similarity = embedding_similarity(timesteps, 64)
    assert similarity.shape == (len(timesteps), len(timesteps))
    assert torch.allclose(similarity.diagonal(), torch.ones(len(timesteps)), atol=1e-5)
    emb = sinusoidal_embedding(timesteps[:2], 64)
    assert similarity[0, 1].item() == pytest.approx(
        torch.nn.functional.cosine_similarity(emb[0], emb[1], dim=0).item(), abs=1e-5)
    # Each pair sin/cos contributes cos(gap * f): the same gap gives the same similarity anywhere.
    assert torch.allclose(similarity.diagonal(1), similarity.diagonal(1)[0].expand(len(timesteps) - 1), atol=1e-4)
    assert similarity[0, 1] > similarity[0, 50]  # 7 steps apart look more alike than 350 steps apart


def test_signal_fraction_follows_the_linear_schedule():
    betas = torch.linspace(1e-4, 0.02, 1000, dtype=torch.float64)
    fraction = signal_fraction(torch.tensor([0, 1, 999]))
    assert fraction[0].item() == pytest.approx(math.sqrt(1 - 1e-4), rel=1e-6)
    assert fraction[1].item() == pytest.approx(math.sqrt((1 - betas[0]) * (1 - betas[1])), rel=1e-6)
    assert fraction[2].item() == pytest.approx(torch.prod(1 - betas).sqrt().item(), rel=1e-5)
    assert torch.all(signal_fraction(torch.arange(1000)).diff() < 0)  # noise only ever grows


@pytest.mark.parametrize("t", [torch.tensor([1000]), torch.tensor([-1]), torch.tensor(5)])
def test_signal_fraction_rejects_bad_steps(t):
    with pytest.raises(ValueError, match="signal_fraction"):
        signal_fraction(t)


def test_noisy_image_mixes_signal_and_noise():
    x0, noise = torch.rand(1, 3, 4, 4) * 2 - 1, torch.randn(1, 3, 4, 4)
    signal = signal_fraction(torch.tensor([400]))[0]
    assert torch.allclose(noisy_image(x0, 400, noise), signal * x0 + (1 - signal**2).sqrt() * noise)
    # At t = 0 only beta_0 = 1e-4 of variance is noise: x_t is x_0 up to 1% of the noise.
    assert (noisy_image(x0, 0, noise) - x0).abs().max() <= 0.011 * noise.abs().max()


def test_time_sensitivity_measures_output_change():
    block, embed = ResBlock(32, 32, 128, groups=8).eval(), TimeEmbedding(32)
    x = torch.randn(1, 32, 8, 8)
    changes = time_sensitivity(block, embed, x, [0, 10, 999], reference=0)
    assert set(changes) == {0, 10, 999}
    assert changes[0] == 0.0  # same timestep, same output
    with torch.no_grad():
        expected = (block(x, embed(torch.tensor([999]))) - block(x, embed(torch.tensor([0])))).abs().mean()
    assert changes[999] == pytest.approx(expected.item(), rel=1e-4)
    assert changes[999] > 0
