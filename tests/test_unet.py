"""The assembled UNet: shapes for every preset, exact parameter counts, skips, forward/backward, init."""

import pytest
import torch

from unet_lessons.analysis import (
    COMPONENTS,
    count_parameters,
    count_parameters_by_component,
    count_parameters_by_kind,
    count_parameters_by_level,
    meta_unet,
    trace_shapes,
)
from unet_lessons.configs import PRESETS
from unet_lessons.init import initialize_weights
from unet_lessons.unet import UNet

# Measured with this package (see notebooks/05_configs.ipynb for the comparison with the chapter's labels).
PRESET_COUNTS = {
    "light": 7_599_619,
    "ddpm": 30_346_243,
    "improved": 105_567_619,
    "highres": 98_089_219,
    "chapter_example": 66_615_043,
    "tiny": 227_379,  # lesson 07's CPU model
    "ddpm_cifar10": 35_746_307,  # the DDPM paper: 35.7M
    "ddpm_256": 113_673_219,  # the DDPM paper: 114M
}


def test_every_preset_is_tested():
    assert set(PRESETS) == set(PRESET_COUNTS)


@pytest.mark.parametrize("name", sorted(PRESET_COUNTS))
def test_preset_count_and_shape(name):
    config = PRESETS[name].config
    model = meta_unet(config)
    assert count_parameters(model) == PRESET_COUNTS[name]
    with torch.device("meta"):
        x = torch.zeros(2, 3, config.image_size, config.image_size)
        assert model(x, torch.tensor([1, 500])).shape == x.shape


def test_chapter_example_breakdown():
    # The chapter says "~35M" and prints a breakdown summing to 35,035,136; its configuration holds these.
    breakdown = count_parameters_by_component(meta_unet(PRESETS["chapter_example"].config))
    assert breakdown == {
        "time_embed": 328_704,
        "init_conv": 3_584,
        "encoder": 20_948_864,
        "bottleneck": 11_020_288,
        "decoder": 34_309_888,
        "output": 3_715,
    }


@pytest.mark.parametrize("name", sorted(PRESET_COUNTS))
def test_breakdowns_sum_to_total(name):
    model = meta_unet(PRESETS[name].config)
    total = count_parameters(model)
    assert tuple(count_parameters_by_component(model)) == COMPONENTS
    assert sum(count_parameters_by_component(model).values()) == total
    assert sum(count_parameters_by_kind(model).values()) == total
    levels = count_parameters_by_level(model)
    assert [row["resolution"] for row in levels] == list(model.config.level_resolutions)
    by_component = count_parameters_by_component(model)
    assert sum(row["encoder"] for row in levels) == by_component["encoder"]
    assert sum(row["decoder"] for row in levels) == by_component["decoder"]


@pytest.mark.parametrize("name", sorted(PRESET_COUNTS))
def test_trace_rows_follow_the_data_flow(name):
    config = PRESETS[name].config
    rows = trace_shapes(config, batch_size=2)
    assert [row.index for row in rows] == list(range(len(rows)))
    assert sum(row.params for row in rows) == PRESET_COUNTS[name]
    assert rows[0].kind == "TimeEmbedding" and rows[0].out_shape == (2, config.time_emb_dim)
    assert rows[1].in_shape == (2, 3, config.image_size, config.image_size)
    assert rows[-1].out_shape == (2, 3, config.image_size, config.image_size)
    for prev, row in zip(rows[1:], rows[2:]):
        if row.skip_from is None:
            assert row.in_shape == prev.out_shape, row.name
        else:  # the concatenation: h's channels plus the skip's, at the same resolution
            skip = rows[row.skip_from]
            assert skip.saves_skip and skip.stage in ("input", "encoder")
            assert row.in_shape[1] == prev.out_shape[1] + skip.out_shape[1], row.name
            assert row.in_shape[2:] == prev.out_shape[2:] == skip.out_shape[2:], row.name


def test_trace_pairs_skips_last_saved_first():
    rows = trace_shapes(PRESETS["chapter_example"].config)
    saved = [row.index for row in rows if row.saves_skip]
    consumed = [row.skip_from for row in rows if row.skip_from is not None]
    assert consumed == saved[::-1]
    assert len(saved) == 4 * 2  # chapter topology: one skip per encoder ResBlock


def test_trace_of_model_equals_trace_of_its_config(tiny_config):
    assert trace_shapes(UNet(tiny_config)) == trace_shapes(tiny_config)


def test_decoder_consumes_every_skip_in_reverse_order(tiny_config):
    model = UNet(tiny_config.replace(channel_mults=(1, 2, 2), image_size=32, num_res_blocks=2)).eval()
    saved, consumed = [], []
    model.encoder.register_forward_hook(lambda m, args, out: saved.extend(out[1]))
    for module in model.decoder.modules():
        if type(module).__name__ == "ResBlock":
            module.register_forward_pre_hook(lambda m, args: consumed.append(args[0]))
    model(torch.randn(2, 3, 32, 32), torch.tensor([3, 400]))
    assert len(consumed) == len(saved) == 6
    for x, skip in zip(consumed, reversed(saved)):
        # The skip is concatenated after h on the channel axis.
        assert torch.equal(x[:, -skip.shape[1]:], skip)


