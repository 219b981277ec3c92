"""Self-checks for ``notebooks/04_assembly.ipynb``: the decoder's channel arithmetic, the bottleneck, and the
forward pass the learner writes.

The first checkers build the real :class:`~unet_lessons.unet.UNet` on the meta device (no weights are
allocated) for a few configurations, and compare the learner's answer with what the model contains.
:func:`check_decoder_forward` and :func:`check_unet_forward` run the learner's forward pass on a small
seeded model, with the model's own blocks (so the weights are the same), against the package's forward.
Hooks write down which block runs, in which order and on what input; the first difference from the
package's run names the mistake. The exercises are about the chapter's topology (``topology="chapter"``).
"""

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from itertools import zip_longest

import torch
from torch import nn

from unet_lessons.analysis import trace_shapes
from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.exercises import report, run_learner_code, tensor_problem
from unet_lessons.resblock import Downsample, ResBlock, Upsample
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


# The forward-pass exercises run on this small model: three levels (16x16, 8x8, 4x4), two skips per level,
# attention at 4x4, and a batch of two images at two different timesteps, so that every mistake shows.
FORWARD_CHECK_CONFIG = UNetConfig(image_size=16, base_channels=16, channel_mults=(1, 2, 2), num_res_blocks=2,
                                  attention_resolutions=(4,), groups=8)
FORWARD_CHECK_CLASSES = 3  # the conditional copy of the model, for y
_WATCHED_KINDS = (ResBlock, AttentionBlock, Downsample, Upsample)
_WATCHED_LAYERS = ("init_conv", "out_norm", "out_conv")


@dataclass(frozen=True)
class BlockCall:
    """One call of a watched block: its name in the model, and its positional and keyword arguments."""

    name: str
    args: tuple
    kwargs: dict

    @property
    def input(self) -> object:
        return self.args[0] if self.args else self.kwargs.get("x")

    @property
    def time_emb(self) -> object:
        """The time embedding a ResBlock received; ``_MISSING`` when none was passed."""
        return self.args[1] if len(self.args) > 1 else self.kwargs.get("time_emb", _MISSING)


_MISSING = object()


class _Recorder:
    """Forward pre-hooks on ``modules`` that write down every call, in order, before the block runs (so a
    block that then raises on a wrong input is recorded too)."""

    def __init__(self, modules: dict[str, nn.Module]):
        self.modules = modules
        self.calls: list[BlockCall] = []
        self._handles = []

    def _record(self, name: str, module: nn.Module, args: tuple, kwargs: dict) -> None:
        self.calls.append(BlockCall(name, args, dict(kwargs)))

    def __enter__(self) -> "_Recorder":
        self._handles = [module.register_forward_pre_hook(partial(self._record, name), with_kwargs=True)
                         for name, module in self.modules.items()]
        return self

    def __exit__(self, *exc_info) -> None:
        for handle in self._handles:
            handle.remove()


def watched_blocks(model: UNet, under: str = "") -> dict[str, nn.Module]:
    """The blocks whose calls the checkers compare: every ResBlock, attention block, Downsample and Upsample
    (the ``nn.Identity`` placeholders are left out), plus ``init_conv``, ``out_norm`` and ``out_conv``;
    only those whose name starts with ``under`` (e.g. ``"decoder."``)."""
    return {name: module for name, module in model.named_modules()
            if name.startswith(under) and (isinstance(module, _WATCHED_KINDS) or name in _WATCHED_LAYERS)}


@dataclass
class _Setup:
    """The seeded model and inputs of one check, and what the package's forward does with them."""

    model: UNet
    x: torch.Tensor
    t: torch.Tensor
    y: torch.Tensor | None
    time_emb: torch.Tensor  # what every ResBlock must hear
    time_emb_without_class: torch.Tensor  # time_embed(t) alone
    skips: list[torch.Tensor]  # the encoder's skips, in the order it saved them
    h: torch.Tensor  # the bottleneck's output, the decoder's input
    expected_calls: list[BlockCall]
    expected_output: torch.Tensor


