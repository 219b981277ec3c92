"""Self-checks for ``notebooks/04_assembly.ipynb``: the decoder's channel arithmetic, the bottleneck, and the
forward pass the learner writes.

The first checkers build the real :class:`~unet_lessons.unet.UNet` on the meta device (no weights are
allocated) for a few configurations, and compare the learner's answer with what the model contains.
:func:`check_decoder_forward` and :func:`check_unet_forward` run the learner's forward pass on a small
seeded model, with the model's own blocks (so the weights are the same), against the package's forward
(:mod:`unet_lessons.exercises.forward_check` names the first difference). The exercises are about the
chapter's topology (``topology="chapter"``).
"""

from collections.abc import Callable, Iterable

import torch

from unet_lessons.analysis import trace_shapes
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.exercises import report, run_learner_code
from unet_lessons.exercises.forward_check import (FORWARD_CHECK_CLASSES, forward_check_setup, judge_forward,
                                                 run_learner_forward)
from unet_lessons.unet import UNet

# Different depths, widths and block counts, so an answer that only fits the default config fails.
CHECK_CONFIGS = (
    UNetConfig(),
    PRESETS["light"].config,
    PRESETS["improved"].config,
    PRESETS["highres"].config,
    UNetConfig(image_size=32, base_channels=32, channel_mults=(1, 2), num_res_blocks=3,
               attention_resolutions=(16,), groups=8),
)


def describe(config: UNetConfig) -> str:
    """The fields that fix the shapes, in one short line for a hint."""
    return (f"UNetConfig(image_size={config.image_size}, base_channels={config.base_channels}, "
            f"channel_mults={config.channel_mults}, num_res_blocks={config.num_res_blocks})")


def learner_answers(function: Callable, cases: Iterable[tuple], none_hint: str) -> list | None:
    """The learner's answer for every case (a tuple of arguments), or None after printing why not.

    An exception is shown by :func:`run_learner_code`; a ``None`` answer (the unfilled stub) gets
    ``none_hint``.
    """
    answers = []
    for args in cases:
        ok, answer = run_learner_code(function, *args)
        if not ok:
            return None
        if answer is None:
            report(False, "", f"Your function returns None: {none_hint}")
            return None
        answers.append(answer)
    return answers


def model_decoder_in_channels(config: UNetConfig) -> list[int]:
    """The input channels of every decoder ResBlock, in the order the forward pass runs them."""
    with torch.device("meta"):
        model = UNet(config)
    return [block.conv1.in_channels for level in reversed(model.decoder.levels) for block in level.res_blocks]


def model_bottleneck_shape(config: UNetConfig) -> tuple[int, int, int]:
    """``(channels, height, width)`` of the bottleneck's output, traced on the meta device."""
    bottleneck_rows = [row for row in trace_shapes(config) if row.stage == "bottleneck"]
    return tuple(bottleneck_rows[-1].out_shape[1:])


def check_decoder_in_channels(decoder_in_channels: Callable[[UNetConfig], list[int]]) -> bool:
    """Check ``decoder_in_channels(config) -> list[int]``: each decoder ResBlock's input channels.

    Args:
        decoder_in_channels: the learner's function; one int per decoder ResBlock, deepest level
            first, in the order the forward pass runs them.
    """
    answers = learner_answers(decoder_in_channels, [(config,) for config in CHECK_CONFIGS],
                              "fill in its body and return a list of ints.")
    if answers is None:
        return False
    for config, answer in zip(CHECK_CONFIGS, answers):
        if not isinstance(answer, (list, tuple)):
            return report(False, "", f"Return a list of ints (one per decoder ResBlock); got {type(answer).__name__}.")
        expected = model_decoder_in_channels(config)
        if len(answer) != len(expected):
            return report(False, "", (
                f"For {describe(config)} the decoder has {len(expected)} ResBlocks "
                f"(num_res_blocks per level x {len(config.channel_mults)} levels, one per saved skip); "
                f"your list has {len(answer)} entries."
            ))
        if list(answer) != expected:
            position = next(i for i, (got, want) in enumerate(zip(answer, expected)) if got != want)
            level = len(config.channel_mults) - 1 - position // config.num_res_blocks  # deepest level first
            return report(False, "", (
                f"For {describe(config)} entry {position} (ResBlock {position % config.num_res_blocks} of "
                f"level {level}, at {config.level_resolutions[level]}x{config.level_resolutions[level]}) "
                f"is {answer[position]}; the model has a different number there. Each decoder ResBlock takes "
                "h's channels + the channels of the skip it pops (the last one saved comes first); "
                "after the block, h has the level's channels."
            ))
    return report(True, f"Right for all {len(CHECK_CONFIGS)} configurations: in + skip channels, "
                        "because we concatenate.", "")


def check_bottleneck_shape(bottleneck_shape: Callable[[UNetConfig], tuple[int, int, int]]) -> bool:
    """Check ``bottleneck_shape(config) -> (channels, height, width)`` of the bottleneck's output.

    Args:
        bottleneck_shape: the learner's function.
    """
    answers = learner_answers(bottleneck_shape, [(config,) for config in CHECK_CONFIGS],
                              "return a tuple (channels, height, width).")
    if answers is None:
        return False
    for config, answer in zip(CHECK_CONFIGS, answers):
        if not isinstance(answer, (list, tuple, torch.Size)) or len(answer) != 3:
            return report(False, "", f"Return three numbers (channels, height, width); got {answer!r}.")
        expected = model_bottleneck_shape(config)
        if tuple(answer) != expected:
            return report(False, "", (
                f"For {describe(config)} you predicted {tuple(answer)}. The bottleneck keeps the deepest "
                "level's channels, and in the chapter's U-Net every level ends with a Downsample that "
                "halves the resolution."
            ))
    return report(True, f"Right for all {len(CHECK_CONFIGS)} configurations: deepest channels, "
                        "image_size / 2**levels.", "")


