"""classroom.grading: every lesson's exercises become an nbgrader assignment that nbgrader autogrades offline,
0 points as released and full points with the lesson's own solutions typed in."""

import re
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from classroom.build import lesson_paths
from classroom.grading import build_course, nbgrader, parse_exercise, solution_cell_source

ROOT = Path(__file__).resolve().parents[1]
LESSONS = lesson_paths(ROOT / "notebooks")
REGION = re.compile(r"^([ \t]*)### BEGIN SOLUTION\n(.*?)^[ \t]*### END SOLUTION", re.MULTILINE | re.DOTALL)
STUB = re.compile(r"^([ \t]*)# YOUR CODE HERE\n[ \t]*raise NotImplementedError\(\)", re.MULTILINE)


def exercise_cells(notebook):
    return [cell for cell in notebook.cells if cell.metadata.get("nbgrader", {}).get("solution")]


def fill_in(released: nbformat.NotebookNode, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The released notebook as a student who knows the answers leaves it: each stub replaced by the solution."""
    solved = nbformat.from_dict(released)
    for cell, original in zip(exercise_cells(solved), exercise_cells(source), strict=True):
        solution = REGION.search(original.source).group(2)
        cell.source, count = STUB.subn(lambda match: solution.rstrip("\n"), cell.source)
        assert count == 1, cell.source
    return solved


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The course folder with two submissions per lesson: the released notebook untouched, and solved."""
    out = tmp_path_factory.mktemp("nbgrader")
    names = build_course(out)
    for lesson, name in zip(LESSONS, names, strict=True):
        released = nbformat.read(out / "release" / name / lesson.name, as_version=4)
        source = nbformat.read(out / "source" / name / lesson.name, as_version=4)
        for student, notebook in (("given", released), ("solved", fill_in(released, source))):
            folder = out / "submitted" / student / name
            folder.mkdir(parents=True)
            nbformat.write(notebook, folder / lesson.name)
    nbgrader(out, "autograde", "lesson*", "--force")
    return out


def test_every_lesson_is_an_assignment_whose_exercises_are_the_lessons(course):
    assert len(LESSONS) >= 9
    for lesson in LESSONS:
        name = f"lesson{lesson.name[:2]}"
        released = nbformat.read(course / "release" / name / lesson.name, as_version=4)
        original = nbformat.read(lesson, as_version=4)
        checks = [parse_exercise(c.source).check for c in original.cells
                  if c.cell_type == "code" and parse_exercise(c.source)]
        tests = [c for c in released.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert len(tests) == len(checks) >= 1
        assert all(c.source.startswith(f"assert {check},") for c, check in zip(tests, checks, strict=True))
        assert all(c.metadata["nbgrader"]["points"] == 1 and c.metadata["nbgrader"]["locked"] for c in tests)
        for cell in exercise_cells(released):  # the student sees the stub, never the solution
            assert "raise NotImplementedError()" in cell.source and "BEGIN SOLUTION" not in cell.source
        text = "\n".join(cell.source for cell in released.cells)
        assert "<summary>" not in text or "Solution" not in text, f"{name}: a solution cell was left in"


@pytest.mark.parametrize("lesson", LESSONS, ids=lambda path: path.name[:2])
def test_autograding_gives_0_as_released_and_full_points_when_solved(course, lesson):
    name = f"lesson{lesson.name[:2]}"
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        given = gradebook.find_submission(name, "given")
        solved = gradebook.find_submission(name, "solved")
        exercises = len(exercise_cells(nbformat.read(course / "source" / name / lesson.name, as_version=4)))
        assert exercises >= 1
        assert (given.max_score, given.score) == (exercises, 0)
        assert (solved.max_score, solved.score) == (exercises, exercises)
    graded = nbformat.read(course / "autograded" / "given" / name / lesson.name, as_version=4)
    errors = {index: [o["ename"] for o in cell.outputs if o["output_type"] == "error"]
              for index, cell in enumerate(graded.cells) if cell.cell_type == "code"}
    # as released: every check fails its assert, a value stub stops on NotImplementedError, nothing else fails
    for index, cell in enumerate(graded.cells):
        role = cell.metadata.get("nbgrader", {})
        if role.get("grade"):
            assert errors[index] == ["AssertionError"], (index, errors[index])
        elif role.get("solution"):
            assert errors[index] in ([], ["NotImplementedError"]), (index, errors[index])
        elif cell.cell_type == "code":
            assert errors[index] == [], (index, errors[index])


def test_a_function_stub_keeps_its_hints_and_takes_the_solution_in_its_body():
    exercise = parse_exercise("from m import check_f\n\ndef f(x):\n    # add one\n    return None\n\n\npassed = check_f(f)")
    assert exercise.given == "from m import check_f" and exercise.names == ("f",) and exercise.check == "check_f(f)"
    assert solution_cell_source(exercise, "def f(x):\n    y = x + 1\n    return y") == (
        "from m import check_f\n\ndef f(x):\n    # add one\n    ### BEGIN SOLUTION\n    y = x + 1\n    return y\n"
        "    ### END SOLUTION")


def test_a_value_stub_stays_and_the_solution_follows_it():
    exercise = parse_exercise("answer = None  # a number\npassed = check_answer(answer, base=64)")
    assert exercise.check == "check_answer(answer, base=64)"
    assert solution_cell_source(exercise, "answer = 4 * 64") == (
        "answer = None  # a number\n### BEGIN SOLUTION\nanswer = 4 * 64\n### END SOLUTION")


def test_a_cell_that_is_not_an_exercise_is_not_parsed():
    assert parse_exercise("passed = True") is None
    assert parse_exercise("print(check_x(1))") is None


def test_an_exercise_whose_solution_is_prose_only_is_refused_naming_it(tmp_path):
    lesson = tmp_path / "09_example.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Lesson 09"), nbformat.v4.new_code_cell("import math"),
        nbformat.v4.new_markdown_cell("## Exercises"),
        nbformat.v4.new_code_cell("answer = None\npassed = check_answer(answer)"),
        nbformat.v4.new_markdown_cell("<details>\n<summary>Solution</summary>\n\nIt is 4.\n</details>")])
    nbformat.write(notebook, lesson)
    with pytest.raises(ValueError, match="defines answer"):
        build_course(tmp_path / "course", notebooks=tmp_path)
