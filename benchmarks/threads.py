"""The lessons' real workloads on a quiet and on a busy machine, across thread settings.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/threads.py``), on an otherwise quiet machine.

A laptop in a lesson is rarely quiet: a browser tab, a video call or a second notebook keeps a core busy. torch
runs one OpenMP worker per core, and a worker that waits for the others spins; with one core taken, the team
waits on a descheduled worker at every parallel region. Each workload below runs in its own process (the
thread settings must be fixed before torch starts its workers), quiet and beside one busy process (a Python
loop on one core), under each setting: ``torch.set_num_threads(1)``, ``2`` (torch's default on 2 cores), and 2
with GNU OpenMP's waiting shortened (``GOMP_SPINCOUNT=10000``, default 300,000 spins) or made passive
(``OMP_WAIT_POLICY=PASSIVE``). Median of the repetitions, in ms:

* **06 redraw**: lesson 06's init explorer, one uncached measurement of its four schemes (``small``).
* **07 step**: one training step of lesson 07's ``tiny`` U-Net, batch 32 (``unet_lessons.training.train``).
* **08 draw**: lesson 08's explorer, 10 samples from the course model, DDIM 25 steps, w = 2.
* **09 step**: one training step of lesson 09 (the course model's architecture, its recipe, batch 64).

Then lesson 09's live view (``train_your_own.measure_view``, 100 steps and one redraw) with 1 and 2 threads,
quiet and busy: ms per training step inside the view, and seconds per redraw (50 samples).

**What the course chose.** No setting is best in both states: 2 threads are fastest on a quiet machine and
4 to 18 times slower beside one busy process; 1 thread costs a quiet machine 1.3x to 1.7x and keeps a busy
one within 2x of its best. Shorter spinning (``GOMP_SPINCOUNT``) rescues most workloads but not lesson 06's
explorer, passive waiting costs the quiet case up to 2.7x, and both are environment variables that must be
set before Python starts, which a lesson cannot do. The lessons therefore leave one core free
(``unet_lessons.threads.use_course_threads``, called in every lesson's set-up cell: torch's thread count
less one, at least one), and respect an ``OMP_NUM_THREADS`` set by the user, the class hub or Binder (both
set 1). Lesson 09's training is the exception: a four-minute run the learner watches, which 1 thread would
make 1.8x longer on a quiet 2-core machine, so it keeps every core and says what a busy machine costs.
"""

import json
import os
import subprocess
import sys
import time

from _common import ROOT, Section, busy_core

WORKLOADS = ("06 redraw", "07 step", "08 draw", "09 step")
SETTINGS = {  # name -> (torch threads, environment)
    "1 thread": (1, {}),
    "2 threads": (2, {}),
    "2 threads, GOMP_SPINCOUNT=10000": (2, {"GOMP_SPINCOUNT": "10000"}),
    "2 threads, OMP_WAIT_POLICY=PASSIVE": (2, {"OMP_WAIT_POLICY": "PASSIVE"}),
}


def workload(name: str):
    """A function running one repetition of the workload, after its set-up (and a first run, which allocates)."""
    import torch

    if name == "06 redraw":
        from unet_lessons.configs import UNetConfig
        from unet_lessons.init import INIT_SCHEMES, _measure_schemes

        small = UNetConfig(image_size=32, base_channels=32, channel_mults=(1, 2, 2), attention_resolutions=(8,))
        seeds = iter(range(1000))  # a new seed each time: the explorer's cache would answer a repeat at once
        run = lambda: _measure_schemes(small, tuple(INIT_SCHEMES), 500, 0, 2e-4, 4, next(seeds))  # noqa: E731
    elif name == "07 step":
        from unet_lessons.configs import PRESETS
        from unet_lessons.init import initialized_unet
        from unet_lessons.training import NoiseSchedule, shapes_dataset, train

        model, images = initialized_unet(PRESETS["tiny"].config, "chapter"), shapes_dataset(512, 32, seed=0)
        optimizer, schedule = torch.optim.Adam(model.parameters(), lr=2e-3), NoiseSchedule.linear()
        run = lambda: train(model, images, schedule, 1, batch_size=32, optimizer=optimizer)  # noqa: E731
    elif name == "08 draw":
        from unet_lessons.course_files import load_course_model
        from unet_lessons.sampling import ddim_sample

        model, schedule, _ = load_course_model()
        labels = torch.arange(10)
        run = lambda: ddim_sample(model, schedule, (10, 1, 32, 32), num_steps=25, y=labels,  # noqa: E731
                                  guidance_scale=2.0, seed=0)
    elif name == "09 step":
        from unet_lessons.configs import COURSE_CONFIG
        from unet_lessons.data import to_model_images
        from unet_lessons.recipe import LESSON_RECIPE, Trainer, lesson_training_data
        from unet_lessons.training import NoiseSchedule
        from unet_lessons.unet import UNet

        pixels, labels, _ = lesson_training_data()
        trainer = Trainer(UNet(COURSE_CONFIG), to_model_images(pixels), labels, NoiseSchedule.linear(),
                          LESSON_RECIPE, total_steps=1000)
        run = lambda: trainer.run(1)  # noqa: E731
    else:
        raise ValueError(f"workload={name!r}: one of {WORKLOADS}.")
    run()
    return run


