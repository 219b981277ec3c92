"""The checkers of 00_overview: a right answer passes, a wrong one fails with a hint, an error is caught."""

from unet_lessons.configs import UNetConfig
from unet_lessons.exercises.overview import (
    OUTPUT_SHAPE_CASES,
    check_output_shape,
    check_skip_count,
    model_output_shape,
    model_skip_count,
)


def test_truth_for_the_default_config():
    config = UNetConfig()
    assert model_output_shape(2, config) == (2, config.out_channels, config.image_size, config.image_size)
    assert model_skip_count(config) == len(config.channel_mults) * config.num_res_blocks == 8


def test_one_case_changes_the_channel_count():
    assert any(config.in_channels != config.out_channels for _, config in OUTPUT_SHAPE_CASES)


def test_right_answers_pass(capsys):
    assert check_output_shape(lambda batch, config: (batch, config.out_channels, config.image_size,
                                                     config.image_size))
    assert check_skip_count(lambda config: len(config.channel_mults) * config.num_res_blocks)
    assert capsys.readouterr().out.count("✔") == 2


def test_the_stub_gets_a_hint(capsys):
    assert not check_output_shape(lambda batch, config: None)
    assert "returns None" in capsys.readouterr().out
    assert not check_skip_count(lambda config: None)
    assert "returns None" in capsys.readouterr().out


def test_copying_the_input_shape_fails_with_a_hint(capsys):
    assert not check_output_shape(lambda batch, config: (batch, config.in_channels, config.image_size,
                                                         config.image_size))
    assert "output's channels" in capsys.readouterr().out


def test_a_constant_skip_count_fails(capsys):
    assert not check_skip_count(lambda config: 8)  # right for the default config only
    out = capsys.readouterr().out
    assert "✘" in out and "ResBlocks" in out


def test_wrong_types_get_a_hint(capsys):
    assert not check_output_shape(lambda batch, config: "64x64")
    assert "tuple of four ints" in capsys.readouterr().out
    assert not check_skip_count(lambda config: 8.0)
    assert "Return an int" in capsys.readouterr().out


def test_an_exception_is_caught_and_shown(capsys):
    assert not check_output_shape(lambda batch, config: config.no_such_field)
    assert "AttributeError" in capsys.readouterr().out
    assert not check_skip_count(lambda config: [][0])
    assert "IndexError" in capsys.readouterr().out