def forward_check_setup(num_classes: int | None = None, watch: str = "") -> _Setup:
    """Build the seeded check model (conditional with ``num_classes``) and run the package's forward on
    seeded inputs, recording the calls of the blocks under ``watch`` (``""``: all, ``"decoder."``)."""
    with torch.random.fork_rng(devices=[]):  # seeded, and the learner's own random state left as it was
        torch.manual_seed(0)
        model = UNet(FORWARD_CHECK_CONFIG, num_classes=num_classes).eval()
    generator = torch.Generator().manual_seed(1)
    size = FORWARD_CHECK_CONFIG.image_size
    x = torch.randn(2, FORWARD_CHECK_CONFIG.in_channels, size, size, generator=generator)
    t = torch.tensor([10, 900])
    y = torch.tensor([0, 2]) if num_classes is not None else None
    with torch.no_grad():
        time_emb_without_class = model.time_embed(t)
        time_emb = time_emb_without_class + model.class_embed(y) if y is not None else time_emb_without_class
        h, skips = model.encoder(model.init_conv(x), time_emb)
        h = model.bottleneck(h, time_emb)
        saved = list(skips)
        with _Recorder(watched_blocks(model, watch)) as recorder:
            if watch == "decoder.":
                expected_output = model.decoder(h, list(saved), time_emb)
            else:
                expected_output = model(x, t, y)
    return _Setup(model, x, t, y, time_emb, time_emb_without_class, saved, h, recorder.calls, expected_output)


def _same(a: object, b: object) -> bool:
    return (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor) and a.shape == b.shape
            and torch.allclose(a, b, rtol=1e-4, atol=1e-5))


def _resolution(tensor: torch.Tensor) -> str:
    return f"{tensor.shape[-2]}x{tensor.shape[-1]}"


def _level(name: str) -> str:
    """``"decoder.levels.2.res_blocks.0"`` -> ``"decoder.levels.2"``."""
    return ".".join(name.split(".")[:3])


def _order_hint(expected: BlockCall, got: BlockCall, calls_before: list[BlockCall]) -> str:
    """The model runs ``expected`` next; the learner's code ran ``got``."""
    hint = f"The model runs {expected.name} next; your code ran {got.name}. "
    if expected.name.startswith("decoder.") and not got.name.startswith("decoder."):
        return hint + ("The decoder did not run. Use your decoder from the exercise above, "
                       "my_decoder_forward(model.decoder, h, skips, time_emb), or model.decoder(h, skips, time_emb) "
                       "while yours still returns None.")
    if expected.name == "init_conv":
        return hint + "The U-Net starts with h = model.init_conv(x): 3 colour channels to base_channels features."
    if expected.name.startswith("decoder.") and got.name.startswith("decoder.") and _level(expected.name) != _level(
            got.name) and not any(call.name.startswith(_level(got.name)) for call in calls_before):
        return hint + ("The decoder's levels are stored by resolution (levels[0] is the full resolution); it runs "
                       "them deepest first: for level in reversed(decoder.levels).")
    if expected.name.endswith("upsample"):
        return hint + "Each decoder level first doubles the resolution: h = level.upsample(h)."
    if ".attn" in expected.name:
        return hint + ("After each ResBlock comes its attention block: h = attn(res_block(h, time_emb)), with "
                       "zip(level.res_blocks, level.attn_blocks).")
    return hint + "Run the blocks in the model's order: init_conv, encoder, bottleneck, decoder, out_norm, out_conv."


def _time_emb_hint(setup: _Setup, call: BlockCall) -> str | None:
    """What is wrong with the time embedding a ResBlock received; None if it is the right one."""
    given = call.time_emb
    if _same(given, setup.time_emb):
        return None
    if given is _MISSING or given is None:
        return (f"{call.name} was called without time_emb. Every ResBlock hears the timestep: "
                "res_block(h, time_emb), and the encoder, bottleneck and decoder pass time_emb on.")
    if _same(given, setup.t) or _same(given, setup.t.float()):
        return (f"{call.name} received the timesteps t themselves, shape {list(setup.t.shape)}. Embed them first: "
                "time_emb = model.time_embed(t), shape [batch, 4 * base_channels], and pass that.")
    if setup.y is not None and _same(given, setup.time_emb_without_class):
        return (f"{call.name} received time_embed(t) without the class: for a conditional model add the label's "
                "vector, time_emb = model.time_embed(t) + model.class_embed(y) (when model.class_embed is not None).")
    return (f"{call.name} received a different time_emb from the model's: compute time_emb = model.time_embed(t) "
            "once (plus model.class_embed(y) for a conditional model) and pass the same tensor to every block.")


