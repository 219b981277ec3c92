"""How long every lesson takes to run top to bottom in a fresh kernel, and the most memory its kernel holds.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/notebooks.py``). Every ``notebooks/*.ipynb`` is
executed with nbclient (as ``make notebooks`` does, outputs not saved), one at a time, ``RUNS`` passes
over all of them. Wall time runs from starting the kernel to the end of the last cell. Peak memory is the
kernel's ``VmHWM`` (its resident-set high-water mark), read after every cell. Goals: under 60 s (lesson 07,
which trains a model: under 180 s; lesson 09, which trains a generator: under 360 s) and under 1 GB each
(Binder restarts a kernel above 2 GB).
"""

import os
import sys
import time
from pathlib import Path

import nbformat
from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

from _common import ROOT, Section, Spread, verdict
from unet_lessons.analysis import peak_resident_memory

sys.path.insert(0, str(ROOT))  # tools/ lives at the repository root, beside benchmarks/
from tools.run_notebooks import notebook_client  # noqa: E402  (the runner make notebooks uses)

NOTEBOOKS = ROOT / "notebooks"
RUNS = int(os.environ.get("BENCH_NOTEBOOK_RUNS", 2))
TIME_GOAL_S = 60
TIME_GOALS_S = {"07": 180, "09": 360}  # by lesson number: lessons 07 and 09 train a model
MEMORY_GOAL = 2**30


def run_notebook(path: Path) -> tuple[float, int]:
    """Execute ``path`` in a fresh kernel; return (seconds from kernel start to the last cell's end, peak bytes)."""
    notebook = nbformat.read(path, as_version=4)
    measured = {"peak": 0, "end": 0.0}

    def after_cell(**_):
        measured["peak"] = peak_resident_memory(client.km.provisioner.process.pid)  # VmHWM only grows
        measured["end"] = time.perf_counter()

    with notebook_client(notebook, path.parent, on_cell_executed=after_cell) as client:
        start = time.perf_counter()
        client.execute()
    return measured["end"] - start, measured["peak"]


def main() -> None:
    os.environ["HF_HUB_OFFLINE"] = "1"  # the kernels inherit it: no lesson waits for Hugging Face
    paths = sorted(NOTEBOOKS.glob("*.ipynb"))
    section = Section("1_notebooks", "Notebooks: time to run in a fresh kernel, kernel peak memory", __doc__.split("\n\n", 1)[1].strip())
    seconds: dict[str, list[float]] = {path.name: [] for path in paths}  # of the runs that completed
    peaks: dict[str, list[int]] = {path.name: [] for path in paths}
    problems: dict[str, list[str]] = {path.name: [] for path in paths}
    for _ in range(RUNS):  # pass after pass, so that a noisy minute does not fall on one notebook only
        for path in paths:
            print(f"running {path.name}", flush=True)
            try:
                wall, peak = run_notebook(path)
            except CellExecutionError as error:
                problems[path.name].append("error: " + str(error).strip().splitlines()[-1][:100])
                continue
            except (CellTimeoutError, DeadKernelError) as error:
                problems[path.name].append(f"no answer from the kernel ({type(error).__name__})")
                continue
            seconds[path.name].append(wall)
            peaks[path.name].append(peak)

    rows = []
    for path in paths:
        name = path.name
        time_goal = TIME_GOALS_S.get(name[:2], TIME_GOAL_S)
        trouble = "; ".join(problems[name])
        if not seconds[name]:
            rows.append([name, "no complete run", "", verdict(False), verdict(False), trouble])
            section.add_goal(f"{name} runs", "no complete run", f"< {time_goal} s, < 1 GB", False)
            continue
        wall, peak = Spread.of(seconds[name]), max(peaks[name])
        rows.append([name, wall.format(1), f"{peak / 2**20:.0f}", verdict(wall.median < time_goal),
                     verdict(peak < MEMORY_GOAL), trouble])
        section.add_goal(f"{name}: time to run", f"{wall.median:.1f} s", f"< {time_goal} s", wall.median < time_goal)
        section.add_goal(f"{name}: kernel peak memory", f"{peak / 2**20:.0f} MiB", "< 1024 MiB", peak < MEMORY_GOAL)
    section.add_table(["notebook", f"seconds, median (p5-p95) of {RUNS} runs", "peak MiB (max)", "time goal",
                       "memory goal", "failed runs"], rows)
    section.publish()


if __name__ == "__main__":
    main()
