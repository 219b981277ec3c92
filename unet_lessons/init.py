"""Weight initialization, and why the U-Net's last layer starts at exactly zero.

Taught in ``notebooks/06_init.ipynb``.
"""

from torch import nn

from unet_lessons.attention import AttentionBlock
from unet_lessons.resblock import ResBlock


def initialize_weights(model: nn.Module, zero_residual_branches: bool = False) -> nn.Module:
    """Initialize a UNet in place, as the chapter does; returns the model.

    - every ``Conv2d``: Kaiming-normal (fan_out, ReLU gain), bias 0;
    - every ``Linear``: Xavier-uniform, bias 0;
    - every ``GroupNorm``: weight 1, bias 0;
    - the output conv (``model.out_conv``): weight and bias exactly 0, so the untrained model predicts
      zero noise instead of a random field.

    Args:
        model: a :class:`unet_lessons.unet.UNet` (anything with an ``out_conv``).
        zero_residual_branches: also zero the last conv of every ResBlock and every attention output
            projection (as improved-diffusion does), so each block starts as the identity.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.Linear):
            nn.init.xavier_uniform_(module.weight)
            nn.init.zeros_(module.bias)
        elif isinstance(module, nn.GroupNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    zeroed = [model.out_conv]
    if zero_residual_branches:
        for module in model.modules():
            if isinstance(module, ResBlock):
                zeroed.append(module.conv2)
            elif isinstance(module, AttentionBlock):
                zeroed.append(module.proj)
    for conv in zeroed:
        nn.init.zeros_(conv.weight)
        nn.init.zeros_(conv.bias)
    return model
