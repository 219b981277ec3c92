"""Our DDPM U-Net against diffusers' UNet2DModel: the same function, weight for weight, parameter for parameter."""

import os

os.environ["HF_HUB_OFFLINE"] = "1"  # read when huggingface_hub is imported: no test may reach the network

import sys
from pathlib import Path

import diffusers
import pytest
import torch
from diffusers import UNet2DModel

from unet_lessons.analysis import count_parameters, count_parameters_by_component
from unet_lessons.configs import PRESETS
from unet_lessons.diffusers_port import (
    DIFFUSERS_VERSION,
    WeightsUnavailableError,
    config_from_diffusers,
    diffusers_config,
    load_diffusers_weights,
    load_published_ddpm_cifar10,
    our_name,
    port_diffusers_unet,
)
from unet_lessons.unet import UNet

ROOT = Path(__file__).resolve().parents[1]

# The configuration of google/ddpm-cifar10-32 (Ho et al. 2020's CIFAR-10 model, converted by diffusers).
DDPM_CIFAR10 = dict(
    sample_size=32, in_channels=3, out_channels=3, block_out_channels=(128, 256, 256, 256), layers_per_block=2,
    down_block_types=("DownBlock2D", "AttnDownBlock2D", "DownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "UpBlock2D", "AttnUpBlock2D", "UpBlock2D"),
    freq_shift=1, flip_sin_to_cos=False, downsample_padding=0, norm_eps=1e-6, attention_head_dim=None,
    dropout=0.1, act_fn="silu", norm_num_groups=32,
)
# google/ddpm-cat-256 (and the church, bedroom, CelebA-HQ models): the paper's 256x256 architecture.
DDPM_256 = dict(
    DDPM_CIFAR10, sample_size=256, block_out_channels=(128, 128, 256, 256, 512, 512), dropout=0.0,
    down_block_types=("DownBlock2D",) * 4 + ("AttnDownBlock2D", "DownBlock2D"),
    up_block_types=("UpBlock2D", "AttnUpBlock2D") + ("UpBlock2D",) * 4,
)
TIMESTEPS = (0, 7, 500, 999)


def randomize(model: torch.nn.Module, seed: int) -> torch.nn.Module:
    """Random weights everywhere, so that no check passes because a layer is the identity or zero."""
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.GroupNorm):  # default 1 and 0 would hide a swapped weight/bias
                module.weight.copy_(1 + 0.2 * torch.randn(module.weight.shape, generator=generator))
                module.bias.copy_(0.2 * torch.randn(module.bias.shape, generator=generator))
        for param in model.parameters():
            if torch.count_nonzero(param) == 0:  # a zero-initialised layer
                param.copy_(0.02 * torch.randn(param.shape, generator=generator))
    return model


@pytest.fixture(scope="module")
def theirs() -> UNet2DModel:
    torch.manual_seed(0)
    return randomize(UNet2DModel(**DDPM_CIFAR10), seed=1).eval()


@pytest.fixture(scope="module")
def ours(theirs) -> UNet:
    return port_diffusers_unet(theirs)


def test_the_random_weights_hide_nothing(theirs):
    for name, param in theirs.named_parameters():
        assert torch.count_nonzero(param) > 0, name
    norms = [m for m in theirs.modules() if isinstance(m, torch.nn.GroupNorm)]
    assert norms and all(not torch.all(m.weight == 1) and not torch.all(m.bias == 0) for m in norms)


@pytest.mark.parametrize("t", TIMESTEPS)
def test_same_output_as_diffusers(theirs, ours, t):
    assert not ours.training and not theirs.training  # dropout 0.1 is off in both
    x = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        expected = theirs(x, t).sample
        actual = ours(x, t)
    assert expected.abs().max() > 0.1  # a real output, not a near-zero one that any model would match
    assert (actual - expected).abs().max() < 1e-4


def test_same_output_for_a_batch_of_different_timesteps(theirs, ours):
    x = torch.randn(len(TIMESTEPS), 3, 32, 32)
    t = torch.tensor(TIMESTEPS)
    with torch.no_grad():
        assert (ours(x, t) - theirs(x, t).sample).abs().max() < 1e-4


def test_every_tensor_is_used_once(theirs, ours):
    their_state, our_state = theirs.state_dict(), ours.state_dict()
    attention_blocks = sum(type(m).__name__ == "Attention" for m in theirs.modules())
    # Each attention block: to_q, to_k, to_v (3 weights + 3 biases) become qkv (1 + 1).
    assert len(our_state) == len(their_state) - 4 * attention_blocks
    assert sum(t.numel() for t in our_state.values()) == sum(t.numel() for t in their_state.values())
    attn, their_attn = ours.bottleneck.attn, theirs.mid_block.attentions[0]
    channels = attn.proj.out_channels
    assert torch.equal(attn.qkv.weight[channels:2 * channels, :, 0, 0], their_attn.to_k.weight)
    assert torch.equal(attn.qkv.bias[2 * channels:], their_attn.to_v.bias)
    assert torch.equal(attn.proj.weight[:, :, 0, 0], their_attn.to_out[0].weight)


