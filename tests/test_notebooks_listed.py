"""Every lesson is listed where a learner looks for it (the README and the notebooks folder's README), no
stored output is a bare object repr, and no cell shows the same figure twice."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("readme", ["README.md", "notebooks/README.md"])
def test_every_lesson_is_in_the_table(readme):
    text = (ROOT / readme).read_text()
    assert len(LESSONS) >= 9
    missing = [name for name in LESSONS if f"| `{name}` |" not in text]
    assert not missing, f"{readme} does not list {missing}"


@pytest.mark.parametrize("name", LESSONS)
def test_no_stored_output_is_a_bare_object_repr(name):
    # e.g. "<torch._C.Generator at 0x7f...>" from a cell ending in torch.manual_seed(0): noise to a learner
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    reprs = [(index, output["data"]["text/plain"]) for index, cell in enumerate(notebook.cells)
             if cell.cell_type == "code" for output in cell.outputs
             if output.get("output_type") == "execute_result" and " at 0x" in output["data"].get("text/plain", "")]
    assert not reprs, f"{name}: cells print object reprs: {reprs}"


@pytest.mark.parametrize("name", LESSONS)
def test_no_cell_shows_a_figure_twice(name):
    # a cell ending in a call that returns its matplotlib figure shows it twice: once from the inline backend,
    # once as the cell's result
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    twice = []
    for index, cell in enumerate(notebook.cells):
        images = [output["data"][kind] for output in cell.get("outputs", []) for kind in ("image/png", "image/svg+xml")
                  if kind in output.get("data", {})]
        if len(images) != len(set(images)):
            twice.append(index)
    assert not twice, f"{name}: cells show the same image twice: {twice}"
