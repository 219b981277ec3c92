"""Our U-Net against diffusers' ``UNet2DModel`` with identical weights, and both against the machine's limit.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/model_speed.py``). The DDPM paper's CIFAR-10 U-Net
(preset ``ddpm_cifar10``, 32x32) is built twice: diffusers' ``UNet2DModel`` from
``diffusers_config(config)``, ours by porting its weights (``port_diffusers_unet``), so both compute the same
function. Batch 8 on the CPU, torch's default threads; then again at one thread (Binder gives one CPU) and
at batch 64 (the ratio table). Two passes: forward (eval mode, no gradients, as in
sampling) and forward + backward of the MSE loss (train mode, as in training). The runs are interleaved in
one process, ours and diffusers' alternating which goes first, and the ratio ours / diffusers is taken per
round, then its median: noise that hits a whole round cancels. Goal: ratio at most 1.0. The chapter's
``ddpm`` preset (64x64, chapter topology: no diffusers twin) is timed alone. Last, both forward passes at
one thread and batch 8 are profiled operator by operator (``torch.profiler``), to show where they differ.

Distance to the limit: the FLOPs of each pass (``torch.utils.flop_counter.FlopCounterMode``, a multiply-add
counts 2; convolutions and matrix products only) divided by its median time, against the GFLOP/s of a
large ``torch.mm`` timed in the same rounds.
"""

import os
import statistics
import time
from collections.abc import Callable

os.environ["HF_HUB_OFFLINE"] = "1"  # read when diffusers imports huggingface_hub: nothing leaves the machine

import torch
import torch.nn.functional as F
from diffusers import UNet2DModel
from torch.profiler import profile
from torch.utils.flop_counter import FlopCounterMode

from _common import Section, Spread, verdict
from unet_lessons.configs import PRESETS, UNetConfig
from unet_lessons.diffusers_port import diffusers_config, port_diffusers_unet
from unet_lessons.unet import UNet

BATCH = 8
# (threads, batch, rounds) besides the default run (threads None: torch's default); a round at batch 64 and one
# thread takes two minutes, one at batch 8 a few seconds, so batch 8 gets more rounds for a steadier median
THREAD_GRID = ((1, 8, 9), (1, 64, 3), (None, 64, 3))
PROFILED = (1, 8, 3)  # threads, batch, repetitions of the forward pass profiled operator by operator
PROFILE_ROWS = 10
ROUNDS = int(os.environ.get("BENCH_MODEL_ROUNDS", 6))
MM_SIZE = 2048  # [2048, 2048] @ [2048, 2048]: 17 GFLOP, large enough to run at the machine's best
PASSES = ("forward", "forward + backward")


def passes(model: torch.nn.Module, x: torch.Tensor, t: torch.Tensor, noise: torch.Tensor) -> dict[str, Callable]:
    """The two timed passes of ``model`` (``model(x, t)`` returns the predicted noise)."""

    def forward():
        model.eval()
        with torch.no_grad():
            model(x, t)

    def forward_backward():
        model.train()
        F.mse_loss(model(x, t), noise).backward()
        model.zero_grad(set_to_none=True)

    return {"forward": forward, "forward + backward": forward_backward}


def seconds(step: Callable) -> float:
    start = time.perf_counter()
    step()
    return time.perf_counter() - start


def flops(step: Callable) -> int:
    with FlopCounterMode(display=False) as counter:
        step()
    return counter.get_total_flops()


def inputs(config: UNetConfig, batch: int = BATCH) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    shape = (batch, config.in_channels, config.image_size, config.image_size)
    return (torch.randn(shape, generator=generator), torch.randint(0, 1000, (batch,), generator=generator),
            torch.randn(shape, generator=generator))