def test_our_name_follows_the_table():
    assert our_name("mid_block.attentions.0.to_k.weight", 4) == ("bottleneck.attn.qkv.weight", 1)
    assert our_name("conv_in.bias", 4) == ("init_conv.bias", None)
    # up_blocks run deepest first; our decoder levels are numbered by resolution, like the encoder's
    assert our_name("up_blocks.2.resnets.1.time_emb_proj.weight", 4) == (
        "decoder.levels.1.res_blocks.1.time_proj.weight", None)
    assert our_name("up_blocks.0.upsamplers.0.conv.bias", 4) == ("decoder.levels.3.upsample.conv.bias", None)
    assert our_name("class_embedding.weight", 4) == ("class_embed.weight", None)
    assert our_name("add_embedding.linear_1.weight", 4) is None  # SDXL's extra embedding: not in our UNet


def test_parameter_breakdown_matches_diffusers_modules(theirs, ours):
    def size(*modules):
        return sum(count_parameters(m) for m in modules)

    assert count_parameters_by_component(ours) == {
        "time_embed": size(theirs.time_embedding),
        "init_conv": size(theirs.conv_in),
        "encoder": size(theirs.down_blocks),
        "bottleneck": size(theirs.mid_block),
        "decoder": size(theirs.up_blocks),
        "output": size(theirs.conv_norm_out, theirs.conv_out),
    }
    assert count_parameters(ours) == count_parameters(theirs) == 35_746_307  # the paper's 35.7M


def test_config_of_the_published_models_are_our_presets(theirs):
    assert config_from_diffusers(theirs.config) == PRESETS["ddpm_cifar10"].config
    with torch.device("meta"):
        their_256 = UNet2DModel(**DDPM_256)
        our_256 = UNet(PRESETS["ddpm_256"].config)
    assert config_from_diffusers(their_256.config) == PRESETS["ddpm_256"].config
    load_diffusers_weights(our_256, their_256)  # every key and shape fits (meta: nothing is copied)
    assert count_parameters(our_256) == count_parameters(their_256) == 113_673_219  # the paper's 114M


def test_mismatched_architecture_names_the_keys(theirs):
    with torch.device("meta"):
        fewer_blocks = UNet(PRESETS["ddpm_cifar10"].config.replace(num_res_blocks=1))
    with pytest.raises(ValueError) as error:
        load_diffusers_weights(fewer_blocks, theirs)
    message = str(error.value)
    assert "down_blocks.0.resnets.1.norm1.weight -> encoder.levels.0.res_blocks.1.norm1.weight" in message
    assert "config_from_diffusers" in message


def test_mismatched_widths_name_the_shapes(theirs):
    with torch.device("meta"):
        narrower = UNet(PRESETS["ddpm_cifar10"].config.replace(base_channels=64))
    with pytest.raises(ValueError, match=r"shape mismatches .*init_conv.weight: diffusers \[128, 3, 3, 3\], "
                                         r"ours \[64, 3, 3, 3\]"):
        load_diffusers_weights(narrower, theirs)


def test_equal_shapes_but_different_heads_is_refused(theirs):
    with torch.device("meta"):
        two_heads = UNet(PRESETS["ddpm_cifar10"].config.replace(num_heads=2))
    with pytest.raises(ValueError, match="num_heads=2 here, 1 in the diffusers model"):
        load_diffusers_weights(two_heads, theirs)


def test_multi_head_attention_ports_exactly():
    # diffusers fixes the head size: 8 channels per head over 32 channels -> our num_heads=4.
    small = dict(DDPM_CIFAR10, sample_size=16, block_out_channels=(32, 32), norm_num_groups=8,
                 attention_head_dim=8, down_block_types=("AttnDownBlock2D", "DownBlock2D"),
                 up_block_types=("UpBlock2D", "AttnUpBlock2D"))
    theirs = randomize(UNet2DModel(**small), seed=2).eval()
    ours = port_diffusers_unet(theirs)
    assert ours.config.num_heads == 4 and ours.config.attention_resolutions == (16,)
    x, t = torch.randn(3, 3, 16, 16), torch.tensor([0, 500, 999])
    with torch.no_grad():
        assert (ours(x, t) - theirs(x, t).sample).abs().max() < 1e-5


@pytest.mark.parametrize("name", ["ddpm_cifar10", "ddpm_256"])
def test_diffusers_config_builds_the_published_architectures(name):
    published = {"ddpm_cifar10": DDPM_CIFAR10, "ddpm_256": DDPM_256}[name]
    options = diffusers_config(PRESETS[name].config)
    assert {key: options[key] for key in published} == published
    assert config_from_diffusers(options) == PRESETS[name].config


