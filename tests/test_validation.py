"""Bad input gets a ValueError that names the field, before any layer is built."""

import re

import pytest
import torch

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import UNetConfig
from unet_lessons.unet import UNet

# (fields changed from the default config, words the message must contain)
BAD_CONFIGS = [
    ({"image_size": 60}, ["image_size=60", "2**4=16", "multiple of 16"]),
    ({"image_size": 64.0}, ["image_size=64.0", "int"]),
    ({"image_size": True}, ["image_size=True", "int"]),
    ({"image_size": 0}, ["image_size=0", "positive"]),
    ({"channel_mults": ()}, ["channel_mults", "at least one level"]),
    ({"channel_mults": (1, 0, 2)}, ["channel_mults", "position 1", "positive"]),
    ({"channel_mults": (1, -2)}, ["channel_mults", "-2"]),
    ({"channel_mults": "1224"}, ["channel_mults='1224'", "tuple"]),
    ({"channel_mults": (1, 2.5)}, ["channel_mults", "2.5"]),
    ({"base_channels": 0}, ["base_channels=0", "positive"]),
    ({"base_channels": 100}, ["base_channels=100", "groups=32"]),
    ({"base_channels": 32, "channel_mults": (1, 3), "attention_resolutions": (16,)}, []),  # 96 = 3 x 32: valid
    ({"base_channels": 48, "groups": 16, "channel_mults": (1, 3), "attention_resolutions": ()}, []),
    ({"base_channels": 48, "channel_mults": (1, 2), "attention_resolutions": ()}, ["base_channels=48", "groups=32"]),
    ({"base_channels": 32, "groups": 16, "channel_mults": (1, 1.5)}, ["channel_mults"]),
    ({"num_res_blocks": 0}, ["num_res_blocks=0", "positive"]),
    ({"num_res_blocks": 2.0}, ["num_res_blocks=2.0", "int"]),
    ({"in_channels": 0}, ["in_channels=0", "positive"]),
    ({"out_channels": -3}, ["out_channels=-3", "positive"]),
    ({"groups": 0}, ["groups=0", "positive"]),
    ({"attention_resolutions": (12,)}, ["attention_resolutions", "12x12", "[64, 32, 16, 8, 4]"]),
    ({"attention_resolutions": (128,)}, ["attention_resolutions", "128x128"]),
    ({"attention_resolutions": 16}, ["attention_resolutions=16", "tuple", "(16,)"]),  # not channel_mults' example
    ({"attention_resolutions": (4,)}, []),  # the bottleneck runs at 4x4: valid
    ({"dropout": 1.0}, ["dropout=1.0", "[0, 1)"]),
    ({"dropout": -0.1}, ["dropout=-0.1"]),
    ({"dropout": "0.1"}, ["dropout='0.1'", "float"]),
    ({"num_heads": 3}, ["num_heads=3", "divide"]),
    ({"num_heads": 0}, ["num_heads=0", "positive"]),
    ({"topology": "resnet"}, ["topology='resnet'", "chapter"]),
    ({"topology": "ddpm", "image_size": 36}, ["image_size=36", "2**3=8"]),
    ({"num_classes": 0}, ["num_classes=0", "None for an unconditional model"]),
    ({"num_classes": 10.0}, ["num_classes=10.0", "int"]),
    ({"num_classes": True}, ["num_classes=True", "int"]),
    ({"num_classes": 10}, []),
    # Sizes no PyTorch tensor can hold, even on the meta device (its byte count is a signed 64-bit integer):
    ({"channel_mults": (1, 2, 2, 10**9)}, ["widest convolution's weight", "2**61", "channel_mults"]),
    ({"image_size": 2**40, "channel_mults": (1,), "attention_resolutions": ()}, ["full-resolution activation",
                                                                                 "image_size"]),
    ({"image_size": 2**17, "channel_mults": (1,), "attention_resolutions": ()}, ["attention matrix at 65536x65536",
                                                                                 "image_size"]),
    ({"num_classes": 2**60}, ["class embedding", "num_classes"]),
    ({"image_size": 2**16, "channel_mults": (1,), "attention_resolutions": ()}, []),  # just below: valid
]


