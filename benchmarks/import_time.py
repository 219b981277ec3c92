"""What ``import unet_lessons`` costs, against ``import torch`` alone.

Run with ``make bench`` (or ``.venv/bin/python benchmarks/import_time.py``). Each import runs in a fresh
Python process (nothing cached in memory, the files in the OS cache after the first round), timed inside
the process from just before the import statement to just after it; the three statements take turns,
``REPEATS`` rounds. The ratio unet_lessons / torch is taken per round, then its median. A lesson's first
cell imports more (lesson 00 imports ``unet_lessons.viz.architecture_widgets``, which brings plotly, ipywidgets
and matplotlib): shown for scale.
"""

import subprocess
import sys

from _common import Section, Spread

REPEATS = 7
STATEMENTS = {
    "import torch": "import torch",
    "import unet_lessons": "import unet_lessons",
    "import unet_lessons.viz.architecture_widgets (what lesson 00 loads)":
        "import unet_lessons.viz.architecture_widgets",
}
HEAVY = ("matplotlib", "plotly", "ipywidgets", "IPython", "diffusers")


def import_seconds(statement: str) -> tuple[float, list[str]]:
    """Seconds ``statement`` takes in a fresh interpreter, and which of HEAVY it left loaded."""
    code = (f"import sys, time; start = time.perf_counter(); {statement}; seconds = time.perf_counter() - start; "
            f"print(seconds, *[name for name in {HEAVY!r} if name in sys.modules])")
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    return float(output[0]), output[1:]


def main() -> None:
    section = Section("4_import_time", "Import time: unet_lessons against torch", __doc__.split("\n\n", 1)[1].strip())
    seconds = {label: [] for label in STATEMENTS}
    loaded = {}
    for _ in range(REPEATS):
        for label, statement in STATEMENTS.items():
            measured, loaded[label] = import_seconds(statement)
            seconds[label].append(measured)
    rows = []
    for label in STATEMENTS:
        spread = Spread.of([1000 * s for s in seconds[label]])
        ratio = Spread.of([s / t for s, t in zip(seconds[label], seconds["import torch"])])
        rows.append([label, spread.format(), ratio.format(2), ", ".join(loaded[label]) or "none"])
    section.add_table(["statement", "ms", "/ import torch", "plotting and notebook libraries loaded"], rows)
    package = Spread.of([s / t for s, t in zip(seconds["import unet_lessons"], seconds["import torch"])])
    section.add_goal("import unet_lessons / import torch", f"{package.median:.2f}", "(reported)", None)
    section.publish()


if __name__ == "__main__":
    main()
