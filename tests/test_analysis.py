"""Unit tests for the cost measurements and block kinds in unet_lessons/analysis.py (counts and traces: test_unet.py).

One block's cost (count_flops, attention_cost, resblock_cost) first; then a whole model's forward pass
(count_forward_flops and its breakdowns, forward_memory), checked against hand counts and a real CPU run.
"""

import os

import pytest
import torch
from torch import nn

from unet_lessons.analysis import (
    COMPONENTS,
    attention_cost,
    attention_costs_by_level,
    block_kind,
    count_flops,
    count_forward_flops,
    count_forward_flops_by_component,
    count_forward_flops_by_level,
    count_parameters,
    count_parameters_by_level,
    forward_memory,
    meta_unet,
    peak_resident_memory,
    resblock_cost,
    trace_memory,
    trace_shapes,
)
from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import PRESETS, UNetConfig
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


def test_init_conv_flops_equal_the_hand_count(tiny_config):
    # A 3x3 conv with "same" padding: every output pixel of every output channel takes
    # in_channels * 9 multiply-adds, 2 FLOPs each.
    size, batch = tiny_config.image_size, 2
    expected = 2 * tiny_config.in_channels * 9 * tiny_config.base_channels * size * size * batch
    assert count_forward_flops_by_component(tiny_config, batch_size=batch)["init_conv"] == expected


def hand_counted_flops(model: UNet, x: torch.Tensor, t: torch.Tensor) -> int:
    """Run the real model on the CPU and add up the textbook FLOP formulas of every layer it runs."""
    total = 0

    def conv(module, args, output):
        nonlocal total
        batch, out_channels, height, width = output.shape
        macs_per_pixel = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
        total += 2 * batch * out_channels * height * width * macs_per_pixel

    def linear(module, args, output):
        nonlocal total
        total += 2 * output.shape[0] * module.in_features * module.out_features

    def attention(module, args, output):
        nonlocal total
        batch, channels, height, width = args[0].shape
        tokens = height * width
        total += 2 * 2 * batch * tokens * tokens * channels  # q @ k^T, then weights @ v

    hooks = {nn.Conv2d: conv, nn.Linear: linear, AttentionBlock: attention}
    handles = [module.register_forward_hook(hooks[type(module)])
               for module in model.modules() if type(module) in hooks]
    with torch.no_grad():
        model(x, t)
    for handle in handles:
        handle.remove()
    return total


def test_model_flops_equal_the_sum_of_hand_counts(tiny_config):
    model = UNet(tiny_config)
    x = torch.randn(1, tiny_config.in_channels, tiny_config.image_size, tiny_config.image_size)
    assert count_forward_flops(model) == hand_counted_flops(model, x, torch.tensor([3]))


def test_ddpm_topology_flops_equal_the_sum_of_hand_counts(tiny_config):
    model = UNet(tiny_config.replace(topology="ddpm"))
    x = torch.randn(1, tiny_config.in_channels, tiny_config.image_size, tiny_config.image_size)
    assert count_forward_flops(model) == hand_counted_flops(model, x, torch.tensor([3]))


def test_flops_are_proportional_to_the_batch(tiny_config):
    assert count_forward_flops(tiny_config, batch_size=3) == 3 * count_forward_flops(tiny_config)


@pytest.mark.parametrize("name", ["chapter_example", "light"])
def test_flop_breakdowns_sum_to_the_total(name):
    config = PRESETS[name].config
    total = count_forward_flops(config)
    by_component = count_forward_flops_by_component(config)
    assert tuple(by_component) == COMPONENTS
    assert sum(by_component.values()) == total
    levels = count_forward_flops_by_level(config)
    assert [row["resolution"] for row in levels] == list(config.level_resolutions)
    assert sum(row["encoder"] for row in levels) == by_component["encoder"]
    assert sum(row["decoder"] for row in levels) == by_component["decoder"]


def test_level_zero_runs_more_flops_than_the_deepest_level_with_fewer_parameters():
    # The lesson's point: parameters live deep (wide channels), compute lives high (many pixels).
    config = PRESETS["chapter_example"].config
    flops = count_forward_flops_by_level(config)
    with torch.device("meta"):
        param_levels = count_parameters_by_level(UNet(config))
    assert flops[0]["encoder"] > flops[-1]["encoder"]
    assert param_levels[0]["encoder"] < param_levels[-1]["encoder"]