def test_diffusers_config_keeps_the_head_count(tiny_config):
    config = tiny_config.replace(topology="ddpm", groups=4, num_heads=2)
    assert diffusers_config(config)["attention_head_dim"] == config.level_channels[-1] // 2
    theirs = randomize(UNet2DModel(**diffusers_config(config)), seed=3).eval()
    ours = port_diffusers_unet(theirs)  # refuses any architecture but ours
    assert ours.config == config


@pytest.mark.parametrize("fields, message", [
    (dict(topology="chapter"), "topology"),
    (dict(topology="ddpm", channel_mults=(1, 2, 3), attention_resolutions=(16,), num_heads=8), "num_heads"),
])
def test_diffusers_config_names_what_diffusers_cannot_build(tiny_config, fields, message):
    with pytest.raises(ValueError, match=message):
        diffusers_config(tiny_config.replace(**fields))


@pytest.mark.parametrize("option, value", [
    ("flip_sin_to_cos", True),
    ("freq_shift", 0),
    ("norm_eps", 1e-5),
    ("downsample_padding", 1),
    ("resnet_time_scale_shift", "scale_shift"),
    ("time_embedding_type", "fourier"),
    ("class_embed_type", "timestep"),
    ("act_fn", "gelu"),
    ("norm_num_groups", None),
    ("attn_norm_num_groups", 16),
    ("attention_head_dim", 96),  # 256 channels do not split into heads of 96
    ("sample_size", (32, 64)),
    ("block_out_channels", (128, 192, 256, 256)),
    ("down_block_types", ("DownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D", "DownBlock2D")),
    ("up_block_types", ("UpBlock2D", "AttnUpBlock2D", "UpBlock2D", "UpBlock2D")),  # not the 16x16 level
    ("upcast_everything", True),  # an option this port does not know
])
def test_config_from_diffusers_names_the_unsupported_option(theirs, option, value):
    config = dict(theirs.config, **{option: value})
    with pytest.raises(ValueError, match=option):
        config_from_diffusers(config)


def test_a_different_head_count_per_block_is_refused(theirs):
    # Heads of 64 channels: 4 heads at 16x16 (256 channels) but 8 at the mid block (512 channels).
    config = dict(theirs.config, block_out_channels=(128, 256, 256, 512), attention_head_dim=64)
    with pytest.raises(ValueError, match="attention_head_dim=64"):
        config_from_diffusers(config)


def test_published_weights_offline_raise_a_catchable_error(tmp_path):
    with pytest.raises(WeightsUnavailableError, match="google/ddpm-cifar10-32"):
        load_published_ddpm_cifar10(cache_dir=str(tmp_path))  # offline, and an empty cache


def test_without_diffusers_the_error_says_what_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "diffusers", None)  # makes `import diffusers` fail
    with pytest.raises(ImportError, match=f"pip install diffusers=={DIFFUSERS_VERSION}"):
        load_published_ddpm_cifar10()


def test_the_tested_diffusers_is_a_pinned_one():
    # our set-up's (requirements-dev.txt, named in the install hint) or Colab's (requirements-colab.txt)
    assert f"diffusers=={DIFFUSERS_VERSION}" in (ROOT / "requirements-dev.txt").read_text().splitlines()
    pinned = {line.split("==")[1] for name in ("requirements-dev.txt", "requirements-colab.txt")
              for line in (ROOT / name).read_text().splitlines() if line.startswith("diffusers==")}
    assert diffusers.__version__ in pinned


def test_class_conditional_model_ports_exactly():
    # diffusers' num_class_embeds rows are our num_classes + 1: the last row is "no class".
    small = dict(DDPM_CIFAR10, sample_size=16, block_out_channels=(32, 32), norm_num_groups=8,
                 down_block_types=("AttnDownBlock2D", "DownBlock2D"), up_block_types=("UpBlock2D", "AttnUpBlock2D"),
                 num_class_embeds=11)
    theirs = randomize(UNet2DModel(**small), seed=4).eval()
    ours = port_diffusers_unet(theirs)
    assert ours.config.num_classes == 10 and diffusers_config(ours.config)["num_class_embeds"] == 11
    assert count_parameters_by_component(ours)["class_embed"] == count_parameters(theirs.class_embedding) == 11 * 128
    x, t, y = torch.randn(4, 3, 16, 16), torch.tensor([0, 7, 500, 999]), torch.tensor([0, 3, 9, 10])
    with torch.no_grad():
        assert (ours(x, t, y) - theirs(x, t, class_labels=y).sample).abs().max() < 1e-5
        # a different label changes the output: the embedding is really used
        assert (ours(x, t, y) - ours(x, t, torch.tensor([1, 3, 9, 10]))).abs().max() > 1e-3


def test_an_unconditional_model_refuses_class_embeddings(theirs):
    conditional = UNet(config_from_diffusers(theirs.config), num_classes=10)
    with pytest.raises(ValueError, match="class_embed"):
        load_diffusers_weights(conditional, theirs)
