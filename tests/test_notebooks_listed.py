"""Every lesson is listed where a learner looks for it: the README's table and the notebooks folder's README."""

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSONS = sorted(path.name for path in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("readme", ["README.md", "notebooks/README.md"])
def test_every_lesson_is_in_the_table(readme):
    text = (ROOT / readme).read_text()
    assert len(LESSONS) >= 9
    missing = [name for name in LESSONS if f"| `{name}` |" not in text]
    assert not missing, f"{readme} does not list {missing}"
