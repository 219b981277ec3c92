"""The lesson-05 checkers accept right answers, reject wrong ones with a hint, and never raise."""

import pytest
import torch

from unet_lessons.analysis import count_parameters
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.exercises.configs import (
    BROKEN_CONFIG,
    RATIO_BASE,
    TARGET_PARAMS,
    TARGET_TOLERANCE,
    check_config_near_20m,
    check_doubling_ratio,
    check_fixed_config,
)
from unet_lessons.unet import UNet


def meta_count(config: UNetConfig) -> int:
    with torch.device("meta"):
        return count_parameters(UNet(config))


@pytest.mark.parametrize("checker", [check_config_near_20m, check_doubling_ratio])
def test_unfilled_stub_gets_a_hint(checker, capsys):
    assert checker(lambda: None) is False
    assert "returns None" in capsys.readouterr().out


def test_unfilled_fix_gets_a_hint(capsys):
    assert check_fixed_config(lambda config: None) is False
    assert "returns None" in capsys.readouterr().out


def test_a_learner_error_becomes_a_message(capsys):
    def broken():
        raise KeyError("oops")

    assert check_config_near_20m(broken) is False
    assert "KeyError" in capsys.readouterr().out


def test_a_20m_config_passes(capsys):
    config = UNetConfig(base_channels=64, channel_mults=(1, 2, 3, 4))
    assert abs(meta_count(config) - TARGET_PARAMS) <= TARGET_TOLERANCE * TARGET_PARAMS  # the premise
    assert check_config_near_20m(lambda: config) is True
    assert f"{meta_count(config):,}" in capsys.readouterr().out


def test_a_config_far_from_20m_fails(capsys):
    config = PRESETS["chapter_example"].config
    assert check_config_near_20m(lambda: config) is False
    assert "too many" in capsys.readouterr().out


def test_an_invalid_config_shows_the_validation_message(capsys):
    assert check_config_near_20m(lambda: UNetConfig(base_channels=100)) is False
    assert "groups=32" in capsys.readouterr().out


def test_the_measured_ratio_passes_and_two_fails(capsys):
    measured = meta_count(RATIO_BASE.replace(base_channels=2 * RATIO_BASE.base_channels)) / meta_count(RATIO_BASE)
    assert check_doubling_ratio(lambda: round(measured, 1)) is True
    assert check_doubling_ratio(lambda: 2) is False
    assert "Not 2" in capsys.readouterr().out
    assert check_doubling_ratio(lambda: "four") is False


def test_the_broken_config_is_broken():
    with pytest.raises(ValueError):
        BROKEN_CONFIG.validate()


def test_a_real_fix_passes():
    def fix(config):
        return config.replace(channel_mults=(1, 2, 2, 4), base_channels=96, attention_resolutions=(12,))

    assert check_fixed_config(fix) is True


@pytest.mark.parametrize("changes, hint", [
    ({"image_size": 64, "base_channels": 96, "attention_resolutions": (16,)}, "image_size=48"),
    ({"channel_mults": (1, 2, 2), "base_channels": 96, "attention_resolutions": (12,)}, "4 levels"),
    ({"channel_mults": (1, 2, 2, 4), "base_channels": 96, "attention_resolutions": ()}, "attention"),
    ({"channel_mults": (1, 2, 2, 4)}, "validate() says"),
])
def test_fixes_that_dodge_the_task_fail(changes, hint, capsys):
    assert check_fixed_config(lambda config: config.replace(**changes)) is False
    assert hint in capsys.readouterr().out
