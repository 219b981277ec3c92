import pytest
import torch

from unet_lessons.configs import UNetConfig


@pytest.fixture
def tiny_config() -> UNetConfig:
    """Small enough to run forward and backward on the CPU in well under a second."""
    return UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2), num_res_blocks=1,
                      attention_resolutions=(8,), groups=8)


@pytest.fixture(autouse=True)
def seeded():
    torch.manual_seed(0)
