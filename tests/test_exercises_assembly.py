"""The checkers of 04_assembly: a right answer passes, a wrong one fails with a hint, an error is caught."""

import pytest
import torch
import torch.nn.functional as F

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.exercises.assembly import (
    CHECK_CONFIGS,
    check_bottleneck_shape,
    check_decoder_forward,
    check_decoder_in_channels,
    check_skip_source,
    check_unet_forward,
    model_bottleneck_shape,
    model_decoder_in_channels,
)
from unet_lessons.exercises.forward_check import forward_check_setup


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
    assert capsys.readouterr().out.count("✔") == 2


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
    assert "✘" in out and "skip" in out and "entry 0" in out


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
    assert "✔" in capsys.readouterr().out
    assert not check_skip_source(block.index, block.in_shape[1])  # the ResBlock's own row
    assert "itself" in capsys.readouterr().out
    assert not check_skip_source(block.skip_from, rows[block.skip_from].out_shape[1])  # the skip alone
    assert "we concatenate" in capsys.readouterr().out
    earlier = max(row.index for row in rows if row.saves_skip and row.index < block.skip_from)
    assert not check_skip_source(earlier, block.in_shape[1])  # an earlier skip of the same level
    assert "last-saved first" in capsys.readouterr().out
    assert not check_skip_source(None, None)
    assert "Set skip_row" in capsys.readouterr().out


# The forward-pass exercises: the lesson's solution, then each common mistake written as a learner would.


def decoder_solution(decoder, h, skips, time_emb):
    for level in reversed(decoder.levels):  # deepest first
        h = level.upsample(h)
        for res_block, attn in zip(level.res_blocks, level.attn_blocks):
            h = torch.cat([h, skips.pop()], dim=1)
            h = attn(res_block(h, time_emb))
    return h


def unet_solution(model, x, t, y=None):
    time_emb = model.time_embed(t)
    if model.class_embed is not None:
        time_emb = time_emb + model.class_embed(y)
    h = model.init_conv(x)
    h, skips = model.encoder(h, time_emb)
    h = model.bottleneck(h, time_emb)
    h = decoder_solution(model.decoder, h, skips, time_emb)
    return model.out_conv(F.silu(model.out_norm(h)))


def decoder_with(concatenate=lambda h, skips: torch.cat([h, skips.pop()], dim=1), block_time_emb=True,
                 upsample=True, levels=reversed, attention=True):
    """The solution with one step replaced: how each skip is joined, the ResBlock call, the Upsample, the
    order of the levels, the attention blocks."""

    def decoder_forward(decoder, h, skips, time_emb):
        for level in levels(decoder.levels):
            if upsample:
                h = level.upsample(h)
            for res_block, attn in zip(level.res_blocks, level.attn_blocks):
                h = concatenate(h, skips)
                h = res_block(h, time_emb) if block_time_emb else res_block(h)
                h = attn(h) if attention else h
        return h

    return decoder_forward


def test_the_check_model_makes_every_mistake_visible():
    setup = forward_check_setup()
    # three resolutions with two skips each, so a skip of the wrong resolution cannot be concatenated
    assert [list(skip.shape[1:]) for skip in setup.skips] == [[16, 16, 16]] * 2 + [[32, 8, 8]] * 2 + [[32, 4, 4]] * 2
    assert not torch.equal(setup.time_emb[0], setup.time_emb[1])  # two timesteps: time_emb matters
    conditional = forward_check_setup(num_classes=3)
    assert not torch.allclose(conditional.time_emb, conditional.time_emb_without_class)


def test_the_solutions_pass(capsys):
    assert check_decoder_forward(decoder_solution)
    assert check_unet_forward(unet_solution)
    assert capsys.readouterr().out.count("✔") == 2


def test_the_stubs_are_not_written_yet(capsys):
    assert not check_decoder_forward(lambda decoder, h, skips, time_emb: None)
    assert "not written yet" in capsys.readouterr().out
    assert not check_unet_forward(lambda model, x, t, y=None: None)
    assert "not written yet" in capsys.readouterr().out


def test_skips_taken_first_in_first_out(capsys):
    fifo = decoder_with(concatenate=lambda h, skips: torch.cat([h, skips.pop(0)], dim=1))
    assert not check_decoder_forward(fifo)
    out = capsys.readouterr().out
    assert "RuntimeError" in out and "first-in-first-out" in out and "got skip 0, saved at 16x16" in out
    assert "Traceback" not in out


def test_a_missing_concatenation(capsys):
    assert not check_decoder_forward(decoder_with(concatenate=lambda h, skips: h))
    out = capsys.readouterr().out
    assert "received h alone, 32 channels" in out and "32 + 32 = 64" in out and "torch.cat" in out


def test_time_emb_not_passed(capsys):
    assert not check_decoder_forward(decoder_with(block_time_emb=False))
    out = capsys.readouterr().out
    assert "TypeError" in out and "decoder.levels.2.res_blocks.0 was called without time_emb" in out


