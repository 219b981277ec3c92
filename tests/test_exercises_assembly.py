"""The checkers of 04_assembly: a right answer passes, a wrong one fails with a hint, an error is caught."""

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.exercises.assembly import (
    CHECK_CONFIGS,
    check_bottleneck_shape,
    check_decoder_in_channels,
    check_skip_source,
    model_bottleneck_shape,
    model_decoder_in_channels,
)


def decoder_in_channels_solution(config: UNetConfig) -> list[int]:
    skips = [c for c in config.level_channels for _ in range(config.num_res_blocks)]
    h_channels = config.level_channels[-1]
    in_channels = []
    for level_channels in reversed(config.level_channels):
        for _ in range(config.num_res_blocks):
            in_channels.append(h_channels + skips.pop())
            h_channels = level_channels
    return in_channels


def bottleneck_shape_solution(config: UNetConfig) -> tuple[int, int, int]:
    resolution = config.image_size // 2 ** len(config.channel_mults)
    return config.level_channels[-1], resolution, resolution


def test_truth_for_the_default_config():
    # Read off the chapter's data flow: h (512) meets skips of 512, 512, 256, 256, 256, 256, 128, 128.
    assert model_decoder_in_channels(UNetConfig()) == [1024, 1024, 768, 512, 512, 512, 384, 256]
    assert model_bottleneck_shape(UNetConfig()) == (512, 4, 4)


def test_the_check_configs_differ_in_what_the_exercises_ask():
    assert len({tuple(model_decoder_in_channels(c)) for c in CHECK_CONFIGS}) == len(CHECK_CONFIGS)
    assert len({model_bottleneck_shape(c) for c in CHECK_CONFIGS}) > 2


def test_right_answers_pass(capsys):
    assert check_decoder_in_channels(decoder_in_channels_solution)
    assert check_bottleneck_shape(bottleneck_shape_solution)
    assert capsys.readouterr().out.count("✅") == 2


def test_the_stub_gets_a_hint(capsys):
    assert not check_decoder_in_channels(lambda config: None)
    assert "returns None" in capsys.readouterr().out
    assert not check_bottleneck_shape(lambda config: None)
    assert "returns None" in capsys.readouterr().out


def test_forgetting_the_skip_fails_with_the_concatenation_hint(capsys):
    def no_skip(config):  # h's channels only: the classic mistake
        channels = [config.level_channels[-1]] + [c for c in reversed(config.level_channels)
                                                  for _ in range(config.num_res_blocks)]
        return channels[:-1]

    assert not check_decoder_in_channels(no_skip)
    out = capsys.readouterr().out
    assert "❌" in out and "skip" in out and "entry 0" in out


def test_answer_that_fits_only_the_default_config_fails(capsys):
    assert not check_decoder_in_channels(lambda config: [1024, 1024, 768, 512, 512, 512, 384, 256])
    assert "base_channels=64" in capsys.readouterr().out  # fails on the second config, the light preset
    assert not check_bottleneck_shape(lambda config: (512, 4, 4))
    assert "Downsample" in capsys.readouterr().out


def test_off_by_one_level_fails(capsys):
    def one_downsample_too_few(config):
        resolution = config.image_size // 2 ** (len(config.channel_mults) - 1)
        return config.level_channels[-1], resolution, resolution

    assert not check_bottleneck_shape(one_downsample_too_few)
    assert "(512, 8, 8)" in capsys.readouterr().out


def test_wrong_types_get_a_hint(capsys):
    assert not check_decoder_in_channels(lambda config: 1024)
    assert "list of ints" in capsys.readouterr().out
    assert not check_bottleneck_shape(lambda config: (512, 4))
    assert "three numbers" in capsys.readouterr().out


def test_an_exception_is_caught_and_shown(capsys):
    assert not check_decoder_in_channels(lambda config: config.no_such_field)
    assert "AttributeError" in capsys.readouterr().out
    assert not check_bottleneck_shape(lambda config: 1 / 0)
    assert "ZeroDivisionError" in capsys.readouterr().out


def test_skip_source_checker(capsys):
    rows = trace_shapes(PRESETS["improved"].config)
    block = next(row for row in rows if row.name == "decoder.levels.2.res_blocks.0")
    assert check_skip_source(block.skip_from, block.in_shape[1])
    assert "✅" in capsys.readouterr().out
    assert not check_skip_source(block.index, block.in_shape[1])  # the ResBlock's own row
    assert "itself" in capsys.readouterr().out
    assert not check_skip_source(block.skip_from, rows[block.skip_from].out_shape[1])  # the skip alone
    assert "we concatenate" in capsys.readouterr().out
    earlier = max(row.index for row in rows if row.saves_skip and row.index < block.skip_from)
    assert not check_skip_source(earlier, block.in_shape[1])  # an earlier skip of the same level
    assert "last-saved first" in capsys.readouterr().out
    assert not check_skip_source(None, None)
    assert "Set skip_row" in capsys.readouterr().out
