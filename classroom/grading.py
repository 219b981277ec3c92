"""Graded exercises: each lesson's exercises as an nbgrader assignment, graded offline by our own checkers.

    python -m classroom.grading            # build/nbgrader/: an nbgrader course folder, student versions made
    cd build/nbgrader && nbgrader autograde lesson01   # after collecting submissions into submitted/<student>/

For every lesson, ``source/lessonNN/NN_name.ipynb`` holds the lesson's title, its first code cell (the
imports) and its exercise section. Each exercise's code cell becomes an nbgrader solution cell: what the
exercise gives stays, the solution from the lesson's own "Solution" cell goes between ``### BEGIN SOLUTION``
and ``### END SOLUTION``; its last line, ``passed = check_...(...)``, becomes a locked, autograded test cell
worth one point, ``assert check_...(...)``. The checkers in ``unet_lessons.exercises`` stay the single
source of truth: they print the same hints in the test cell as in the lesson. The lesson's solution cells
are left out. ``nbgrader generate_assignment`` then writes the student version to ``release/lessonNN/``:
each solution replaced by ``# YOUR CODE HERE`` and ``raise NotImplementedError()``.
"""

import argparse
import ast
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat

from classroom.build import lesson_paths

ROOT = Path(__file__).resolve().parents[1]
SOLUTION_SUMMARY = re.compile(r"<summary>.*Solution", re.IGNORECASE)
PYTHON_BLOCK = re.compile(r"```python\n(.*?)```", re.DOTALL)
EXERCISES_HEADING = re.compile(r"^## .*[Ee]xercises", re.MULTILINE)
CONFIG = '''"""nbgrader's settings for the course's graded exercises (written by python -m classroom.grading)."""
c = get_config()  # noqa: F821 (nbgrader defines it)
c.CourseDirectory.course_id = "unet_lessons"
c.CourseDirectory.root = {root!r}
c.CourseDirectory.db_url = "sqlite:///" + {db!r}
c.ExecutePreprocessor.timeout = 300
'''


@dataclass(frozen=True)
class Exercise:
    """One exercise of a lesson: its code cell split into what the learner writes and how it is checked.

    * `given` - lines of the cell the learner does not write (imports, a printout), kept as they are
    * `stub` - the stub the learner fills in (a function with ``return None``, or ``name = None``)
    * `check` - the checker call, e.g. ``check_group_norm(group_norm)``
    * `names` - the names the checker receives, which the solution must define
    """

    given: str
    stub: str
    check: str
    names: tuple[str, ...]


def parse_exercise(source: str) -> Exercise | None:
    """The exercise in a code cell ending in ``passed = check_...(...)``; ``None`` for any other cell."""
    tree = ast.parse(source)
    last = tree.body[-1] if tree.body else None
    if not (isinstance(last, ast.Assign) and [ast.unparse(t) for t in last.targets] == ["passed"]
            and isinstance(last.value, ast.Call) and ast.unparse(last.value.func).startswith("check_")):
        return None
    names = tuple(arg.id for arg in last.value.args if isinstance(arg, ast.Name))
    lines = source.splitlines()
    given, stub = [], []
    for statement in tree.body[:-1]:
        text = "\n".join(lines[statement.lineno - 1:statement.end_lineno])
        (stub if defined_names([statement]) & set(names) else given).append(text)
    return Exercise("\n".join(given), "\n".join(stub), ast.get_source_segment(source, last.value), names)


def defined_names(statements: list[ast.stmt]) -> set[str]:
    """The names a list of top-level statements defines (functions, classes and assignment targets)."""
    names = set()
    for statement in statements:
        if isinstance(statement, (ast.FunctionDef, ast.ClassDef)):
            names.add(statement.name)
        elif isinstance(statement, ast.Assign):
            names.update(node.id for target in statement.targets for node in ast.walk(target)
                         if isinstance(node, ast.Name))
    return names


def find_solution(cells: list, start: int, names: tuple[str, ...]) -> str:
    """The Python block of the first "Solution" cell after ``start`` that defines every one of ``names``."""
    for cell in cells[start + 1:]:
        if cell.cell_type != "markdown" or not SOLUTION_SUMMARY.search(cell.source):
            continue
        for block in PYTHON_BLOCK.findall(cell.source):
            if set(names) <= defined_names(ast.parse(block).body):
                return block.rstrip("\n")
    raise ValueError(f"no Solution cell after cell {start} has a ```python block that defines {', '.join(names)}: "
                     "write the solution as code in the lesson's solution cell")


def solution_cell_source(exercise: Exercise, solution: str) -> str:
    """The nbgrader solution cell: the given lines, the stub, and the solution between the markers.

    A function stub keeps its ``def`` line and its hint comments; the solution's body goes inside it, in
    place of ``return None``. Any other stub (``answer = None  # your number here``) stays as it is, with
    the whole solution after it.
    """
    stub = ast.parse(exercise.stub).body
    solved = ast.parse(solution).body
    parts = [exercise.given] if exercise.given else []
    if (len(stub) == 1 == len(solved) and isinstance(stub[0], ast.FunctionDef)
            and isinstance(solved[0], ast.FunctionDef) and stub[0].name == solved[0].name):
        stub_lines, solution_lines = exercise.stub.splitlines(), solution.splitlines()
        header = stub_lines[:stub[0].body[0].lineno - 1]  # the def line(s)
        hints = [line for line in stub_lines[len(header):] if line.strip().startswith("#")]
        body = solution_lines[solved[0].body[0].lineno - 1:]
        indent = re.match(r"\s*", body[0]).group()
        parts.append("\n".join([*header, *hints, f"{indent}### BEGIN SOLUTION", *body, f"{indent}### END SOLUTION"]))
    else:
        parts.append("\n".join([exercise.stub, "### BEGIN SOLUTION", solution, "### END SOLUTION"]))
    return "\n\n".join(parts)


