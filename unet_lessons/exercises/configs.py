"""Self-checks for ``notebooks/05_configs.ipynb``: size a configuration, predict a scaling ratio, fix a config.

Every checker measures the real :class:`~unet_lessons.unet.UNet` on the meta device (no weights are
allocated) and compares it with the learner's answer.
"""

from collections.abc import Callable

import torch

from unet_lessons.analysis import count_parameters, trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.exercises import report, run_learner_code
from unet_lessons.unet import UNet

TARGET_PARAMS = 20_000_000
TARGET_TOLERANCE = 0.10  # within 10% counts as "about 20M"
TARGET_IMAGE_SIZE = 64

RATIO_BASE = PRESETS["chapter_example"].config  # the ratio exercise doubles this config's base_channels
RATIO_TOLERANCE = 0.05

# A colleague's configuration for 48x48 images; validate() rejects it for three different reasons.
BROKEN_CONFIG = UNetConfig(image_size=48, base_channels=100, channel_mults=(1, 2, 2, 4, 4),
                           attention_resolutions=(16,))
MIN_LEVELS = 4


def _meta_count(config: UNetConfig) -> int:
    with torch.device("meta"):
        return count_parameters(UNet(config))


def _validated(answer, what: str) -> UNetConfig | None:
    """The learner's config if it is a valid UNetConfig; else print why and return None."""
    if answer is None:
        report(False, "", f"Your function returns None: fill in its body and return {what}.")
        return None
    if not isinstance(answer, UNetConfig):
        report(False, "", f"Return a UNetConfig (e.g. PRESETS['light'].config.replace(...)); got {type(answer).__name__}.")
        return None
    try:
        return answer.validate()
    except ValueError as error:
        report(False, "", f"Your config does not validate. validate() says: {error}")
        return None


def check_config_near_20m(make_config: Callable[[], UNetConfig]) -> bool:
    """Check ``make_config() -> UNetConfig``: a valid config for 64x64 images with about 20M parameters.

    Args:
        make_config: the learner's function, no arguments.
    """
    ok, answer = run_learner_code(make_config)
    if not ok:
        return False
    config = _validated(answer, "a UNetConfig with about 20M parameters")
    if config is None:
        return False
    if config.image_size != TARGET_IMAGE_SIZE:
        return report(False, "", f"Keep image_size={TARGET_IMAGE_SIZE} (yours is {config.image_size}): "
                                 "the exercise sizes a model for 64x64 images.")
    params = _meta_count(config)
    off_by = (params - TARGET_PARAMS) / TARGET_PARAMS
    if abs(off_by) > TARGET_TOLERANCE:
        direction = "too many: shrink" if off_by > 0 else "too few: grow"
        return report(False, "", (
            f"Your config has {params:,} parameters ({100 * off_by:+.0f}% from 20M): {direction} it. "
            "base_channels is the big knob (parameters grow about with its square); the deepest "
            "channel multipliers are the next one, because the deepest levels hold most weights."
        ))
    return report(True, f"{params:,} parameters, {100 * off_by:+.1f}% from 20M, and it validates.", "")


def check_doubling_ratio(predict_ratio: Callable[[], float]) -> bool:
    """Check ``predict_ratio() -> float``: parameters with base_channels doubled / parameters as it is.

    The configuration is ``PRESETS["chapter_example"]`` (base_channels 128 -> 256). An answer within 5%
    of the measured ratio passes.

    Args:
        predict_ratio: the learner's function, no arguments.
    """
    ok, answer = run_learner_code(predict_ratio)
    if not ok:
        return False
    if answer is None:
        return report(False, "", "Your function returns None: return your predicted ratio as a number.")
    if isinstance(answer, bool) or not isinstance(answer, (int, float)):
        return report(False, "", f"Return a number such as 1.5; got {type(answer).__name__}.")
    measured = _meta_count(RATIO_BASE.replace(base_channels=2 * RATIO_BASE.base_channels)) / _meta_count(RATIO_BASE)
    if abs(answer - measured) > RATIO_TOLERANCE * measured:
        hint = ("A conv's weight has C_in x C_out x 3 x 3 entries: when base_channels doubles, *both* C_in and "
                "C_out double. What does that do to the product?")
        if abs(answer - 2) < 0.2:
            hint = "Not 2: " + hint
        return report(False, "", f"{answer} is not within 5% of the measured ratio. {hint}")
    return report(True, f"Measured: x{measured:.3f}. Almost every parameter sits in a weight with C_in x C_out "
                        "entries, so 2x channels gives 4x parameters; the biases and norms (x2) make it "
                        "a little under 4.", "")


def check_fixed_config(fix_config: Callable[[UNetConfig], UNetConfig]) -> bool:
    """Check ``fix_config(BROKEN_CONFIG) -> UNetConfig``: a valid config still for 48x48 images.

    The fixed config must validate, keep ``image_size=48``, keep at least four levels and keep
    attention at some level (``attention_resolutions`` not empty); its forward pass must return the
    input's shape (traced on the meta device).

    Args:
        fix_config: the learner's function; it receives ``BROKEN_CONFIG``.
    """
    ok, answer = run_learner_code(fix_config, BROKEN_CONFIG)
    if not ok:
        return False
    config = _validated(answer, "the fixed UNetConfig")
    if config is None:
        return False
    if config.image_size != BROKEN_CONFIG.image_size:
        return report(False, "", f"Keep image_size={BROKEN_CONFIG.image_size}: the images are what they are.")
    if len(config.channel_mults) < MIN_LEVELS:
        return report(False, "", f"Keep at least {MIN_LEVELS} levels (channel_mults has {len(config.channel_mults)}).")
    if not config.attention_resolutions:
        return report(False, "", "Keep attention at one of the levels: choose a resolution this config really has.")
    rows = trace_shapes(config)
    output_shape, input_shape = rows[-1].out_shape, (1, config.in_channels, config.image_size, config.image_size)
    if output_shape != input_shape:
        return report(False, "", f"The output has shape {list(output_shape)}, not the input's {list(input_shape)}.")
    return report(True, (
        f"It validates: {len(config.channel_mults)} levels at {list(config.level_resolutions)}, bottleneck "
        f"{config.bottleneck_resolution}x{config.bottleneck_resolution}, attention at "
        f"{list(config.attention_resolutions)}, {_meta_count(config):,} parameters."
    ), "")