def test_forward_and_backward_on_cpu(tiny_config):
    model = UNet(tiny_config)
    x = torch.randn(4, 3, 16, 16)
    out = model(x, torch.randint(0, 1000, (4,)))
    assert out.shape == x.shape
    torch.nn.functional.mse_loss(out, torch.randn_like(x)).backward()
    for name, param in model.named_parameters():
        assert param.grad is not None and torch.isfinite(param.grad).all(), name
        assert param.grad.abs().sum() > 0, name


def test_scalar_timestep_is_broadcast(tiny_config):
    model = UNet(tiny_config).eval()
    x = torch.randn(3, 3, 16, 16)
    assert torch.allclose(model(x, 42), model(x, torch.full((3,), 42)))
    assert torch.allclose(model(x, torch.tensor(42)), model(x, torch.full((3,), 42)))


def test_timestep_changes_the_output(tiny_config):
    model = UNet(tiny_config).eval()
    x = torch.randn(1, 3, 16, 16)
    assert not torch.allclose(model(x, 0), model(x, 999))


def test_output_is_exactly_zero_after_initialize_weights(tiny_config):
    model = initialize_weights(UNet(tiny_config))
    out = model(torch.randn(2, 3, 16, 16), torch.tensor([0, 999]))
    assert torch.count_nonzero(out) == 0


def test_initialize_weights_follows_the_chapter(tiny_config):
    model = initialize_weights(UNet(tiny_config))
    conv = model.encoder.levels[1].res_blocks[0].conv1  # 16 -> 32 channels, 3x3
    fan_out = 32 * 9
    assert conv.weight.std().item() == pytest.approx((2 / fan_out) ** 0.5, rel=0.1)
    linear = model.time_embed.linear1  # 16 -> 64
    bound = (6 / (16 + 64)) ** 0.5
    assert linear.weight.abs().max() <= bound and linear.weight.abs().max() > 0.9 * bound
    assert torch.count_nonzero(linear.bias) == 0
    norm = model.out_norm
    assert torch.equal(norm.weight, torch.ones_like(norm.weight))
    # The residual branches are not zeroed unless asked for.
    assert torch.count_nonzero(model.bottleneck.res_block1.conv2.weight) > 0


def test_zero_residual_branches_makes_blocks_start_as_identity(tiny_config):
    model = initialize_weights(UNet(tiny_config), zero_residual_branches=True)
    block, attn = model.bottleneck.res_block1, model.bottleneck.attn
    h, time_emb = torch.randn(2, 32, 4, 4), torch.randn(2, 64)
    assert torch.equal(block(h, time_emb), h)  # identity shortcut, zero branch
    assert torch.equal(attn(h), h)


@pytest.mark.parametrize("name", ["ddpm_cifar10", "ddpm_256"])
def test_ddpm_topology_skips(name):
    config = PRESETS[name].config
    rows = trace_shapes(config)
    levels, blocks = len(config.channel_mults), config.num_res_blocks
    # init_conv + every encoder ResBlock + every Downsample (none after the last level) save a skip ...
    assert sum(row.saves_skip for row in rows) == 1 + levels * blocks + (levels - 1)
    # ... and each decoder level has one ResBlock more than its encoder level to consume them.
    assert sum(row.skip_from is not None for row in rows) == levels * (blocks + 1)
    assert sum(row.kind == "Downsample" for row in rows) == sum(row.kind == "Upsample" for row in rows) == levels - 1


def test_class_embedding_counts_and_trace(tiny_config):
    """A class-conditional model adds exactly (num_classes + 1) x time_emb_dim parameters, its own component."""
    unconditional = UNet(tiny_config)
    conditional = UNet(tiny_config, num_classes=10)
    by_component = count_parameters_by_component(conditional)
    assert by_component["class_embed"] == 11 * tiny_config.time_emb_dim == 11 * 64
    assert sum(by_component.values()) == count_parameters(conditional)
    assert count_parameters(conditional) - count_parameters(unconditional) == 11 * 64
    assert tuple(count_parameters_by_component(unconditional)) == COMPONENTS  # unchanged without classes
    rows = trace_shapes(conditional.config, batch_size=2)
    embedding = [row for row in rows if row.kind == "ClassEmbedding"]
    assert len(embedding) == 1 and embedding[0].name == "class_embed" and embedding[0].stage == "time"
    assert embedding[0].in_shape == (2,) and embedding[0].out_shape == (2, 64) and embedding[0].params == 704
    assert not any(row.kind == "ClassEmbedding" for row in trace_shapes(tiny_config))


def test_labels_steer_the_output_and_none_means_no_class(tiny_config):
    torch.manual_seed(0)
    model = UNet(tiny_config, num_classes=3).eval()  # PyTorch's default init: the output conv is not zero
    x, t = torch.randn(2, 3, 16, 16), torch.tensor([10, 700])
    with torch.no_grad():
        with_label = model(x, t, torch.tensor([0, 0]))
        other_label = model(x, t, torch.tensor([2, 2]))
        no_label = model(x, t)
        null_label = model(x, t, torch.full((2,), model.null_class))
    assert model.null_class == 3
    assert torch.equal(no_label, null_label)  # y=None is the "no class" row
    assert (with_label - other_label).abs().max() > 1e-4