def _skip_hint(setup: _Setup, call: BlockCall, expected: BlockCall, popped_before: int) -> str:
    """Why a decoder ResBlock's input differs: which skip, if any, the learner concatenated to h."""
    got, want = call.input, expected.input
    skip_index = len(setup.skips) - 1 - popped_before  # the stack's top when this block runs
    skip = setup.skips[skip_index]
    h_channels = want.shape[1] - skip.shape[1]
    where = f"{call.name} (at {_resolution(want)})"
    if not isinstance(got, torch.Tensor):
        return f"{where} received {type(got).__name__}, not a tensor."
    if got.shape[1] == h_channels and got.shape[2:] == want.shape[2:] and _same(got, want[:, :h_channels]):
        return (f"{where} received h alone, {h_channels} channels, but it was built for h + skip = {h_channels} + "
                f"{skip.shape[1]} = {want.shape[1]} channels: concatenate the skip before the block, "
                "h = torch.cat([h, skips.pop()], dim=1).")
    if got.shape == want.shape:
        tail = got[:, h_channels:]
        if _same(got[:, :skip.shape[1]], skip) and _same(got[:, skip.shape[1]:], want[:, :h_channels]):
            return (f"{where} received the skip first and h second. The block's weights expect h first: "
                    "torch.cat([h, skip], dim=1).")
        taken = next((i for i, saved in enumerate(setup.skips) if _same(tail, saved)), None)
        if taken is not None and taken != skip_index:
            if taken == popped_before:
                return (f"You took the skips first-in-first-out: {where} got skip {taken}, but skips are a stack: "
                        f"the last one saved is the first one used, so it needs skip {skip_index}. "
                        "skips.pop() takes from the end; skips.pop(0) or a loop from the start takes the oldest.")
            return (f"{where} got skip {taken} (saved at {_resolution(setup.skips[taken])}), but the skip on top "
                    f"of the stack is skip {skip_index}: pop exactly one skip per ResBlock, with skips.pop().")
        if taken == skip_index:
            return (f"{where} got the right skip, but h differs from the model's h at this point: look at what "
                    "happens to h before it (level.upsample(h) first in each level; h = attn(res_block(h, "
                    "time_emb)) after each concatenation).")
    return (f"{where} received a tensor of shape {list(got.shape)}; the model gives it {list(want.shape)}: "
            f"h ({h_channels} channels) concatenated with skip {skip_index} ({skip.shape[1]} channels).")


def _input_hint(setup: _Setup, call: BlockCall, expected: BlockCall, calls_before: list[BlockCall]) -> str:
    """Why a watched block's input differs from the package's run."""
    if isinstance(setup.model.get_submodule(call.name), ResBlock) and call.name.startswith("decoder."):
        popped = sum(isinstance(setup.model.get_submodule(c.name), ResBlock) and c.name.startswith("decoder.")
                     for c in calls_before)
        return _skip_hint(setup, call, expected, popped)
    if call.name == "init_conv":
        return "init_conv takes the image x itself."
    if call.name == "out_conv":
        return "The model ends with out_conv(F.silu(out_norm(h))): normalise, then SiLU, then the last conv."
    previous = calls_before[-1].name if calls_before else "the start"
    first = {"encoder.": "The encoder starts from h = model.init_conv(x).",
             "bottleneck.": "The bottleneck takes the h the encoder returns.",
             "decoder.": "The decoder starts from the bottleneck's output.",
             "out_norm": "out_norm takes the decoder's output."}
    stage = next((prefix for prefix in first if call.name.startswith(prefix)), None)
    if stage and not previous.startswith(stage):
        return f"The input of {call.name} differs from the model's. {first[stage]}"
    return f"The input of {call.name} differs from the model's: look at what your code does after {previous}."


_CAT_SIZES = re.compile(r"Expected size (\d+) but got size (\d+) for tensor number (\d+)")


def _error_hint(setup: _Setup, error: Exception, calls: list[BlockCall], skips: tuple[list, list] | None,
                signature: str) -> str:
    """A hint for an exception raised after every recorded call matched the package's run.

    ``skips`` is ``(saved, left)``: the skips the encoder returned in the learner's run (a copy) and the list
    itself after the run, to see which ones the learner popped; ``signature`` is how the function is called.
    """
    message = str(error).strip().splitlines()[0] if str(error).strip() else ""
    sizes = _CAT_SIZES.search(message)
    if isinstance(error, RuntimeError) and "Sizes of tensors must match" in message:
        done = sum(isinstance(setup.model.get_submodule(c.name), ResBlock) and c.name.startswith("decoder.")
                   for c in calls)
        last = len(setup.skips) - 1
        if skips is not None:
            saved_skips, skips_left = skips
            popped = {i for i, saved in enumerate(saved_skips) if not any(s is saved for s in skips_left)}
            if 0 in popped and last not in popped:
                return (f"You took the skips first-in-first-out: the first decoder ResBlock (at "
                        f"{_resolution(setup.skips[last])}) got skip 0, saved at {_resolution(setup.skips[0])} by the "
                        "encoder's first block. Skips are a stack: the last one saved is the first one used, "
                        "skips.pop(), not skips.pop(0).")
            if popped == set(range(last - done, last + 1)):
                return (f"You popped the right skip (at {_resolution(setup.skips[last - done])}), but h is at another "
                        "resolution: each decoder level doubles h first, h = level.upsample(h), then concatenates.")
        if sizes and sizes.group(3) != "0":
            return (f"You concatenated a {sizes.group(2)}x{sizes.group(2)} skip to h at {sizes.group(1)}x"
                    f"{sizes.group(1)}: a skip joins h at its own resolution. The decoder runs its levels deepest "
                    "first and pops one skip per ResBlock, the last saved first: skips.pop().")
        return ("torch.cat joins tensors of one resolution: h and the skip must have the same height and width. "
                "Upsample h first in each level and pop the skips last-first.")
    if isinstance(error, IndexError) and "pop from empty list" in message:
        return "You popped more skips than the encoder saved: pop exactly one per decoder ResBlock."
    if isinstance(error, NotImplementedError):
        return ("A function your code calls is not written yet. In the U-Net exercise that may be my_decoder_forward "
                "from the exercise before: model.decoder(h, skips, time_emb) does the same meanwhile.")
    if (isinstance(error, TypeError) and "'NoneType' object is not callable" in message
            and setup.model.class_embed is None):
        return ("model.class_embed is None: this model has no classes. Add the class embedding only when there is "
                "one and y is given: if y is not None: time_emb = time_emb + model.class_embed(y).")
    if isinstance(error, TypeError) and not calls and "argument" in message:
        return f"The checker calls {signature}: define your function with these arguments."
    return "Compare your code with the package's forward, step by step."