def test_memory_equals_a_real_forward_pass(tiny_config):
    model = UNet(tiny_config)
    x = torch.randn(2, tiny_config.in_channels, tiny_config.image_size, tiny_config.image_size)
    block_outputs, skips = [], []
    blocks = [model.time_embed, model.init_conv, model.out_norm, model.out_conv]
    blocks += [m for m in model.modules() if type(m).__name__ in
               ("ResBlock", "AttentionBlock", "Downsample", "Upsample")]
    handles = [block.register_forward_hook(lambda module, args, output: block_outputs.append(output))
               for block in blocks]
    handles.append(model.encoder.register_forward_hook(lambda module, args, output: skips.extend(output[1])))
    with torch.no_grad():
        model(x, torch.tensor([1, 2]))
    for handle in handles:
        handle.remove()

    memory = forward_memory(model, batch_size=2)
    assert memory["activations"] == sum(out.numel() * out.element_size() for out in block_outputs)
    assert memory["skips"] == sum(skip.numel() * skip.element_size() for skip in skips)
    assert memory["parameters"] == sum(p.numel() * p.element_size() for p in model.parameters())


def test_memory_scales_with_batch_and_precision(tiny_config):
    one = forward_memory(tiny_config)
    two = forward_memory(tiny_config, batch_size=2)
    half = forward_memory(tiny_config, bytes_per_element=2)
    assert two["activations"] == 2 * one["activations"] and two["skips"] == 2 * one["skips"]
    assert two["parameters"] == one["parameters"]
    assert all(2 * half[key] == one[key] for key in one)
    assert 0 < one["skips"] < one["activations"]


@pytest.mark.parametrize("topology", ["chapter", "ddpm"])
def test_the_traced_blocks_hold_every_parameter(tiny_config, topology):
    config = tiny_config.replace(topology=topology)
    memory = trace_memory(trace_shapes(config), bytes_per_element=1)
    assert memory["parameters"] == sum(p.numel() for p in UNet(config).parameters())
    assert memory == forward_memory(config, bytes_per_element=1)


def test_block_kind_names_the_traced_blocks_and_nothing_else(tiny_config):
    model = UNet(tiny_config)
    kinds = {name: block_kind(name, module) for name, module in model.named_modules()}
    traced = {row.name: row.kind for row in trace_shapes(tiny_config)}
    assert {name: kind for name, kind in kinds.items() if kind is not None} == traced
    assert block_kind("encoder.levels.0.res_blocks.0.conv1", torch.nn.Conv2d(1, 1, 3)) is None
    assert block_kind("out_conv", torch.nn.Conv2d(1, 1, 3)) == "OutConv"


def test_meta_unet_has_the_parameters_of_a_real_model(tiny_config):
    real = {name: param.shape for name, param in UNet(tiny_config).named_parameters()}
    meta = meta_unet(tiny_config)
    assert {name: param.shape for name, param in meta.named_parameters()} == real
    assert all(param.is_meta for param in meta.parameters())


def test_meta_unet_leaves_initialisation_on_for_every_other_layer(tiny_config):
    torch.manual_seed(0)
    expected = [nn.Linear(4, 4).weight, nn.Conv2d(2, 2, 3).weight, nn.GroupNorm(2, 4, affine=True).weight]
    meta_unet(tiny_config)
    with pytest.raises(ValueError, match="groups"):
        meta_unet(tiny_config.replace(groups=7))  # fails while the initialisation is switched off
    torch.manual_seed(0)
    built = [nn.Linear(4, 4).weight, nn.Conv2d(2, 2, 3).weight, nn.GroupNorm(2, 4, affine=True).weight]
    for before, after in zip(expected, built):
        assert torch.equal(before, after)
    assert "reset_parameters" not in nn.Conv2d.__dict__  # inherited from its base class again


def test_tracing_a_meta_model_leaves_it_as_it_was(tiny_config):
    model = meta_unet(tiny_config)
    assert trace_shapes(model) == trace_shapes(tiny_config)
    for module in model.modules():
        assert not module._forward_hooks
        assert "forward" not in vars(module)  # no GroupNorm left passing its input through


def test_peak_resident_memory_grows_with_what_the_process_holds():
    def resident() -> int:
        return next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmRSS:"))

    assert peak_resident_memory() >= resident() > 0
    before = resident()
    held = torch.ones(2**25)  # 128 MiB, written, so resident
    assert peak_resident_memory() >= before + held.numel() * held.element_size()
    assert peak_resident_memory(os.getpid()) == peak_resident_memory()


def test_peak_resident_memory_of_no_process_raises():
    with pytest.raises(FileNotFoundError):
        peak_resident_memory(2**22 + 12345)  # above Linux's largest pid
