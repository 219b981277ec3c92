"""Tests for the lesson 03 figure builders (unet_lessons/viz/attention_maps.py)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch

from unet_lessons.analysis import attention_costs_by_level
from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import UNetConfig
from unet_lessons.data import sample_photo
from unet_lessons.viz.alt_text import alternative_of, png_output
from unet_lessons.viz.attention_maps import attention_cost_figure, attention_map_figure


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture
def weights() -> torch.Tensor:
    block = AttentionBlock(32, num_heads=2, groups=8)
    with torch.no_grad():
        return block.attention_weights(torch.randn(1, 32, 6, 6))  # [1, 2, 36, 36]


def test_attention_map_figure_shows_the_query_row(weights):
    fig = attention_map_figure(sample_photo(24), weights, query_x=4, query_y=1, head=1)
    image_ax, map_ax = fig.axes[:2]
    shown = map_ax.images[0].get_array()
    assert shown.shape == (6, 6)
    assert np.allclose(shown, weights[0, 1, 1 * 6 + 4].reshape(6, 6).numpy())  # row-major: y * W + x
    assert image_ax.images[0].get_array().shape[:2] == (6, 6)  # photo resized to the feature map
    for ax in (image_ax, map_ax):
        marker = ax.lines[0]
        assert (marker.get_xdata()[0], marker.get_ydata()[0]) == (4, 1)


@pytest.mark.parametrize("changes, field", [
    (dict(head=2), "head=2"), (dict(query_x=6), "query_x=6"), (dict(query_y=-1), "query_y=-1")])
def test_attention_map_figure_rejects_out_of_range(weights, changes, field):
    arguments = dict(query_x=0, query_y=0, head=0) | changes
    with pytest.raises(ValueError, match=field):
        attention_map_figure(sample_photo(24), weights, **arguments)


def test_attention_cost_figure_plots_the_rows():
    rows = attention_costs_by_level(UNetConfig())
    fig = attention_cost_figure(rows)
    names = [trace.name for trace in fig.data]
    assert names == ["one Attention", "one ResBlock", "one Attention", "one ResBlock", "attention matrix"]
    assert list(fig.data[2].y) == [row["attention_flops"] / 1e9 for row in rows]
    assert list(fig.data[4].y) == [row["attention_matrix_bytes"] / 2**20 for row in rows]
    assert fig.layout.yaxis2.type == "log" and fig.layout.yaxis3.type == "log"
    assert sum("(attn)" in label for label in fig.data[0].x) == sum(row["has_attention"] for row in rows)


def test_attention_map_figure_says_what_its_images_show(weights):
    fig = attention_map_figure(sample_photo(24), weights, query_x=4, query_y=1, head=1)
    alternative = alternative_of(fig)
    assert "table" not in alternative  # images only
    alt = alternative["alt"]
    row = weights[0, 1, 1 * 6 + 4]
    assert "6x6 feature map" in alt and "(x=4, y=1)" in alt and "all 36 key pixels (head 1 of 2)" in alt
    assert f"Largest weight {row.max().item():.4f}" in alt and f"own {row[1 * 6 + 4].item():.4f}" in alt
    assert f"{1 / 36:.4f} to every pixel" in alt
    assert png_output(fig)[1]["alt"] == alt  # what the explorer's PNG output carries
    titled = attention_map_figure(sample_photo(24), weights, 0, 0, vmax=0.5, title="Random q and k")
    assert alternative_of(titled)["alt"].endswith("Titled “Random q and k”.")
    assert "colour scale 0 to 0.5000" in alternative_of(titled)["alt"]


def test_attention_cost_figure_describes_every_resolution():
    config = UNetConfig()
    rows = attention_costs_by_level(config)
    fig = attention_cost_figure(rows)
    alternative = alternative_of(fig)
    alt, table_rows = alternative["alt"], alternative["table"]["rows"]
    assert len(alt) <= 420
    assert all(len(trace.x) == len(table_rows) for trace in fig.data)  # one row per group of bars
    assert [row[0] for row in table_rows] == [f"{r}x{r}" for r in config.level_resolutions]
    assert [row[7] for row in table_rows] == list(fig.data[4].text)
    attended = ", ".join(f"{r}x{r}" for r in config.level_resolutions if r in config.attention_resolutions)
    assert f"attention at {attended})" in alt
    first, last = rows[0], rows[-1]
    assert f"attention {first['attention_flops'] / 1e9:.2f} at 64x64, {last['attention_flops'] / 1e9:.2f} at 8x8" in alt
    assert f"{first['attention_matrix_bytes'] / 2**20:.3g} MiB at 64x64" in alt
