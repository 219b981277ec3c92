"""Lesson 01 builders: the GroupNorm statistics figure, the ResBlock report and the ResBlock output figure."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from unet_lessons.analysis import count_parameters
from unet_lessons.data import sample_photo
from unet_lessons.resblock import ResBlock
from unet_lessons.time_embedding import sinusoidal_embedding
from unet_lessons.viz._common import rounded
from unet_lessons.viz.alt_text import alternative_of
from unet_lessons.viz.resblocks import group_statistics_figure, resblock_output_figure, resblock_report, run_resblock


def test_group_statistics_figure_plots_measured_means_and_stds():
    before = torch.randn(1, 8, 6, 6) * 2 + 1
    fig = group_statistics_figure(before, F.group_norm(before, 4), groups=4)
    assert len(fig.data) == 4  # (before, after) x (mean, std)
    by_name_and_axis = {(trace.name, trace.xaxis): trace for trace in fig.data}
    before_std = by_name_and_axis[("before GroupNorm", "x2")].y
    assert before_std == pytest.approx(before.reshape(4, -1).std(dim=1, unbiased=False).tolist(), rel=1e-3)
    assert by_name_and_axis[("after GroupNorm", "x2")].y == pytest.approx([1.0] * 4, abs=1e-3)
    assert max(abs(v) for v in by_name_and_axis[("after GroupNorm", "x")].y) < 1e-5


def test_resblock_report_counts_and_describes_the_block():
    photo = sample_photo(16)
    report = resblock_report(32, 64, 8, photo, time_emb_dim=64)
    expected = count_parameters(ResBlock(32, 64, 64, groups=8))
    assert "shortcut: 1x1 conv" in report
    assert f"= {expected:>9,}   equal ✓" in report
    assert "3·3·32·64 + 64" in report  # the formula with the numbers substituted
    assert "shape [1, 64, 16, 16]" in report
    assert "shortcut: identity" in resblock_report(32, 32, 8, photo, time_emb_dim=64)


def test_resblock_report_is_seeded_and_rejects_bad_groups():
    photo = sample_photo(16)
    assert resblock_report(16, 16, 4, photo) == resblock_report(16, 16, 4, photo)
    with pytest.raises(ValueError, match="in_channels=24 is not divisible by groups=16"):
        resblock_report(24, 32, 16, photo)


def test_group_statistics_figure_describes_every_group():
    before = torch.randn(1, 64, 8, 8, generator=torch.Generator().manual_seed(0)) * 2 + 1
    fig = group_statistics_figure(before, F.group_norm(before, 32), groups=32)
    alternative = alternative_of(fig)
    alt, rows = alternative["alt"], alternative["table"]["rows"]
    assert "each of the 32 groups of a [1, 64, 8, 8] feature map" in alt
    means = rounded(before.reshape(32, -1).mean(dim=1).tolist())  # as plotted: four significant digits
    assert f"Before: means {min(means):.3f} to {max(means):.3f}" in alt
    assert "After: means 0.000 to 0.000, stds 1.000 to 1.000" in alt  # no "-0.000"
    assert all(len(trace.x) == len(rows) for trace in fig.data)  # one row per group
    assert [row[1] for row in rows] == [f"{mean:.3f}" for mean in means]


def test_group_statistics_table_stays_short_for_many_groups():
    before = torch.randn(1, 128, 4, 4)
    fig = group_statistics_figure(before, F.group_norm(before, 128), groups=128)
    alternative = alternative_of(fig)
    assert [int(row[0]) for row in alternative["table"]["rows"]] == list(range(0, 128, 3))  # at most 60 rows
    assert "The table lists one group in 3." in alternative["alt"]


def test_resblock_output_figure_splits_the_output_into_shortcut_and_branch():
    photo = sample_photo(16)
    fig = resblock_output_figure(32, 64, 8, photo, time_emb_dim=64, num_channels=3)
    assert [trace.type for trace in fig.data] == ["heatmap"] * 9  # 3 rows (shortcut, branch, output) x 3 channels
    assert {trace.coloraxis for trace in fig.data} == {"coloraxis"}  # one shared scale, so colours compare
    assert fig.layout.coloraxis.colorbar.title.text == "value"
    assert fig.layout.coloraxis.colorscale[0][1] == "#440154"  # viridis, colour-blind safe
    shortcut, branch, output = (torch.as_tensor(np.stack([trace.z for trace in fig.data[row * 3:row * 3 + 3]])) for row in range(3))
    assert shortcut.shape == (3, 16, 16)
    block, x, expected = run_resblock(32, 64, 8, photo, time_emb_dim=64)
    with torch.no_grad():  # the branch computed on its own, from the block's layers
        time_emb = sinusoidal_embedding(torch.tensor([100]), 64)
        h = block.conv1(F.silu(block.norm1(x))) + block.time_proj(F.silu(time_emb))[:, :, None, None]
        alone = block.conv2(F.silu(block.norm2(h)))
    assert torch.allclose(branch, alone[0, :3], rtol=1e-3, atol=1e-4)
    assert torch.allclose(output, expected[0, :3], rtol=1e-3, atol=1e-4)  # the block's real output
    assert torch.allclose(shortcut, block.shortcut(x)[0, :3].detach(), rtol=1e-3, atol=1e-4)
    assert "1x1 conv" in fig.data[0].name
    assert "identity" in resblock_output_figure(32, 32, 8, photo, time_emb_dim=64).data[0].name
    alternative = alternative_of(fig)
    assert "ResBlock(32, 64, groups=8)" in alternative["alt"] and len(alternative["table"]["rows"]) == 9


def test_resblock_output_figure_shows_at_most_out_channels():
    assert len(resblock_output_figure(16, 16, 4, sample_photo(16), num_channels=20).data) == 3 * 16


def test_run_resblock_is_seeded_and_leaves_the_global_random_state_alone():
    photo = sample_photo(16)
    state = torch.get_rng_state()
    first = run_resblock(8, 8, 4, photo, time_emb_dim=16)[2]
    assert torch.equal(torch.get_rng_state(), state)
    torch.rand(3)  # the learner draws something; the block is the same
    assert torch.equal(run_resblock(8, 8, 4, photo, time_emb_dim=16)[2], first)
