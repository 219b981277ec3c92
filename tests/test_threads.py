"""The lessons' thread setting: one core left free, an explicit OMP_NUM_THREADS respected, every lesson calls it."""

import ast
from pathlib import Path

import nbformat
import pytest
import torch

from unet_lessons import threads

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.fixture
def torch_threads(monkeypatch):
    before = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "_TORCH_DEFAULT", 4)  # as on a 4-core laptop
    yield
    torch.set_num_threads(before)


def test_one_core_is_left_free(torch_threads):
    assert threads.use_course_threads() == 3
    assert torch.get_num_threads() == 3
    assert threads.use_course_threads() == 3  # running the set-up cell again does not take one more


def test_every_core_when_asked_and_never_fewer_than_one(torch_threads, monkeypatch):
    assert threads.use_course_threads(leave_free=0) == 4
    assert torch.get_num_threads() == 4
    monkeypatch.setattr(threads, "_TORCH_DEFAULT", 1)
    assert threads.use_course_threads() == 1


def test_an_explicit_omp_num_threads_is_kept(torch_threads, monkeypatch):
    torch.set_num_threads(2)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert threads.use_course_threads() == 2
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("bad", [-1, 1.5, True, "1"])
def test_a_bad_leave_free_is_named(bad):
    with pytest.raises(ValueError, match="leave_free"):
        threads.use_course_threads(leave_free=bad)


@pytest.mark.parametrize("path", LESSONS, ids=[path.name for path in LESSONS])
def test_every_lesson_sets_its_threads_in_its_setup_cell(path):
    setup = next(cell for cell in nbformat.read(path, as_version=4).cells if cell.cell_type == "code")
    calls = [node for node in ast.walk(ast.parse(setup.source))
             if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "use_course_threads"]
    assert len(calls) == 1, f"{path.name}: its set-up cell should call use_course_threads() once"
    arguments = {keyword.arg: ast.literal_eval(keyword.value) for keyword in calls[0].keywords}
    # Lesson 09, mostly a training run the learner watches, keeps every core (README, RESULTS.md "Threads").
    assert arguments == ({"leave_free": 0} if path.name.startswith("09_") else {})
