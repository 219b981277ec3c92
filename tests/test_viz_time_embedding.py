"""Tests for the lesson 02 figure builders (unet_lessons/viz/time_embedding.py): read the traces back."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from unet_lessons.data import sample_photo
from unet_lessons.resblock import ResBlock
from unet_lessons.time_embedding import (TimeEmbedding, embedding_frequencies, embedding_similarity, signal_fraction,
                                         sinusoidal_embedding)
from unet_lessons.viz.alt_text import alternative_of
from unet_lessons.viz.feature_maps import feature_map_grid
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


def test_noisy_photos_figure_says_the_steps_and_the_signal_left():
    fig = noisy_photos_figure(sample_photo(16), timesteps=(0, 500, 999))
    alternative = alternative_of(fig)
    signal = signal_fraction(torch.tensor([500]))[0].item()
    assert f"t = 500 (signal {signal:.2f})" in alternative["alt"] and "16x16 photo at 3 steps" in alternative["alt"]
    assert alternative["table"]["rows"] == [["0", "1.00"], ["500", f"{signal:.2f}"], ["999", "0.01"]]


def test_embedding_vector_figure_tables_each_sine_cosine_pair():
    fig = embedding_vector_figure(250, dim=16, freq_shift=1)
    alternative = alternative_of(fig)
    expected = sinusoidal_embedding(torch.tensor([250]), 16, freq_shift=1)[0].numpy()
    assert f"sin {expected[7]:.3f}, cos {expected[15]:.3f}" in alternative["alt"]  # the slowest pair
    assert "t = 250" in alternative["alt"] and "DDPM paper (freq_shift=1)" in alternative["alt"]
    rows = alternative["table"]["rows"]
    assert len(rows) == len(fig.data[0].x) == len(fig.data[1].x)  # one row per bar of each half
    assert rows[3] == ["3", f"{expected[3]:.3f}", f"{expected[11]:.3f}"]


def test_embedding_heatmap_alternative_summarizes_the_rows():
    small = alternative_of(embedding_heatmap_figure(dim=32, num_steps=100, step=10))
    assert "10 timesteps, t = 0 to 90 every 10 steps" in small["alt"] and "32 dimensions" in small["alt"]
    emb = sinusoidal_embedding(torch.tensor([30]), 32)[0].numpy()
    assert [int(row[0]) for row in small["table"]["rows"]] == list(range(0, 100, 10))  # few rows: all of them
    assert small["table"]["rows"][3][1:4] == [f"{emb.min():.3f}", f"{emb.mean():.3f}", f"{emb.max():.3f}"]
    full = embedding_heatmap_figure()  # 200 rows of 128: the table keeps some rows, the first and the last
    kept = [int(row[0]) for row in alternative_of(full)["table"]["rows"]]
    assert len(kept) <= 52 and kept[0] == 0 and kept[-1] == 995 and set(kept) <= set(full.data[0].y)


def test_similarity_matrix_alternative_names_the_grid_and_the_neighbours():
    fig = similarity_matrix_figure(dim=32, num_steps=200, step=20)
    alternative = alternative_of(fig)
    neighbours = embedding_similarity(torch.arange(0, 200, 20), 32, 0).numpy().round(3).diagonal(1).mean()
    assert "(10 x 10 cells)" in alternative["alt"] and f"similarity of {neighbours:.3f} on average" in alternative["alt"]
    rows = alternative["table"]["rows"]
    assert len(rows) == len(fig.data[0].y) == 10 and rows[-1][-1] == ""  # the last timestep has no next one


def test_similarity_curve_table_keeps_the_references_and_reads_the_traces():
    fig = similarity_curve_figure(reference_steps=(0, 120), dim=32, num_steps=200)
    alternative = alternative_of(fig)
    assert alternative["table"]["columns"] == ["timestep t", "with t = 0", "with t = 120"]
    rows = alternative["table"]["rows"]
    kept = [int(row[0]) for row in rows]
    assert len(kept) <= 52 and {0, 120, 199} <= set(kept)
    for row in rows:
        assert row[1:] == [f"{trace.y[int(row[0])]:.3f}" for trace in fig.data]
    assert f"compared with t = 120, lowest {min(fig.data[1].y):.3f}" in alternative["alt"]


def test_frequency_figure_alternative_gives_each_period():
    fig = frequency_figure(dim=16)
    alternative = alternative_of(fig)
    assert "DDPM paper (freq_shift=1) from 6.28 to 6.28e+04" in alternative["alt"]  # 2 pi up to 2 pi * max_period
    rows = alternative["table"]["rows"]
    assert len(rows) == len(fig.data[0].x) == 8 and rows[0] == ["0", "6.28", "6.28"]
    longer = [(2 * np.pi / embedding_frequencies(16, freq_shift=shift).numpy() > 1000).sum() for shift in (0, 1)]
    slowest = 2 * np.pi * 10000 ** (7 / 8)  # the chapter's last frequency is max_period ** (-i / half)
    assert f"chapter (freq_shift=0) from 6.28 to {slowest:.2e}, {longer[0]} periods above" in alternative["alt"]


def test_time_response_figure_alternative_gives_the_mean_difference_per_channel():
    block, embed = ResBlock(16, 16, 64, groups=8), TimeEmbedding(16)
    x = torch.randn(1, 16, 8, 8)
    alternative = alternative_of(time_response_figure(block, embed, x, t=700, reference=0, num_channels=3))
    with torch.no_grad():
        difference = (block(x, embed(torch.tensor([700]))) - block(x, embed(torch.tensor([0]))))[0]
    assert f"mean |difference| over all channels is {difference.abs().mean():.3f}" in alternative["alt"]
    assert "3 output channels" in alternative["alt"] and "8x8 input" in alternative["alt"]
    rows = alternative["table"]["rows"]
    assert [row[0] for row in rows] == ["0", "1", "2"]
    assert float(rows[2][3]) == pytest.approx(difference[2].mean().item(), rel=1e-2, abs=1e-4)


def test_feature_map_grid_alternative_gives_each_channel_range():
    features = torch.randn(1, 10, 8, 8)
    fig = feature_map_grid(features, num_channels=6, columns=4, title="after init_conv")
    alternative = alternative_of(fig)
    assert alternative["alt"].startswith("A grid of 6 heatmaps, 2 rows of up to 4: the first 6 of the 10 channels")
    assert "8x8 feature map" in alternative["alt"] and alternative["alt"].endswith("Titled “after init_conv”.")
    rows = alternative["table"]["rows"]
    assert len(rows) == len([ax for ax in fig.axes if ax.images]) == 6
    assert float(rows[5][1]) == pytest.approx(features[0, 5].min().item(), rel=5e-3)
    assert float(rows[5][3]) == pytest.approx(features[0, 5].max().item(), rel=5e-3)