def test_the_wrong_resolutions_skip(capsys):
    def skips_by_level_in_saving_order(decoder, h, skips, time_emb):  # level 2 (4x4) gets the 16x16 skips
        per_level = [skips[i:i + 2] for i in range(0, len(skips), 2)]
        for level, level_skips in zip(reversed(decoder.levels), per_level):
            h = level.upsample(h)
            for res_block, attn in zip(level.res_blocks, level.attn_blocks):
                h = attn(res_block(torch.cat([h, level_skips.pop()], dim=1), time_emb))
        return h

    assert not check_decoder_forward(skips_by_level_in_saving_order)
    assert "You concatenated a 16x16 skip to h at 4x4" in capsys.readouterr().out


def test_one_skip_for_two_blocks(capsys):
    def one_pop_per_level(decoder, h, skips, time_emb):
        for level in reversed(decoder.levels):
            h = level.upsample(h)
            skip = skips.pop()
            for res_block, attn in zip(level.res_blocks, level.attn_blocks):
                h = attn(res_block(torch.cat([h, skip], dim=1), time_emb))
        return h

    assert not check_decoder_forward(one_pop_per_level)
    assert "got skip 5 (saved at 4x4), but the skip on top of the stack is skip 4" in capsys.readouterr().out


@pytest.mark.parametrize("mistake, expected", [
    (dict(concatenate=lambda h, skips: torch.cat([skips.pop(), h], dim=1)), "the skip first and h second"),
    (dict(upsample=False), "h = level.upsample(h), then concatenates"),
    (dict(levels=list), "for level in reversed(decoder.levels)"),
    (dict(attention=False), "After each ResBlock comes its attention block"),
])
def test_other_decoder_mistakes(capsys, mistake, expected):
    assert not check_decoder_forward(decoder_with(**mistake))
    assert expected in capsys.readouterr().out


def test_calling_the_packages_decoder_is_not_writing_it(capsys):
    assert not check_decoder_forward(lambda decoder, h, skips, time_emb: decoder(h, skips, time_emb))
    assert "calls the package's decoder(...)" in capsys.readouterr().out
    assert not check_unet_forward(lambda model, x, t, y=None: model(x, t, y))
    assert "calls model(...) itself" in capsys.readouterr().out


def forward_with(time_emb=lambda model, t, y: model.time_embed(t), init_conv=True, decoder=decoder_solution,
                 silu=True):
    """The U-Net solution with one step replaced."""

    def unet_forward(model, x, t, y=None):
        emb = time_emb(model, t, y)
        h = model.init_conv(x) if init_conv else x
        h, skips = model.encoder(h, emb)
        h = model.bottleneck(h, emb)
        h = decoder(model.decoder, h, skips, emb)
        h = model.out_norm(h)
        return model.out_conv(F.silu(h) if silu else h)

    return unet_forward


@pytest.mark.parametrize("mistake, expected", [
    (dict(time_emb=lambda model, t, y: t), "received the timesteps t themselves"),
    (dict(), "class-conditional (3 classes, y = [0, 2]) check model: encoder.levels.0.res_blocks.0 received "
             "time_embed(t) without the class"),
    (dict(init_conv=False), "starts with h = model.init_conv(x)"),
    (dict(silu=False), "out_conv(F.silu(out_norm(h)))"),
    (dict(decoder=decoder_with(concatenate=lambda h, skips: torch.cat([h, skips.pop(0)], dim=1))),
     "first-in-first-out"),
    (dict(decoder=lambda decoder, h, skips, time_emb: None), "The decoder did not run"),
])
def test_unet_mistakes(capsys, mistake, expected):
    assert not check_unet_forward(forward_with(**mistake))
    out = capsys.readouterr().out
    assert expected in out and "Traceback" not in out


def test_a_class_embedding_added_to_an_unconditional_model_is_named(capsys):
    always = forward_with(time_emb=lambda model, t, y: model.time_embed(t) + model.class_embed(y))
    assert not check_unet_forward(always)
    assert "model.class_embed is None" in (out := capsys.readouterr().out) and "unconditional" in out


def test_y_without_a_default_is_fine(capsys):
    def unet_forward(model, x, t, y):  # the checker passes y (None) to the unconditional model too
        return unet_solution(model, x, t, y)

    assert check_unet_forward(unet_forward)


def test_a_unet_forward_without_y_is_told_the_signature(capsys):
    assert not check_unet_forward(lambda model, x, t: unet_solution(model, x, t))
    assert "my_unet_forward(model, x, t, y)" in capsys.readouterr().out


def test_an_unwritten_decoder_inside_the_unet_is_named(capsys):
    def unwritten(decoder, h, skips, time_emb):
        raise NotImplementedError()  # what nbgrader's student version leaves in the decoder exercise

    assert not check_unet_forward(forward_with(decoder=unwritten))
    assert "NotImplementedError" in (out := capsys.readouterr().out) and "my_decoder_forward" in out


def test_the_forward_check_leaves_the_learners_random_state_alone():
    state = torch.get_rng_state()
    forward_check_setup()
    assert torch.equal(torch.get_rng_state(), state)
