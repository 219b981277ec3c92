"""classroom/build.py: what the index reads from each lesson, and links between lessons."""

from pathlib import Path

import nbformat
import pytest

from classroom.build import LESSON_LINK, lesson_paths, lesson_summary

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("path", lesson_paths(ROOT / "notebooks"), ids=lambda p: p.name)
def test_every_lesson_has_a_title_and_a_one_sentence_description(path):
    title, description = lesson_summary(nbformat.read(path, as_version=4))
    assert title and "\n" not in title and not title.startswith("#")
    assert description.endswith((".", "!", "?")) and "\n" not in description
    assert len(description) < 400


def test_a_notebook_without_a_title_is_refused():
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("Some text")])
    with pytest.raises(ValueError, match="'# ' title"):
        lesson_summary(notebook)


def test_lesson_links_are_rewritten_to_the_built_files():
    html = '<a href="02_time_embedding.ipynb">next</a> <a href="04_assembly.ipynb#skips">skips</a>' \
           ' <a href="https://example.org/x.ipynb">other</a>'
    rewritten = LESSON_LINK.sub(lambda m: f'href="{m[1]}.html{m[2] or ""}"', html)
    assert rewritten == ('<a href="02_time_embedding.html">next</a> <a href="04_assembly.html#skips">skips</a>'
                         ' <a href="https://example.org/x.ipynb">other</a>')


def test_lessons_are_listed_in_order():
    names = [p.name for p in lesson_paths(ROOT / "notebooks")]
    assert names == sorted(names) and names[0].startswith("00_")
