"""The forward-pass check behind lesson 04's last two exercises: run the learner's forward on a small seeded
model, with the model's own blocks, and name the first difference from the package's run.

Forward pre-hooks write down which block runs, in which order and on what input (:class:`BlockCall`);
:func:`judge_forward` walks the learner's calls beside the package's and turns the first difference (or the
exception the learner's code raised) into a hint: skips taken first-in-first-out, a missing concatenation, a
ResBlock without its time embedding, the wrong resolution's skip, and more. The checkers themselves are in
:mod:`unet_lessons.exercises.assembly`.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass
from itertools import zip_longest

import torch
from torch import nn

from unet_lessons.attention import AttentionBlock
from unet_lessons.configs import UNetConfig
from unet_lessons.exercises import tensor_problem
from unet_lessons.resblock import Downsample, ResBlock, Upsample
from unet_lessons.unet import UNet

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
        self._handles = [module.register_forward_pre_hook(
                             lambda module, args, kwargs, name=name: self._record(name, module, args, kwargs),
                             with_kwargs=True)
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
class ForwardSetup:
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


def forward_check_setup(num_classes: int | None = None, watch: str = "") -> ForwardSetup:
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
    return ForwardSetup(model, x, t, y, time_emb, time_emb_without_class, saved, h, recorder.calls, expected_output)


def _decoder_res_blocks_run(setup: ForwardSetup, calls: list[BlockCall]) -> int:
    """How many of ``calls`` are decoder ResBlocks: one skip popped for each."""
    return sum(isinstance(setup.model.get_submodule(c.name), ResBlock) and c.name.startswith("decoder.") for c in calls)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else ""


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


def _time_emb_hint(setup: ForwardSetup, call: BlockCall) -> str | None:
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


def _skip_hint(setup: ForwardSetup, call: BlockCall, expected: BlockCall, popped_before: int) -> str:
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


def _input_hint(setup: ForwardSetup, call: BlockCall, expected: BlockCall, calls_before: list[BlockCall]) -> str:
    """Why a watched block's input differs from the package's run."""
    if isinstance(setup.model.get_submodule(call.name), ResBlock) and call.name.startswith("decoder."):
        popped = _decoder_res_blocks_run(setup, calls_before)
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


def _error_hint(setup: ForwardSetup, error: Exception, calls: list[BlockCall], skips: tuple[list, list] | None,
                signature: str) -> str:
    """A hint for an exception raised after every recorded call matched the package's run.

    ``skips`` is ``(saved, left)``: the skips the encoder returned in the learner's run (a copy) and the list
    itself after the run, to see which ones the learner popped; ``signature`` is how the function is called.
    """
    message = _first_line(error)
    sizes = _CAT_SIZES.search(message)
    if isinstance(error, RuntimeError) and "Sizes of tensors must match" in message:
        done = _decoder_res_blocks_run(setup, calls)
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


def judge_forward(setup: ForwardSetup, run_calls: list[BlockCall], error: Exception | None, result: object,
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
        message = _first_line(error)
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


def run_learner_forward(function: Callable, args: tuple, setup: ForwardSetup, watch: str,
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
