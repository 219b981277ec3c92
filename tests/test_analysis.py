"""Unit tests for the cost measurements and block kinds in unet_lessons/analysis.py (counts and traces: test_unet.py)."""

import pytest
import torch

from unet_lessons.analysis import (
    attention_cost,
    attention_costs_by_level,
    block_kind,
    count_flops,
    count_parameters,
    resblock_cost,
    trace_shapes,
)
from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import UNetConfig
from unet_lessons.unet import UNet


def test_count_flops_of_a_linear_layer():
    layer = torch.nn.Linear(10, 20)
    assert count_flops(layer, torch.zeros(3, 10)) == 2 * 3 * 10 * 20  # one multiply-add = 2 FLOPs


def test_count_flops_on_meta_equals_cpu():
    block = AttentionBlock(32, num_heads=2, groups=8)
    with torch.device("meta"):
        meta_block = AttentionBlock(32, num_heads=2, groups=8)
        meta_x = torch.zeros(1, 32, 8, 8)
    assert count_flops(meta_block, meta_x) == count_flops(block, torch.zeros(1, 32, 8, 8))


@pytest.mark.parametrize("channels, resolution, heads, batch", [(64, 8, 1, 1), (128, 16, 4, 2)])
def test_attention_cost_matches_the_arithmetic(channels, resolution, heads, batch):
    cost = attention_cost(channels, resolution, num_heads=heads, batch_size=batch)
    tokens = resolution**2
    assert cost["tokens"] == tokens
    assert cost["params"] == count_parameters(AttentionBlock(channels, heads))
    # qkv (C -> 3C) and proj (C -> C) per pixel, then Q K^T and A V: each tokens x tokens x C multiply-adds.
    assert cost["flops"] == batch * 2 * (4 * tokens * channels**2 + 2 * tokens**2 * channels)
    assert cost["attention_matrix_bytes"] == tokens * tokens * 4 * heads * batch


def test_attention_params_do_not_depend_on_resolution_but_flops_grow_quadratically():
    small, large = attention_cost(64, 8), attention_cost(64, 32)
    assert small["params"] == large["params"]
    assert large["attention_matrix_bytes"] == 256 * small["attention_matrix_bytes"]  # 16x pixels, 256x pairs
    assert large["flops"] > 16 * small["flops"]  # more than linear in the pixel count


def test_resblock_cost_is_linear_in_pixels():
    small, large = resblock_cost(64, 8, 256), resblock_cost(64, 16, 256)
    assert small["params"] == large["params"]
    # Convolutions scale with pixels; only the time projection (2 * 256 * 64 FLOPs) does not.
    time_proj_flops = 2 * 256 * 64
    assert large["flops"] - time_proj_flops == 4 * (small["flops"] - time_proj_flops)


def test_attention_costs_by_level_follows_the_config():
    config = UNetConfig()
    rows = attention_costs_by_level(config)
    assert [row["resolution"] for row in rows] == list(config.level_resolutions)
    assert [row["channels"] for row in rows] == list(config.level_channels)
    assert [row["has_attention"] for row in rows] == [r in config.attention_resolutions
                                                      for r in config.level_resolutions]
    full_resolution = rows[0]
    # At 64x64 attention costs more compute than a ResBlock; where the chapter uses it, less.
    assert full_resolution["attention_flops"] > full_resolution["resblock_flops"]
    for row in rows:
        if row["has_attention"]:
            assert row["attention_flops"] < row["resblock_flops"]


def test_block_kind_names_the_traced_blocks_and_nothing_else(tiny_config):
    model = UNet(tiny_config)
    kinds = {name: block_kind(name, module) for name, module in model.named_modules()}
    traced = {row.name: row.kind for row in trace_shapes(tiny_config)}
    assert {name: kind for name, kind in kinds.items() if kind is not None} == traced
    assert block_kind("encoder.levels.0.res_blocks.0.conv1", torch.nn.Conv2d(1, 1, 3)) is None
    assert block_kind("out_conv", torch.nn.Conv2d(1, 1, 3)) == "OutConv"
