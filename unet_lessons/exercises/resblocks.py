"""Self-checks for the exercises of ``notebooks/01_resblocks.ipynb``.

Every expected answer comes from the package's real modules (built on the meta device where only the
parameter count matters), never from a number typed here.
"""

from collections.abc import Callable

import torch
import torch.nn.functional as F

from unet_lessons.analysis import count_parameters
from unet_lessons.exercises import report, run_learner_code, tensor_problem
from unet_lessons.resblock import Downsample, ResBlock, Upsample

# (in_channels, out_channels, time_emb_dim): same width, wider, narrower, and a decoder-like concat.
_RESBLOCK_CASES = ((64, 64, 256), (64, 128, 256), (128, 64, 512), (256, 128, 512))


def check_resblock_parameter_count(function: Callable[[int, int, int], int]) -> bool:
    """The learner's ``function(in_channels, out_channels, time_emb_dim)`` must return the parameter count
    of ``ResBlock(in_channels, out_channels, time_emb_dim)``, for blocks with and without a 1x1 shortcut."""
    for in_channels, out_channels, time_emb_dim in _RESBLOCK_CASES:
        ok, answer = run_learner_code(function, in_channels, out_channels, time_emb_dim)
        if not ok:
            return False
        if answer is None:
            return report(False, "", "Your function returned None: write the formula and return it.")
        with torch.device("meta"):
            expected = count_parameters(ResBlock(in_channels, out_channels, time_emb_dim))
        if answer != expected:
            block = f"ResBlock({in_channels}, {out_channels}, {time_emb_dim})"
            hint = f"{block} has {expected:,} parameters; your formula gives {answer:,}. "
            if in_channels == out_channels and answer - expected == in_channels * out_channels + out_channels:
                hint += ("The difference is a 1x1 shortcut's weights and biases: when the channels stay the same "
                         "the block adds x itself (nn.Identity, no parameters); the shortcut conv is there only "
                         "when in_channels != out_channels.")
            elif in_channels == out_channels:
                hint += ("Count both 3x3 convs (weights 3*3*C_in*C_out, plus one bias per output channel), "
                         "the time projection (a Linear T -> C_out with bias) and both GroupNorms "
                         "(a scale and a shift per channel).")
            else:
                hint += "It is right when the channels stay the same: what does the shortcut cost when they change?"
            return report(False, "", hint)
    return report(True, f"Your formula matches count_parameters for all {len(_RESBLOCK_CASES)} blocks.", "")


def _group_norm_mistakes(x: torch.Tensor, groups: int, eps: float) -> dict[str, torch.Tensor]:
    """What common wrong versions of GroupNorm give on ``x``, with the hint each one deserves."""
    batch, channels, height, width = x.shape
    grouped = x.reshape(batch, groups, -1)
    centred = grouped - grouped.mean(-1, keepdim=True)
    unbiased = centred / torch.sqrt(grouped.var(-1, unbiased=True, keepdim=True) + eps)  # divides by n - 1
    per_pixel = x.reshape(batch, groups, channels // groups, height, width)  # each group's channels, pixel by pixel
    per_pixel = ((per_pixel - per_pixel.mean(2, keepdim=True))
                 / torch.sqrt(per_pixel.var(2, unbiased=False, keepdim=True) + eps))
    across_channels = (x - x.mean(1, keepdim=True)) / torch.sqrt(x.var(1, unbiased=False, keepdim=True) + eps)
    per_channel = (x - x.mean((2, 3), keepdim=True)) / torch.sqrt(x.var((2, 3), unbiased=False, keepdim=True) + eps)
    pixels = f"{channels // groups} channels x {height * width} pixels = {channels // groups * height * width} values"
    return {
        ("You used the unbiased variance (torch.var's default, dividing by n - 1). GroupNorm divides by n: "
         "var(dim=-1, unbiased=False), or correction=0. The two differ little for a big group, but they differ."):
            unbiased.reshape(x.shape),
        (f"You normalized each pixel on its own, over the channels at that pixel. GroupNorm takes one mean and "
         f"one variance per group over its channels AND all its pixels (here {pixels}): reshape to "
         "[batch, groups, -1] and reduce over the last axis."): per_pixel.reshape(x.shape),
        ("You normalized each pixel over all the channels at that pixel. GroupNorm takes one mean and one variance "
         f"per group over its channels AND all its pixels (here {pixels}): reshape to [batch, groups, -1] and "
         "reduce over the last axis."): across_channels,
        ("You normalized each channel on its own (that is InstanceNorm, GroupNorm with one channel per group). "
         f"With {groups} group(s) the group's {channels // groups} channels share one mean and one variance: "
         "reshape to [batch, groups, -1]."): per_channel,
    }


def check_group_norm(function: Callable[[torch.Tensor, int, float], torch.Tensor]) -> bool:
    """The learner's ``function(x, groups, eps)`` must equal ``F.group_norm(x, groups, eps=eps)`` (no scale
    or shift), on random feature maps with 1, 4 and 8 groups.

    Four wrong versions get their own hint: the unbiased variance, normalizing each pixel over its group's
    channels or over all channels, and normalizing each channel on its own.
    """
    generator = torch.Generator().manual_seed(0)
    for groups in (1, 4, 8):
        x = torch.randn(2, 8, 5, 5, generator=generator) * 3 + 1  # mean 1, std 3: normalization must show
        ok, result = run_learner_code(function, x.clone(), groups, 1e-5)
        if not ok:
            return False
        problem = tensor_problem(result, tuple(x.shape), "GroupNorm keeps the input's shape.")
        if problem:
            return report(False, "", problem)
        if not torch.allclose(result, F.group_norm(x, groups, eps=1e-5), atol=1e-4):
            for hint, wrong in _group_norm_mistakes(x, groups, 1e-5).items():
                if torch.allclose(result, wrong, atol=1e-4):
                    return report(False, "", f"The values differ with groups={groups}. {hint}")
            return report(False, "", f"The values differ with groups={groups}. Reshape to "
                                     "[batch, groups, -1] so that each group's channels AND pixels are "
                                     "normalized together, subtract the mean, divide by sqrt(var + eps) "
                                     "with the biased variance (unbiased=False), and reshape back.")
    return report(True, "Your GroupNorm matches F.group_norm for 1, 4 and 8 groups.", "")


def check_down_up_size(function: Callable[[int], int]) -> bool:
    """The learner's ``function(size)`` must return the height of a ``size x size`` map after a
    Downsample and then an Upsample, measured on the real modules, for even and odd sizes."""
    downsample, upsample = Downsample(1), Upsample(1)
    for size in (64, 32, 10, 33, 7):
        ok, answer = run_learner_code(function, size)
        if not ok:
            return False
        if answer is None:
            return report(False, "", "Your function returned None: return the height as an int.")
        with torch.no_grad():
            expected = upsample(downsample(torch.zeros(1, 1, size, size))).shape[-1]
        if answer != expected:
            hint = f"For size {size} the real blocks give {expected}, you said {answer}. "
            hint += ("Odd sizes are the catch: a stride-2 conv with padding 1 keeps the half-pixel, "
                     "so it rounds up." if size % 2 else "Downsample halves the size, Upsample doubles it.")
            return report(False, "", hint)
    return report(True, "Right for even and odd sizes. An odd size comes back one pixel bigger, so the "
                        "skip connection would not fit: U-Net inputs must divide by 2 at every level.", "")
