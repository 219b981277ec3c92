"""How long the configuration explorer takes to redraw after a control changes, per preset.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/explorer_latency.py``). Goal: median < 150 ms for
every preset. Each update sets ``num_res_blocks`` (alternating between the preset's value and one more),
which runs the widget's whole callback: validate, trace, build the hourglass and breakdown figures and the
shape table, and display them through IPython's formatters (the figures' JSON is built as in a kernel).

Two columns per preset:
* warm: the explorer's caches are kept, as in a session where the learner goes back and forth between
  settings (the first change of the run meets a new configuration, the others revisit one);
* cold: the caches are cleared before every update, so every update traces and counts a configuration
  it has never seen (a learner trying a new value for the first time).

Wall-clock times depend on what else the machine runs (the load average is printed); the CPU columns
(``time.process_time``) are the same updates' CPU time, close to what an idle machine would show.
"""

import contextlib
import io
import time

from IPython.core.interactiveshell import InteractiveShell

from _common import Section, Spread, verdict
from unet_lessons.configs import PRESETS
from unet_lessons.viz import breakdown
from unet_lessons.viz._common import cached_trace, meta_model
from unet_lessons.viz.style import use_course_style
from unet_lessons.viz.architecture_widgets import unet_explorer

UPDATES = 20
GOAL_MS = 150


def clear_caches() -> None:
    for cache in (cached_trace, meta_model, breakdown._counts):
        cache.cache_clear()


def time_updates(preset: str, cold: bool) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU milliseconds per control change, UPDATES times, for one preset."""
    explorer = unet_explorer(preset)
    slider = explorer.controls["num_res_blocks"]
    values = [PRESETS[preset].config.num_res_blocks, PRESETS[preset].config.num_res_blocks + 1]
    wall, cpu = [], []
    for i in range(UPDATES):
        if cold:
            clear_caches()
        start, start_cpu = time.perf_counter(), time.process_time()
        slider.value = values[(i + 1) % 2]
        wall.append(1000 * (time.perf_counter() - start))
        cpu.append(1000 * (time.process_time() - start_cpu))
        assert explorer.config.num_res_blocks == slider.value, explorer.message.value  # the update happened
    return wall, cpu


def main() -> None:
    InteractiveShell.instance()  # display() then runs the real formatters, as under a kernel
    use_course_style()
    with contextlib.redirect_stdout(io.StringIO()):
        unet_explorer()  # the first meta-device op of a process costs seconds (lazy imports): not an update
    section = Section("2_explorer_latency", "Explorer: update latency per preset",
                      __doc__.split("\n\n", 1)[1].strip() + f"\n\n{UPDATES} updates per preset and column; "
                      f"times in ms, median (p5-p95). Goal: median < {GOAL_MS} ms, warm and cold.")
    rows = []
    for preset in PRESETS:
        with contextlib.redirect_stdout(io.StringIO()):
            warm, warm_cpu = map(Spread.of, time_updates(preset, cold=False))
            cold, cold_cpu = map(Spread.of, time_updates(preset, cold=True))
        met = max(warm.median, cold.median) < GOAL_MS
        rows.append([preset, warm.format(), cold.format(), f"{warm_cpu.median:.0f}", f"{cold_cpu.median:.0f}",
                     verdict(met)])
        section.add_goal(f"explorer update, {preset} (cold / warm median)", f"{cold.median:.0f} / {warm.median:.0f} ms",
                         f"< {GOAL_MS} ms", met)
    section.add_table(["preset", "warm", "cold", "CPU warm (median)", "CPU cold (median)", "goal"], rows)
    section.publish()


if __name__ == "__main__":
    main()
