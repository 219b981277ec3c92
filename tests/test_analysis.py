"""``unet_lessons.analysis`` beyond counting and tracing (which test_unet covers)."""

from torch import nn

from unet_lessons.analysis import block_kind, trace_shapes
from unet_lessons.unet import UNet


def test_block_kind_names_the_traced_blocks_and_nothing_else(tiny_config):
    model = UNet(tiny_config)
    kinds = {name: block_kind(name, module) for name, module in model.named_modules()}
    traced = {row.name: row.kind for row in trace_shapes(tiny_config)}
    assert {name: kind for name, kind in kinds.items() if kind is not None} == traced
    assert block_kind("encoder.levels.0.res_blocks.0.conv1", nn.Conv2d(1, 1, 3)) is None
    assert block_kind("out_conv", nn.Conv2d(1, 1, 3)) == "OutConv"
