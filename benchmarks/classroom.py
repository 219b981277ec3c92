"""A class on one machine: the hub's memory, each student's, the time to spawn, a lesson alone and with N at once.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/classroom.py``). Starts the class hub
(``classroom/hub``: JupyterHub, its proxy, one local server per student, one torch thread per kernel) on
127.0.0.1. One student logs in, starts a server, pulls the course with nbgitpuller and runs each lesson of
``LESSONS`` alone; then ``CLASS_SIZE`` students (that one and ``CLASS_SIZE - 1`` more, whose servers start
at the same moment) run each lesson at the same time, every one in their own kernel. Memory is sampled every
0.5 s per student as the sum over their server and its kernel: RSS counts the shared libraries (torch) in
every process, USS only the pages that process alone holds (what one more student adds). Hub and proxy: RSS
at the end. Lesson times run from the first cell sent to the last cell's reply, through the proxy.
"""

import asyncio
import os
import statistics
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psutil

from _common import ROOT, Section

sys.path.insert(0, str(ROOT))  # classroom/ lives at the repository root, beside benchmarks/
from classroom.hub.client import MemoryWatch, add_student, pull_course, run_lesson, start_server  # noqa: E402
from classroom.hub.launch import current_branch, running_hub  # noqa: E402

CLASS_SIZE = int(os.environ.get("UNET_CLASS_SIZE", "8"))
LESSONS = ("00_overview.ipynb", "04_assembly.ipynb")
MIB = 2**20
TLJH_OVERHEAD_MIB = 128  # The Littlest JupyterHub's rule: RAM = concurrent users x per-user max + 128 MB


def run_together(hub, students, lesson):
    """Every student runs ``lesson`` at once; their seconds and peak (RSS, USS) per student."""
    async def everyone():
        with MemoryWatch({s.name: s.pid for s in students}) as watch:
            seconds = await asyncio.gather(*(run_lesson(hub, s, lesson) for s in students))
        return seconds, watch.peak
    seconds, peak = asyncio.run(everyone())
    errors = [error for s in students for error in s.errors]
    if errors:
        raise RuntimeError(f"{lesson}: {errors[:3]}")
    return seconds, peak


def main() -> None:
    section = Section("5_classroom", f"A class on one machine: {CLASS_SIZE} students on the hub",
                      __doc__.split("\n\n", 1)[1].strip())
    with tempfile.TemporaryDirectory() as state, running_hub(Path(state)) as hub:
        first = add_student(hub, "student00")
        start_server(hub, first)
        pull_course(hub, first, str(ROOT), current_branch())
        alone = {lesson: run_together(hub, [first], lesson) for lesson in LESSONS}
        others = [add_student(hub, f"student{i:02d}") for i in range(1, CLASS_SIZE)]
        with ThreadPoolExecutor(len(others) or 1) as pool:
            list(pool.map(lambda s: start_server(hub, s), others))
            list(pool.map(lambda s: pull_course(hub, s, str(ROOT), current_branch()), others))
        students = [first, *others]
        together = {lesson: run_together(hub, students, lesson) for lesson in LESSONS}
        hub_process = psutil.Process(hub.process.pid)
        proxy = next(p for p in hub_process.children() if "configurable-http-proxy" in " ".join(p.cmdline()))
        hub_rss, proxy_rss = hub_process.memory_info().rss, proxy.memory_info().rss

    rows = []
    for lesson in LESSONS:
        (solo,), solo_peak = alone[lesson]
        seconds, peaks = together[lesson]
        rows.append([lesson, f"{solo:.1f}", f"{statistics.median(seconds):.1f} (max {max(seconds):.1f})",
                     f"{statistics.median(seconds) / solo:.1f}x",
                     f"{solo_peak['student00'][0] / MIB:.0f} / {solo_peak['student00'][1] / MIB:.0f}",
                     f"{max(p[0] for p in peaks.values()) / MIB:.0f} / {max(p[1] for p in peaks.values()) / MIB:.0f}"])
    section.add_table(["lesson", "alone, s", f"{CLASS_SIZE} at once, s: median", "slowdown",
                       "peak per student alone, MiB RSS / USS", f"peak per student, {CLASS_SIZE} at once, MiB RSS / USS"],
                      rows)
    spawn_alone = first.spawn_seconds
    spawn_together = [s.spawn_seconds for s in others]
    peak_rss = max(p[0] for _, peaks in together.values() for p in peaks.values())
    section.add_text(
        f"Machine: {os.cpu_count()} cores, {psutil.virtual_memory().total / 2**30:.0f} GiB. Spawn (login to a ready server): "
        f"{spawn_alone:.1f} s alone, median {statistics.median(spawn_together or [0]):.1f} s "
        f"(max {max(spawn_together or [0]):.1f} s) for {len(others)} at once. Hub {hub_rss / MIB:.0f} MiB, "
        f"proxy {proxy_rss / MIB:.0f} MiB RSS with {CLASS_SIZE} students. Largest peak per student here "
        f"{peak_rss / MIB:.0f} MiB RSS (server and kernel). The heaviest lesson's kernel is in the notebooks "
        f"section; with 1 GiB per student, TLJH's rule sizes a class as students x 1 GiB + {TLJH_OVERHEAD_MIB} MiB.")
    section.publish()


if __name__ == "__main__":
    main()