def operator_times(step: Callable, repeats: int) -> dict[str, tuple[float, int]]:
    """Milliseconds of self CPU time and calls per run of ``step``, per aten operator (torch.profiler)."""
    step()
    with profile() as profiler:
        for _ in range(repeats):
            step()
    return {event.key: (event.self_cpu_time_total / 1000 / repeats, event.count // repeats)
            for event in profiler.key_averages()}


def time_interleaved(contenders: dict[str, dict[str, Callable]], matrix_product: Callable,
                     rounds: int = ROUNDS) -> dict:
    """Seconds of every contender's passes and of ``matrix_product``, ``rounds`` rounds, the order rotating."""
    names = list(contenders)
    times = {(name, kind): [] for name in names for kind in PASSES} | {"mm": []}
    for steps in contenders.values():  # warm-up: first calls allocate and pick kernels
        for step in steps.values():
            step()
    for round_number in range(rounds):
        times["mm"].append(seconds(matrix_product))
        order = names[round_number % len(names):] + names[:round_number % len(names)]
        for kind in PASSES:
            for name in order:
                times[name, kind].append(seconds(contenders[name][kind]))
    return times


def main() -> None:
    section = Section("3_model_speed", "Model speed: ours against diffusers, and against torch.mm",
                      __doc__.split("\n\n", 1)[1].strip())
    a, b = torch.randn(MM_SIZE, MM_SIZE), torch.randn(MM_SIZE, MM_SIZE)

    def matrix_product():
        torch.mm(a, b)

    # ddpm_cifar10: ours and diffusers' with the same weights
    config = PRESETS["ddpm_cifar10"].config
    torch.manual_seed(0)
    theirs = UNet2DModel(**diffusers_config(config))
    ours = port_diffusers_unet(theirs)
    x, t, noise = inputs(config)
    with torch.no_grad():
        difference = (ours.eval()(x, t) - theirs.eval()(x, t).sample).abs().max().item()
    contenders = {"ours": passes(ours, x, t, noise), "diffusers": passes(_DiffusersPrediction(theirs), x, t, noise)}
    cifar_times = time_interleaved(contenders, matrix_product)
    cifar_flops = {kind: flops(contenders["ours"][kind]) for kind in PASSES}
    diffusers_flops = flops(contenders["diffusers"]["forward"])

    # the chapter's ddpm preset at 64x64: ours alone
    chapter = PRESETS["ddpm"].config
    chapter_model = UNet(chapter)
    chapter_steps = passes(chapter_model, *inputs(chapter))
    chapter_times = time_interleaved({"ours": chapter_steps}, matrix_product)
    chapter_flops = {kind: flops(chapter_steps[kind]) for kind in PASSES}

    mm_rate = Spread.of([2 * MM_SIZE**3 / s / 1e9 for s in cifar_times["mm"] + chapter_times["mm"]])

    rows = []
    for kind in PASSES:
        ours_ms = Spread.of([1000 * s for s in cifar_times["ours", kind]])
        theirs_ms = Spread.of([1000 * s for s in cifar_times["diffusers", kind]])
        ratio = Spread.of([o / d for o, d in zip(cifar_times["ours", kind], cifar_times["diffusers", kind])])
        rows.append([f"ddpm_cifar10 32x32, {kind}", ours_ms.format(), theirs_ms.format(), ratio.format(2),
                     verdict(ratio.median <= 1.0)])
        section.add_goal(f"ddpm_cifar10 {kind}, ours / diffusers", f"{ratio.median:.2f}", "<= 1.0",
                         ratio.median <= 1.0)
    for kind in PASSES:
        ours_ms = Spread.of([1000 * s for s in chapter_times["ours", kind]])
        rows.append([f"ddpm (chapter) 64x64, {kind}", ours_ms.format(), "(no twin)", "", ""])
    section.add_text(f"Batch {BATCH}, {ROUNDS} rounds, {torch.get_num_threads()} threads. Same function: "
                     f"max |ours - diffusers| = {difference:.1e} on the forward pass (eval mode).")
    section.add_table(["model, pass", "ours ms", "diffusers ms", "ours / diffusers", "goal (<= 1.0)"], rows)

    limit_rows = []
    for label, counted, times in (("ddpm_cifar10 32x32", cifar_flops, cifar_times),
                                  ("ddpm (chapter) 64x64", chapter_flops, chapter_times)):
        for kind in PASSES:
            rate = counted[kind] / statistics.median(times["ours", kind]) / 1e9
            limit_rows.append([f"{label}, {kind}", f"{counted[kind] / 1e9:.1f}", f"{rate:.0f}",
                               f"{rate / mm_rate.median:.0%}"])
            section.add_goal(f"{label} {kind}: share of torch.mm's GFLOP/s", f"{rate / mm_rate.median:.0%}",
                             "(reported)", None)
    section.add_text(f"`torch.mm` of two [{MM_SIZE}, {MM_SIZE}] float32 matrices: {mm_rate.format()} GFLOP/s. "
                     f"FLOPs counted on our model. diffusers' forward counts {diffusers_flops / 1e9:.1f} GFLOP "
                     f"(ours {cifar_flops['forward'] / 1e9:.1f}): its attention reaches "
                     "`_scaled_dot_product_flash_attention_for_cpu`, for which torch's counter has no formula, "
                     "so its attention products go uncounted (ours take the math path, counted as `bmm`). "
                     "A share above 100% would not mean the model beats the machine: the counter counts every "
                     "multiply-add of a direct convolution, which a convolution kernel may compute with fewer "
                     "operations (e.g. Winograd's method for 3x3), and one `torch.mm` size estimates the "
                     "machine's limit rather than its peak.")
    section.add_table(["model, pass (ours)", "GFLOP", "GFLOP/s (median time)", "share of torch.mm"], limit_rows)

    default_threads = torch.get_num_threads()
    grid_rows = []
    for threads, batch, rounds in THREAD_GRID:
        torch.set_num_threads(threads or default_threads)
        x, t, noise = inputs(config, batch)
        grid = {"ours": passes(ours, x, t, noise), "diffusers": passes(_DiffusersPrediction(theirs), x, t, noise)}
        times = time_interleaved(grid, matrix_product, rounds)
        for kind in PASSES:
            ratio = Spread.of([o / d for o, d in zip(times["ours", kind], times["diffusers", kind])])
            ours_ms = Spread.of([1000 * s for s in times["ours", kind]])
            grid_rows.append([threads or default_threads, batch, rounds, kind, ours_ms.format(), ratio.format(2)])
            section.add_goal(f"ddpm_cifar10 {kind}, {threads or default_threads} thread(s), batch {batch}: "
                             "ours / diffusers",
                             f"{ratio.median:.2f}", "<= 1.0", ratio.median <= 1.0)
    section.add_text("ddpm_cifar10 at other thread counts and batches (same weights, same interleaving):")
    section.add_table(["threads", "batch", "rounds", "pass", "ours ms", "ours / diffusers"], grid_rows)

    threads, batch, repeats = PROFILED
    torch.set_num_threads(threads)
    x, t, noise = inputs(config, batch)
    profiled = {"ours": operator_times(passes(ours, x, t, noise)["forward"], repeats),
                "diffusers": operator_times(passes(_DiffusersPrediction(theirs), x, t, noise)["forward"], repeats)}
    torch.set_num_threads(default_threads)
    heaviest = sorted(set(profiled["ours"]) | set(profiled["diffusers"]),
                      key=lambda op: -max(profiled[name].get(op, (0, 0))[0] for name in profiled))[:PROFILE_ROWS]
    cell = lambda name, op: "{:.1f} ({})".format(*profiled[name][op]) if op in profiled[name] else "-"
    section.add_text(f"Where the time goes: the forward pass at {threads} thread, batch {batch}, profiled by "
                     f"torch.profiler ({repeats} runs each, one after the other); self CPU time per run, ms "
                     "(calls), the heaviest operators of either model. Total: " +
                     ", ".join(f"{name} {sum(ms for ms, _ in profiled[name].values()):.0f} ms" for name in profiled) +
                     ". Same shapes reach the same kernels; the models differ in attention (ours: 1x1 "
                     "convolutions, which torch runs on `_slow_conv2d_forward` at one thread below batch 16, and "
                     "the math path of `scaled_dot_product_attention`, counted as `bmm`; diffusers: `linear` "
                     "layers, `mm`/`addmm`, and the flash kernel) and in copies.")
    section.add_table(["operator", "ours ms (calls)", "diffusers ms (calls)"],
                      [[f"`{op}`", cell("ours", op), cell("diffusers", op)] for op in heaviest])
    section.publish()


class _DiffusersPrediction(torch.nn.Module):
    """diffusers' ``UNet2DModel`` returning the predicted noise tensor, as our UNet does (not an output object)."""

    def __init__(self, unet: UNet2DModel):
        super().__init__()
        self.unet = unet

    def forward(self, x: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        return self.unet(x, t).sample


if __name__ == "__main__":
    main()