def grade_metadata(grade_id: str, *, solution: bool, points: int = 0) -> dict:
    """nbgrader's cell metadata (schema 3) for a solution cell or a locked, autograded test cell."""
    metadata = {"grade_id": grade_id, "schema_version": 3, "solution": solution, "grade": not solution,
                "locked": not solution, "task": False}
    if not solution:
        metadata["points"] = points
    return metadata


def assignment_id(lesson: Path) -> str:
    return f"lesson{lesson.name[:2]}"


def source_assignment(lesson: Path) -> nbformat.NotebookNode:
    """The nbgrader source notebook for one lesson's exercises (solutions in place, test cells added)."""
    notebook = nbformat.read(lesson, as_version=4)
    cells = notebook.cells
    start = next((i for i, cell in enumerate(cells) if cell.cell_type == "markdown"
                  and EXERCISES_HEADING.search(cell.source)), None)
    if start is None:
        raise ValueError(f"{lesson.name} has no '## ... Exercises' heading")
    end = next((i for i in range(start + 1, len(cells)) if cells[i].cell_type == "markdown"
                and cells[i].source.startswith("## ") and not EXERCISES_HEADING.match(cells[i].source)), len(cells))
    title = next(cell for cell in cells if cell.cell_type == "markdown")
    imports = next(cell for cell in cells if cell.cell_type == "code")
    intro = nbformat.v4.new_markdown_cell(
        title.source.strip().partition("\n")[0] + " — graded exercises\n\n"
        "Run every cell from the top. Write your answer in each exercise cell (replace "
        "`raise NotImplementedError()`); the locked cell under it checks your answer with the lesson's checker "
        "(one point each) and prints the same hints as the lesson.")
    heading = nbformat.v4.new_markdown_cell(cells[start].source[EXERCISES_HEADING.search(cells[start].source).start():])
    out = [intro, nbformat.v4.new_code_cell(imports.source), heading]
    number = 0
    for index in range(start + 1, end):
        cell = cells[index]
        if cell.cell_type == "markdown" and SOLUTION_SUMMARY.search(cell.source):
            continue  # the solutions are in the solution cells, hidden from students by nbgrader
        exercise = parse_exercise(cell.source) if cell.cell_type == "code" else None
        if exercise is None:
            out.append(nbformat.v4.new_code_cell(cell.source) if cell.cell_type == "code"
                       else nbformat.v4.new_markdown_cell(cell.source))
            continue
        number += 1
        solution = find_solution(cells, index, exercise.names)
        answer = nbformat.v4.new_code_cell(solution_cell_source(exercise, solution))
        answer.metadata["nbgrader"] = grade_metadata(f"exercise_{number}", solution=True)
        test = nbformat.v4.new_code_cell(f'assert {exercise.check}, "not yet: the message above says what to look at"')
        test.metadata["nbgrader"] = grade_metadata(f"exercise_{number}_check", solution=False, points=1)
        out.extend([answer, test])
    if not number:
        raise ValueError(f"{lesson.name}: no exercise cell (a code cell ending in 'passed = check_...(...)')")
    notebook.cells = out
    notebook.metadata.pop("widgets", None)
    return notebook


def build_course(out: Path, notebooks: Path = ROOT / "notebooks") -> list[str]:
    """Write the nbgrader course folder ``out`` (config, source assignments) and generate the student versions.

    Returns the assignment names. Raises ``RuntimeError`` with nbgrader's output if it fails.
    """
    out.mkdir(parents=True, exist_ok=True)
    (out / "nbgrader_config.py").write_text(CONFIG.format(root=str(out.resolve()),
                                                           db=str((out / "gradebook.db").resolve())))
    names = []
    for lesson in lesson_paths(notebooks):
        name = assignment_id(lesson)
        folder = out / "source" / name
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(source_assignment(lesson), folder / lesson.name)
        nbgrader(out, "generate_assignment", name, "--force")
        names.append(name)
    return names


def nbgrader(course: Path, *args: str) -> str:
    """Run the nbgrader command line in the course folder; its output, or ``RuntimeError`` with it."""
    # nbgrader runs `alembic` by name: the environment's scripts folder must be on PATH.
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    done = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course, capture_output=True, text=True,
                          env={**os.environ, "PATH": path})
    if done.returncode:
        raise RuntimeError(f"nbgrader {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout + done.stderr


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", nargs="?", type=Path, default=ROOT / "build" / "nbgrader", help="the course folder")
    args = parser.parse_args(argv)
    names = build_course(args.out)
    print(f"{len(names)} assignments in {args.out}: source/ (with solutions), release/ (for students)")


if __name__ == "__main__":
    main()