def check_skip_source(skip_row: int | None, in_channels: int | None,
                      block: str = "decoder.levels.2.res_blocks.0", preset: str = "improved") -> bool:
    """Check the explore exercise: which trace row's output ``block`` concatenates, and its input channels.

    Args:
        skip_row: the learner's answer, the trace index (``#``) of the block whose output is the skip.
        in_channels: the learner's answer, the ResBlock's input channels.
        block, preset: the decoder ResBlock asked about, in ``trace_shapes(PRESETS[preset].config)``.
    """
    rows = trace_shapes(PRESETS[preset].config)
    target = next(row for row in rows if row.name == block)
    source = rows[target.skip_from]
    if skip_row is None or in_channels is None:
        return report(False, "", "Set skip_row and in_channels to your answers (two ints).")
    if isinstance(skip_row, bool) or not isinstance(skip_row, int) or not 0 <= skip_row < len(rows):
        return report(False, "", f"skip_row is a row index of the trace, an int in 0..{len(rows) - 1}.")
    if skip_row == target.index:
        return report(False, "", f"Row {skip_row} is {block} itself; its skip_from field names the row it takes from.")
    if skip_row != source.index:
        chosen = rows[skip_row]
        if chosen.out_shape[-1] != target.in_shape[-1]:
            where = (f"{chosen.name} outputs {chosen.out_shape[-1]}x{chosen.out_shape[-1]}, the ResBlock works at "
                     f"{target.in_shape[-1]}x{target.in_shape[-1]}: a skip joins equal resolutions. ")
        elif not chosen.saves_skip:
            where = f"{chosen.name}'s output is not saved as a skip (its saves_skip is False). "
        else:
            where = f"{chosen.name} saves a skip at this resolution, but the decoder pops the last-saved first. "
        return report(False, "", where + "Read the skip_from field of the ResBlock's row.")
    if in_channels != target.in_shape[1]:
        return report(False, "", (
            f"The row is right (#{source.index}, {source.name}, {source.out_shape[1]} channels). For the input "
            "channels, add the channels of h arriving from the level below: we concatenate."))
    return report(True, f"#{source.index} {source.name}: {target.in_shape[1]} input channels = "
                        f"{target.in_shape[1] - source.out_shape[1]} of h + {source.out_shape[1]} of the skip.", "")


def check_decoder_forward(decoder_forward: Callable) -> bool:
    """Check ``decoder_forward(decoder, h, skips, time_emb) -> h``, the learner's ``Decoder.forward``.

    It runs on the check model's own decoder, with the skips its encoder saved, and must give the output of
    ``decoder(h, skips, time_emb)``, block by block, without calling the package's ``Decoder`` or
    ``DecoderLevel`` forward.

    Args:
        decoder_forward: the learner's function.
    """
    setup = forward_check_setup(watch="decoder.")
    decoder = setup.model.decoder
    skips = list(setup.skips)
    package = {"decoder": decoder, **{f"decoder.levels.{i}": level for i, level in enumerate(decoder.levels)}}
    calls, error, result, used = run_learner_forward(decoder_forward, (decoder, setup.h, skips, setup.time_emb), setup,
                                              "decoder.", package)
    hint = judge_forward(setup, calls, error, result, (setup.skips, skips), "my_decoder_forward(decoder, h, skips, time_emb)",
                  "h")
    if hint:
        return report(False, "", hint)
    if used:
        return report(False, "", (
            f"Your function calls the package's {used[0]}(...): that is the code to write here. Loop over "
            "reversed(decoder.levels) and, in each, level.upsample, level.res_blocks and level.attn_blocks."))
    if skips:
        return report(False, "", f"{len(skips)} skips are left in the list: pop every one, as the package's decoder does.")
    return report(True, f"Your decoder matches the package's on every one of its {len(setup.expected_calls)} blocks: "
                        "each ResBlock got h + the skip on top of the stack.", "")


def check_unet_forward(unet_forward: Callable) -> bool:
    """Check ``unet_forward(model, x, t, y=None) -> predicted noise``, the learner's ``UNet.forward``.

    It runs on the check model (unconditional, then a class-conditional copy with labels ``y``) and must
    give ``model(x, t, y)``, with every block on the same input, without calling ``model(...)`` itself.

    Args:
        unet_forward: the learner's function.
    """
    for num_classes in (None, FORWARD_CHECK_CLASSES):
        setup = forward_check_setup(num_classes=num_classes)
        skips = []  # (a copy of, the list) the learner's encoder call returns, to see which skips it popped
        hook = setup.model.encoder.register_forward_hook(
            lambda module, args, output: skips.append((list(output[1]), output[1])))
        try:
            args = (setup.model, setup.x, setup.t, setup.y)  # y is None for the unconditional model
            calls, error, result, used = run_learner_forward(unet_forward, args, setup, "", {"model": setup.model})
        finally:
            hook.remove()
        hint = judge_forward(setup, calls, error, result, skips[0] if skips else None,
                      "my_unet_forward(model, x, t, y) (y: class labels, or None)", "the predicted noise")
        if hint and result is None and error is None:
            return report(False, "", hint)  # the stub: the same on either model
        if hint:
            kind = "unconditional" if num_classes is None else f"class-conditional ({num_classes} classes, y = {setup.y.tolist()})"
            return report(False, "", f"On the {kind} check model: {hint}")
        if used:
            return report(False, "", "Your function calls model(...) itself: assemble it from model's blocks instead.")
    return report(True, f"Your U-Net matches the package's forward on all {len(setup.expected_calls)} blocks, "
                        "with and without a class label.", "")
