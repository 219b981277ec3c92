"""classroom.links: every link decodes to the right repository, branch and lesson, and nbgitpuller's pull keeps
what a student changed."""

import shutil
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
from nbgitpuller.pull import GitPuller

from classroom.build import lesson_paths
from classroom.links import binder_link, hub_link, link_table, main

ROOT = Path(__file__).resolve().parents[1]
LESSONS = [path.name for path in lesson_paths(ROOT / "notebooks")]
FORK = "https://github.com/someone/unet_lessons_fork.git"


@pytest.mark.parametrize("notebook", LESSONS)
@pytest.mark.parametrize("repo, branch", [("https://github.com/unet-lessons/unet_lessons", "main"), (FORK, "fall-2027")])
def test_a_hub_link_decodes_to_the_repo_the_branch_and_the_lesson(notebook, repo, branch):
    link = urlsplit(hub_link("https://hub.example.edu/", notebook, repo, branch))
    assert (link.scheme, link.netloc, link.path) == ("https", "hub.example.edu", "/hub/user-redirect/git-pull")
    query = {key: values for key, values in parse_qs(link.query, strict_parsing=True).items()}
    folder = repo.rsplit("/", 1)[-1].removesuffix(".git")
    assert query == {"repo": [repo], "branch": [branch], "urlpath": [f"lab/tree/{folder}/notebooks/{notebook}"]}
    assert (ROOT / "notebooks" / notebook).exists()


@pytest.mark.parametrize("notebook", LESSONS)
def test_a_binder_link_opens_the_lesson_of_that_branch(notebook):
    link = urlsplit(binder_link(notebook, FORK, "fall-2027"))
    assert (link.netloc, link.path) == ("mybinder.org", "/v2/gh/someone/unet_lessons_fork/fall-2027")
    assert parse_qs(link.query) == {"urlpath": [f"lab/tree/notebooks/{notebook}"]}


def test_the_table_has_one_row_per_lesson_and_no_binder_link_off_github():
    table = link_table("https://hub.example.edu", repo="https://git.example.edu/course/unet_lessons.git").splitlines()
    assert len(table) == 2 + len(LESSONS)
    assert all("(not on GitHub)" in row and "/hub/user-redirect/git-pull?" in row for row in table[2:])
    assert [row for row in table[2:] if LESSONS[0] in row]


@pytest.mark.parametrize("hub", ["hub.example.edu", "ftp://hub.example.edu", "https://", "https://hub.example.edu/?x=1"])
def test_a_hub_that_is_not_an_address_is_refused_naming_the_option(hub, capsys):
    with pytest.raises(SystemExit):
        main(["--hub", hub])
    assert "hub must be the hub's address" in capsys.readouterr().err


def git(*args: str, cwd: Path) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def pull(upstream: Path, student: Path) -> None:
    for _ in GitPuller(str(upstream), str(student), branch="main").pull():
        pass


def edit_first_markdown(path: Path, text: str) -> None:
    notebook = nbformat.read(path, as_version=4)
    cell = next(cell for cell in notebook.cells if cell.cell_type == "markdown")
    cell.source += text
    nbformat.write(notebook, path)


def test_nbgitpuller_keeps_a_students_edit_and_brings_the_lecturers(tmp_path):
    upstream = tmp_path / "upstream"
    (upstream / "notebooks").mkdir(parents=True)
    for name in LESSONS[:2]:
        shutil.copy(ROOT / "notebooks" / name, upstream / "notebooks" / name)
    git("init", "-q", "-b", "main", cwd=upstream)
    git("-c", "user.name=Lecturer", "-c", "user.email=l@example.edu", "add", ".", cwd=upstream)
    git("-c", "user.name=Lecturer", "-c", "user.email=l@example.edu", "commit", "-q", "-m", "lessons", cwd=upstream)
    student = tmp_path / "home" / "unet_lessons"
    pull(upstream, student)  # the first click clones
    first, second = (student / "notebooks" / name for name in LESSONS[:2])
    assert first.exists() and second.exists()

    edit_first_markdown(first, "\n\nMy note: the skips are a stack.")  # the student edits lesson 00
    second.unlink()  # and deletes lesson 01 by mistake
    # The lecturer fixes a cell of lesson 00 (another cell) and adds a file.
    notebook = nbformat.read(upstream / "notebooks" / LESSONS[0], as_version=4)
    code = next(cell for cell in notebook.cells if cell.cell_type == "code")
    code.source = "# corrected by the lecturer\n" + code.source
    nbformat.write(notebook, upstream / "notebooks" / LESSONS[0])
    (upstream / "notebooks" / "errata.md").write_text("Lesson 00: one cell corrected.\n")
    git("add", ".", cwd=upstream)
    git("-c", "user.name=Lecturer", "-c", "user.email=l@example.edu", "commit", "-q", "-m", "fix", cwd=upstream)

    pull(upstream, student)  # the next click pulls
    merged = nbformat.read(first, as_version=4)  # still a valid notebook
    assert "My note: the skips are a stack." in next(c for c in merged.cells if c.cell_type == "markdown").source
    assert next(c for c in merged.cells if c.cell_type == "code").source.startswith("# corrected by the lecturer")
    assert second.exists()  # a deleted file comes back
    assert (student / "notebooks" / "errata.md").exists()


def test_when_both_change_the_same_line_the_students_version_stays(tmp_path):
    upstream = tmp_path / "upstream"
    upstream.mkdir()
    (upstream / "answers.py").write_text("answer = None\n")
    git("init", "-q", "-b", "main", cwd=upstream)
    git("add", ".", cwd=upstream)
    git("-c", "user.name=L", "-c", "user.email=l@example.edu", "commit", "-q", "-m", "one", cwd=upstream)
    student = tmp_path / "student"
    pull(upstream, student)
    (student / "answers.py").write_text("answer = 256\n")
    (upstream / "answers.py").write_text("answer = None  # your number here\n")
    git("-c", "user.name=L", "-c", "user.email=l@example.edu", "commit", "-q", "-am", "two", cwd=upstream)
    pull(upstream, student)
    assert (student / "answers.py").read_text() == "answer = 256\n"
