"""Tests for the lesson 02 figure builders (unet_lessons/viz/time_embedding.py): read the traces back."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from unet_lessons.data import sample_photo
from unet_lessons.resblock import ResBlock
from unet_lessons.time_embedding import TimeEmbedding, embedding_frequencies, sinusoidal_embedding
from unet_lessons.viz.time_embedding import (
    embedding_heatmap_figure,
    embedding_vector_figure,
    frequency_figure,
    noisy_photos_figure,
    similarity_curve_figure,
    similarity_matrix_figure,
    time_response_figure,
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_noisy_photos_figure_has_one_panel_per_step():
    fig = noisy_photos_figure(sample_photo(16), timesteps=(0, 999))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles == ["t = 0\nsignal 1.00", "t = 999\nsignal 0.01"]
    assert len(fig.axes[0].images) == 1


def test_embedding_vector_figure_shows_sines_then_cosines():
    fig = embedding_vector_figure(250, dim=16, freq_shift=1)
    sines, cosines = fig.data
    expected = sinusoidal_embedding(torch.tensor([250]), 16, freq_shift=1)[0].numpy()
    assert list(sines.x) == list(range(8)) and list(cosines.x) == list(range(8, 16))
    assert np.allclose(np.concatenate([sines.y, cosines.y]), expected)
    assert "t = 250" in fig.layout.title.text and "freq_shift=1" in fig.layout.title.text


def test_embedding_heatmap_has_one_row_per_step():
    fig = embedding_heatmap_figure(dim=32, num_steps=100, step=10)
    heatmap = fig.data[0]
    assert np.asarray(heatmap.z).shape == (10, 32)
    assert list(heatmap.y) == list(range(0, 100, 10))
    assert np.allclose(heatmap.z[3], sinusoidal_embedding(torch.tensor([30]), 32)[0].numpy(), atol=1e-3)


def test_similarity_matrix_is_symmetric_with_unit_diagonal():
    fig = similarity_matrix_figure(dim=32, num_steps=200, step=20)
    z = np.asarray(fig.data[0].z)
    assert z.shape == (10, 10)
    assert np.allclose(z, z.T, atol=1e-3) and np.allclose(np.diag(z), 1, atol=1e-3)


def test_similarity_curves_peak_at_their_reference():
    fig = similarity_curve_figure(reference_steps=(0, 120), dim=32, num_steps=200)
    assert len(fig.data) == 2
    for trace, reference in zip(fig.data, (0, 120)):
        assert int(np.argmax(trace.y)) == reference
        assert str(reference) in trace.name


def test_frequency_figure_shows_both_shifts():
    fig = frequency_figure(dim=16)
    assert len(fig.data) == 2
    for trace, shift in zip(fig.data, (0, 1)):
        assert np.allclose(trace.y, 2 * np.pi / embedding_frequencies(16, freq_shift=shift).numpy())
    assert fig.data[1].y[-1] == pytest.approx(2 * np.pi * 10000, rel=1e-4)  # DDPM ends at max_period


def test_time_response_figure_rows_and_difference():
    block, embed = ResBlock(16, 16, 64, groups=8), TimeEmbedding(16)
    x = torch.randn(1, 16, 8, 8)
    fig = time_response_figure(block, embed, x, t=700, reference=0, num_channels=3)
    panels = [ax for ax in fig.axes if ax.images]
    assert len(panels) == 9  # 3 rows x 3 channels
    difference = panels[8].images[0].get_array()  # row 3, channel 2 (row-major)
    with torch.no_grad():
        expected = block(x, embed(torch.tensor([700]))) - block(x, embed(torch.tensor([0])))
    assert np.allclose(difference, expected[0, 2].numpy(), atol=1e-5)
    assert "t = 700 vs t = 0" in fig._suptitle.get_text()