def measure(name: str, seconds: float) -> list[float]:
    """Repeat the workload for about ``seconds`` (at least 3 times); the time of each repetition, in ms."""
    run = workload(name)
    times, start = [], time.perf_counter()
    while len(times) < 3 or time.perf_counter() - start < seconds:
        began = time.perf_counter()
        run()
        times.append(1000 * (time.perf_counter() - began))
    return times


def measure_in_child(name: str, threads: int, environment: dict, busy: bool, seconds: float) -> float:
    """The median ms of the workload in a fresh process with these settings, with a busy loop beside it or not."""
    code = (f"import sys, json, statistics; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import torch; "
            f"torch.set_num_threads({threads}); from threads import measure; "
            f"print(json.dumps(statistics.median(measure({name!r}, {seconds}))))")
    with busy_core(busy):
        result = subprocess.run([sys.executable, "-c", code], env={**os.environ, **environment}, check=True,
                                capture_output=True, text=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def measure_view_in_child(threads: int, busy: bool) -> dict:
    """Lesson 09's live view for 100 steps in a fresh process with this many threads, beside a busy loop or not."""
    code = (f"import sys, json; sys.path.insert(0, {str(ROOT / 'benchmarks')!r}); import torch; "
            f"torch.set_num_threads({threads}); from train_your_own import measure_view; "
            f"print(json.dumps(measure_view(100)))")
    with busy_core(busy):
        result = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True, cwd=ROOT)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=8.0, help="time spent repeating each measurement")
    arguments = parser.parse_args()
    section = Section("9_threads", "Threads: the lessons' workloads on a quiet and a busy machine",
                      __doc__.split("\n\n", 1)[1].strip())
    results = {}
    for name in WORKLOADS:
        for setting, (threads, environment) in SETTINGS.items():
            for busy in (False, True):
                results[name, setting, busy] = measure_in_child(name, threads, environment, busy, arguments.seconds)
                print(f"{name:10s} {setting:36s} {'busy' if busy else 'quiet':5s} "
                      f"{results[name, setting, busy]:8.0f} ms", flush=True)
    quiet_best = {name: min(results[name, s, False] for s in SETTINGS) for name in WORKLOADS}
    busy_best = {name: min(results[name, s, True] for s in SETTINGS) for name in WORKLOADS}
    rows = [[setting, *(f"{results[name, setting, False]:.0f} ({results[name, setting, False] / quiet_best[name]:.2f}x)"
                        f" / {results[name, setting, True]:.0f} ({results[name, setting, True] / busy_best[name]:.2f}x)"
                        for name in WORKLOADS)] for setting in SETTINGS]
    section.add_text("Each cell: quiet / busy, in ms, and in parentheses the ratio to the best setting for that "
                     "workload and machine state (1.00x is the best).")
    section.add_table(["setting", *WORKLOADS], rows)
    view_rows = []
    for threads in (1, 2):
        for busy in (False, True):
            view = measure_view_in_child(threads, busy)
            print(f"09 view    {threads} thread(s) {'busy' if busy else 'quiet':5s} {view['in_view_ms']:6.0f} ms/step, "
                  f"{view['redraw_s']:5.1f} s/redraw", flush=True)
            view_rows.append([f"{threads} thread{'s' if threads > 1 else ''}", "busy" if busy else "quiet",
                              f"{view['in_view_ms']:.0f}", f"{view['redraw_s']:.1f}",
                              f"{(view['in_view_ms'] + 10 * view['redraw_s']) / 60:.1f}"])  # 1,000 steps x ms = s
    section.add_text("Lesson 09's live view, 100 steps and one redraw; the last column is what the lesson's "
                     "1,000 steps and 10 redraws would take at that pace.")
    section.add_table(["threads", "machine", "ms per step", "s per redraw", "1,000 steps, minutes"], view_rows)
    section.publish()


if __name__ == "__main__":
    main()
