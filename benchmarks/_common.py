"""What every benchmark shares: statistics of repeated timings, Markdown tables, and the section it publishes.

A benchmark script measures, then builds one :class:`Section` (a paragraph on what it measures, its tables,
its goals) and calls :meth:`Section.publish`: the section is printed and saved as a fragment in
``build/bench/`` (not committed). ``report.py`` runs last and assembles the fragments into
``benchmarks/RESULTS.md``.
"""

import contextlib
import json
import os
import platform
import statistics
import subprocess
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FRAGMENTS = ROOT / "build" / "bench"


@dataclass(frozen=True)
class Spread:
    """Median and 5th/95th percentiles of repeated measurements (with fewer than 20, p5/p95 interpolate)."""

    median: float
    p5: float
    p95: float
    count: int

    @classmethod
    def of(cls, samples: list[float]) -> "Spread":
        if len(samples) == 1:
            return cls(samples[0], samples[0], samples[0], 1)
        percentiles = statistics.quantiles(samples, n=20, method="inclusive")
        return cls(statistics.median(samples), percentiles[0], percentiles[-1], len(samples))

    def format(self, digits: int = 0, unit: str = "") -> str:
        """'123 (110-140) ms': the median, then p5-p95 in parentheses."""
        return f"{self.median:.{digits}f} ({self.p5:.{digits}f}-{self.p95:.{digits}f}){unit}"


@contextlib.contextmanager
def busy_core(busy: bool = True):
    """With ``busy``, a second process keeps one core busy (a Python loop, like a browser tab or a second
    notebook) for the duration of the block; without, nothing."""
    burner = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if busy else None
    try:
        yield
    finally:
        if burner is not None:
            burner.kill()
            burner.wait()


def cpu_model() -> str:
    """The processor's name (Linux's /proc/cpuinfo), or what ``platform`` knows elsewhere."""
    cpuinfo = Path("/proc/cpuinfo")
    for line in cpuinfo.read_text().splitlines() if cpuinfo.is_file() else []:
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or platform.machine()


def verdict(met: bool | None) -> str:
    """``met``, ``**missed**``, or ``-`` for a figure that is reported without a goal (``None``)."""
    return "-" if met is None else "met" if met else "**missed**"


def markdown_table(header: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


@dataclass
class Goal:
    """One line of the report's summary: what was measured, the figure, the goal, and whether it is met
    (``None``: reported, no goal)."""

    what: str
    measured: str
    goal: str
    met: bool | None


@dataclass
class Section:
    """One benchmark's part of RESULTS.md.

    Args:
        name: the fragment's file name (the script's name); sections appear in RESULTS.md in name order.
        title: the section heading.
        about: what is measured and how, one paragraph.
    """

    name: str
    title: str
    about: str
    load_average: float = field(default_factory=lambda: os.getloadavg()[0])  # when the measurement starts
    blocks: list[str] = field(default_factory=list)
    goals: list[Goal] = field(default_factory=list)

    def add_table(self, header: list[str], rows: list[list]) -> None:
        self.blocks.append(markdown_table(header, rows))

    def add_text(self, text: str) -> None:
        self.blocks.append(text)

    def add_goal(self, what: str, measured: str, goal: str, met: bool | None) -> None:
        self.goals.append(Goal(what, measured, goal, met))

    def markdown(self) -> str:
        parts = [f"## {self.title}", self.about, f"Load average (1 min) when it started: {self.load_average:.2f}."]
        return "\n\n".join(parts + self.blocks) + "\n"

    def publish(self) -> None:
        """Print the section and save it for ``report.py``."""
        print(self.markdown())
        FRAGMENTS.mkdir(parents=True, exist_ok=True)
        fragment = {"title": self.title, "markdown": self.markdown(), "goals": [asdict(goal) for goal in self.goals]}
        (FRAGMENTS / f"{self.name}.json").write_text(json.dumps(fragment, indent=1))