def _judge(setup: _Setup, run_calls: list[BlockCall], error: Exception | None, result: object,
           skips: tuple[list, list] | None, signature: str, returns: str) -> str | None:
    """The hint for the learner's run, or None when it matches the package's forward.

    Args:
        setup: the check model, its inputs and the package's run.
        run_calls, error, result: what the learner's run did.
        skips: the skips its encoder returned (a copy) and that list after the run; None if unknown.
        signature: how the checker calls the function, for a hint; returns: what it should return.
    """
    if error is None and result is None:
        return f"Your function returns None: it is not written yet. Fill in its body and return {returns}."
    hint = None
    for position, (expected, got) in enumerate(zip_longest(setup.expected_calls, run_calls)):
        if got is None:
            break
        if expected is None:
            hint = f"Your code runs {got.name} after the model's last block: every block runs once."
            break
        if got.name != expected.name:
            hint = _order_hint(expected, got, run_calls[:position])
            break
        if isinstance(setup.model.get_submodule(got.name), ResBlock):
            hint = _time_emb_hint(setup, got)
            if hint:
                break
        if not _same(got.input, expected.input):
            hint = _input_hint(setup, got, expected, run_calls[:position])
            break
    if error is not None:
        hint = hint or _error_hint(setup, error, run_calls, skips, signature)
        message = str(error).strip().splitlines()[0] if str(error).strip() else ""
        return f"Your function raised {type(error).__name__}: {message}\n   {hint}"
    if hint:
        return hint
    if len(run_calls) < len(setup.expected_calls):
        missing = setup.expected_calls[len(run_calls)].name
        return (f"Only {len(run_calls)} of the model's {len(setup.expected_calls)} blocks ran; the next one, {missing}, "
                "never did. Loop over every level and every ResBlock in it.")
    problem = tensor_problem(result, tuple(setup.expected_output.shape))
    if problem:
        return problem
    if not _same(result, setup.expected_output):
        return ("Every block ran on the right input, but what you return differs from the model's output: "
                "return the last block's result as it is.")
    return None


def _run_learner(function: Callable, args: tuple, setup: _Setup, watch: str,
                 package_modules: dict[str, nn.Module]) -> tuple[list[BlockCall], Exception | None, object, list[str]]:
    """Run the learner's function with the recorder on; (calls, error, result, names of package forwards used)."""
    used = []
    handles = [module.register_forward_pre_hook(lambda *_, name=name: used.append(name))
               for name, module in package_modules.items()]
    error, result = None, None
    try:
        with _Recorder(watched_blocks(setup.model, watch)) as recorder, torch.no_grad():
            try:
                result = function(*args)
            except Exception as raised:  # the learner's code may fail in any way; it is diagnosed, not raised
                error = raised
    finally:
        for handle in handles:
            handle.remove()
    return recorder.calls, error, result, used


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
    calls, error, result, used = _run_learner(decoder_forward, (decoder, setup.h, skips, setup.time_emb), setup,
                                              "decoder.", package)
    hint = _judge(setup, calls, error, result, (setup.skips, skips), "my_decoder_forward(decoder, h, skips, time_emb)",
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
            calls, error, result, used = _run_learner(unet_forward, args, setup, "", {"model": setup.model})
        finally:
            hook.remove()
        hint = _judge(setup, calls, error, result, skips[0] if skips else None,
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
