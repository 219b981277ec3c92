"""Assemble ``benchmarks/RESULTS.md`` from the sections the benchmarks saved in ``build/bench/``.

``make bench`` calls ``report.py --start`` first (forget old sections, note the machine, its load and the
versions before anything runs), then every benchmark, then ``report.py`` to write RESULTS.md: the machine,
a summary of every goal, then each benchmark's section.
"""

import datetime
import json
import os
import platform
import subprocess
import sys
from importlib.metadata import PackageNotFoundError, version

from _common import FRAGMENTS, ROOT, cpu_model, markdown_table, verdict

RESULTS = ROOT / "benchmarks" / "RESULTS.md"
MACHINE = FRAGMENTS / "machine.json"
PACKAGES = ("torch", "numpy", "diffusers", "jupyterlab", "ipykernel", "ipywidgets", "plotly", "matplotlib", "nbclient")


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


def git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True).stdout.strip()

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    return commit + (" (with uncommitted changes)" if git("status", "--porcelain", "--untracked-files=no") else "")


def start() -> None:
    """Forget the sections of an earlier run; note the machine as it is before the benchmarks run."""
    FRAGMENTS.mkdir(parents=True, exist_ok=True)
    for old in FRAGMENTS.glob("*.json"):
        old.unlink()
    machine = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "load_average": "{:.2f} {:.2f} {:.2f}".format(*os.getloadavg()),
        "system": f"{platform.system()} {platform.release()}",
        "commit": git_commit(),
        "versions": {"python": platform.python_version(), **{name: package_version(name) for name in PACKAGES}},
    }
    MACHINE.write_text(json.dumps(machine, indent=1))


def assemble() -> str:
    machine = json.loads(MACHINE.read_text())
    sections = [json.loads(path.read_text()) for path in sorted(FRAGMENTS.glob("*.json")) if path != MACHINE]
    goals = [goal for section in sections for goal in section["goals"]]
    summary = markdown_table(["measurement", "measured", "goal", "verdict"],
                             [[g["what"], g["measured"], g["goal"], verdict(g["met"])] for g in goals])
    versions = ", ".join(f"{name} {number}" for name, number in machine["versions"].items())
    header = f"""# Benchmarks

Written by `make bench` (`benchmarks/report.py`); every figure below comes from one run on one machine.
Timings on a shared machine are noisy: the figures worth quoting are the ratios measured side by side in
the same run (ours / diffusers, model / `torch.mm`, unet_lessons / torch). Each timing is given as
median (5th-95th percentile) of its repetitions.

- Date: {machine["date"]}; commit {machine["commit"]}
- Machine: {machine["cpu"]}, {machine["cores"]} cores, {machine["system"]}
- Load average (1, 5, 15 min) before the run: {machine["load_average"]}
- Versions: {versions}

## Goals

{summary}
"""
    return "\n".join([header] + [section["markdown"] for section in sections])


if __name__ == "__main__":
    if sys.argv[1:] == ["--start"]:
        start()
    else:
        RESULTS.write_text(assemble())
        print(f"wrote {RESULTS.relative_to(ROOT)}")
