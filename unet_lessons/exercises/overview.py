"""Self-checks for ``notebooks/00_overview.ipynb``: two warm-up predictions about the whole U-Net.

The expected answers are measured on the real :class:`~unet_lessons.unet.UNet`, built and run on the
meta device (shapes only, no weights allocated).
"""

from collections.abc import Callable

import torch

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.exercises import report
from unet_lessons.exercises.assembly import describe, learner_answers
from unet_lessons.unet import UNet

# (batch_size, config) pairs; one predicts 6 channels (noise and variance, as in improved DDPM)
# from a 1-channel image, so an answer that copies the input shape fails.
OUTPUT_SHAPE_CASES = (
    (1, UNetConfig()),
    (4, PRESETS["light"].config),
    (2, UNetConfig(image_size=32, in_channels=1, out_channels=6, base_channels=32, channel_mults=(1, 2),
                   attention_resolutions=(16,), groups=8)),
)

SKIP_COUNT_CONFIGS = (
    UNetConfig(),
    PRESETS["improved"].config,
    PRESETS["highres"].config,
    UNetConfig(image_size=32, base_channels=32, channel_mults=(1, 2), num_res_blocks=1,
               attention_resolutions=(16,), groups=8),
)


def model_output_shape(batch_size: int, config: UNetConfig) -> tuple[int, ...]:
    """The shape ``UNet(config)`` returns for a batch of ``batch_size`` images (run on meta)."""
    with torch.device("meta"):
        model = UNet(config)
        x = torch.zeros(batch_size, config.in_channels, config.image_size, config.image_size)
        return tuple(model(x, torch.zeros(batch_size, dtype=torch.long)).shape)


def model_skip_count(config: UNetConfig) -> int:
    """How many feature maps the encoder saves for the decoder (traced on meta)."""
    return sum(row.saves_skip for row in trace_shapes(config))


def check_output_shape(output_shape: Callable[[int, UNetConfig], tuple[int, ...]]) -> bool:
    """Check ``output_shape(batch_size, config) -> (batch, channels, height, width)`` of the UNet's output.

    Args:
        output_shape: the learner's function.
    """
    answers = learner_answers(output_shape, OUTPUT_SHAPE_CASES, "return a tuple (batch, channels, height, width).")
    if answers is None:
        return False
    for (batch_size, config), answer in zip(OUTPUT_SHAPE_CASES, answers):
        if not isinstance(answer, (list, tuple, torch.Size)):
            return report(False, "", f"Return a tuple of four ints; got {type(answer).__name__}.")
        expected = model_output_shape(batch_size, config)
        if tuple(answer) != expected:
            return report(False, "", (
                f"For batch_size={batch_size} and a config with in_channels={config.in_channels}, "
                f"out_channels={config.out_channels}, image_size={config.image_size} you predicted "
                f"{tuple(answer)}. The U-Net predicts one value per pixel and output channel: which "
                "config field sets the output's channels?"
            ))
    return report(True, "Right: [batch, out_channels, image_size, image_size], the shape of the noise.", "")


def check_skip_count(skip_count: Callable[[UNetConfig], int]) -> bool:
    """Check ``skip_count(config) -> int``: how many skips the encoder saves.

    Args:
        skip_count: the learner's function.
    """
    answers = learner_answers(skip_count, [(config,) for config in SKIP_COUNT_CONFIGS],
                              "return the number of skips, an int.")
    if answers is None:
        return False
    for config, answer in zip(SKIP_COUNT_CONFIGS, answers):
        if isinstance(answer, bool) or not isinstance(answer, int):
            return report(False, "", f"Return an int; got {type(answer).__name__}.")
        if answer != model_skip_count(config):
            return report(False, "", (
                f"For {describe(config)} you said {answer}. In the chapter's U-Net every encoder ResBlock "
                "(with its attention, where there is one) saves its output; how many ResBlocks does the "
                "encoder have?"
            ))
    return report(True, f"Right for all {len(SKIP_COUNT_CONFIGS)} configurations: one skip per encoder ResBlock.", "")
