"""Source code a lesson shows is the package's source as it is now.

Lessons show the package's code with ``Code(inspect.getsource(...))``. A change to that code leaves the stored
output behind until the notebook is re-executed, and nbval only finds out at the end of a 30-minute CI run
(lesson 04 went on showing ``UNet._check_inputs`` without its dtype checks). This test re-evaluates each such
cell, with the notebook's own imports, and compares it with the stored text.
"""

import ast
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def import_statements(notebook) -> str:
    """The top-level import statements of every code cell (magics and shell lines left out)."""
    found = []
    for cell in notebook.cells:
        if cell.cell_type != "code":
            continue
        source = "\n".join(line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!")))
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        found += [ast.unparse(node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    return "\n".join(found)


def source_cells(notebook) -> list[tuple[int, str, str]]:
    """(index, cell source, stored text) for every cell that shows package source: it calls inspect.getsource
    and ends with a Code(...) expression."""
    cells = []
    for index, cell in enumerate(notebook.cells):
        if cell.cell_type != "code" or "inspect.getsource(" not in cell.source:
            continue
        last = ast.parse(cell.source).body[-1]
        if isinstance(last, ast.Expr) and isinstance(last.value, ast.Call) and getattr(last.value.func, "id", "") == "Code":
            stored = [output["data"]["text/plain"] for output in cell.outputs if output.get("output_type") == "execute_result"]
            cells.append((index, cell.source, stored[0] if stored else ""))
    return cells


def test_the_lessons_show_source():
    assert sum(len(source_cells(nbformat.read(ROOT / "notebooks" / name, as_version=4))) for name in LESSONS) >= 32


@pytest.mark.parametrize("name", LESSONS)
def test_shown_source_is_current(name):
    notebook = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    cells = source_cells(notebook)
    if not cells:
        pytest.skip(f"{name} shows no package source")
    namespace: dict = {}
    exec(import_statements(notebook), namespace)
    stale = []
    for index, source, stored in cells:
        *statements, last = ast.parse(source).body
        exec(compile(ast.Module(statements, type_ignores=[]), name, "exec"), namespace)
        shown = eval(compile(ast.Expression(last.value), name, "eval"), namespace)
        if shown.data.rstrip() != stored.rstrip():
            stale.append(index)
    assert not stale, (f"{name}: cells {stale} show source that has changed since the notebook was run; "
                       f"re-execute it: python -m tools.run_notebooks notebooks/{name}")