@pytest.mark.parametrize("fields, words", BAD_CONFIGS, ids=[str(f) for f, _ in BAD_CONFIGS])
def test_config_validation(fields, words):
    config = UNetConfig(**fields)
    if not words:
        assert config.validate() is config
        return
    with pytest.raises(ValueError) as error:
        config.validate()
    for word in words:
        assert word in str(error.value), f"{word!r} not in {error.value}"
    # The constructor validates first, so the same message appears before any layer is built.
    with pytest.raises(ValueError, match="^" + re.escape(str(error.value))):
        UNet(**fields)


def test_lists_are_accepted_as_tuples():
    assert UNetConfig(channel_mults=[1, 2, 2, 4]) == UNetConfig()


def test_unknown_field_is_named():
    with pytest.raises(ValueError, match="attention_res"):
        UNet(attention_res=(16,))


@pytest.fixture(scope="module")
def model():
    return UNet(UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                           attention_resolutions=(8,), groups=8)).eval()


BAD_INPUTS = [
    (torch.zeros(3, 16, 16), torch.tensor([1]), ["4-D", "[3, 16, 16]", "x[None]"]),
    (torch.zeros(1, 1, 3, 16, 16), torch.tensor([1]), ["4-D"]),
    ([[0.0]], torch.tensor([1]), ["4-D", "list"]),
    (torch.zeros(2, 1, 16, 16), torch.tensor([1, 2]), ["1 channels", "in_channels=3"]),
    (torch.zeros(2, 3, 32, 32), torch.tensor([1, 2]), ["32x32", "image_size=16"]),
    (torch.zeros(2, 3, 16, 8), torch.tensor([1, 2]), ["16x8", "image_size=16"]),
    (torch.zeros(2, 3, 16, 16), torch.tensor([1, 2, 3]), ["t must", "[2]", "[3]"]),
    (torch.zeros(2, 3, 16, 16), torch.tensor([[1, 2]]), ["t must", "[1, 2]"]),
]


@pytest.mark.parametrize("x, t, words", BAD_INPUTS)
def test_forward_input_validation(model, x, t, words):
    with pytest.raises(ValueError) as error:
        model(x, t)
    for word in words:
        assert word in str(error.value), f"{word!r} not in {error.value}"


@pytest.fixture(scope="module")
def conditional_model():
    return UNet(UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                           attention_resolutions=(8,), groups=8, num_classes=3)).eval()


BAD_LABELS = [
    (torch.tensor([0, 4]), ["y holds labels outside 0..3", "[0, 4]", "3 means no class"]),
    (torch.tensor([-1, 2]), ["outside 0..3", "-1"]),
    (torch.tensor([0.0, 1.0]), ["y must be a tensor of integer class labels", "torch.float32"]),
    (torch.tensor([True, False]), ["integer class labels", "torch.bool"]),
    ([0, 1], ["integer class labels", "list"]),
    (torch.tensor([0, 1, 2]), ["one label per image", "[2]", "[3]"]),
    (torch.tensor(1), ["one label per image", "[2]", "[]"]),
]


@pytest.mark.parametrize("y, words", BAD_LABELS)
def test_label_validation(conditional_model, y, words):
    with pytest.raises(ValueError) as error:
        conditional_model(torch.zeros(2, 3, 16, 16), torch.tensor([1, 2]), y)
    for word in words:
        assert word in str(error.value), f"{word!r} not in {error.value}"


def test_labels_to_an_unconditional_model_are_refused(model):
    with pytest.raises(ValueError, match="y: this UNet is unconditional.*num_classes=10"):
        model(torch.zeros(2, 3, 16, 16), torch.tensor([1, 2]), torch.tensor([0, 1]))


@pytest.mark.parametrize("fields", [
    {"channel_mults": (2_700_000,), "attention_resolutions": ()},  # a 3.5e8-channel level: weights of 2.2e18
    {"image_size": 2**16, "channel_mults": (1,), "attention_resolutions": ()},  # bottleneck attention 32768x32768
    {"image_size": 2**14, "channel_mults": (1, 1), "attention_resolutions": (2**14,)},  # attention at full size
], ids=["widest weight", "bottleneck attention", "full-size attention"])
def test_sizes_just_inside_the_limit_trace_on_the_meta_device(fields):
    """validate()'s size limit is not too loose: what it lets through, PyTorch can trace on the meta device."""
    config = UNetConfig(**fields).validate()
    rows = trace_shapes(config)
    assert rows[-1].out_shape == (1, 3, config.image_size, config.image_size)
