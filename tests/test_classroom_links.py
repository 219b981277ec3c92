"""classroom.links: every link decodes to the right repository, branch and lesson, the README and the lessons
follow the one repository setting, the Colab set-up installs on Colab only, and nbgitpuller's pull keeps what a
student changed."""

import shutil
import subprocess
import sys
import types
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import nbformat
import pytest
from nbgitpuller.pull import GitPuller

from classroom.build import lesson_paths
from classroom.links import (BRANCH, REPO, binder_link, colab_link, colab_setup, hub_link, install_requirement,
                             link_table, main, update_course_links)

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


@pytest.mark.parametrize("notebook", LESSONS)
def test_a_colab_link_opens_the_lesson_of_that_branch_from_github(notebook):
    link = urlsplit(colab_link(notebook, FORK, "fall-2027"))
    assert (link.netloc, link.path) == ("colab.research.google.com",
                                        f"/github/someone/unet_lessons_fork/blob/fall-2027/notebooks/{notebook}")


def test_the_table_has_one_row_per_lesson_and_no_binder_or_colab_link_off_github():
    table = link_table("https://hub.example.edu", repo="https://git.example.edu/course/unet_lessons.git").splitlines()
    assert len(table) == 2 + len(LESSONS)
    assert all(row.count("(not on GitHub)") == 2 and "/hub/user-redirect/git-pull?" in row for row in table[2:])
    assert [row for row in table[2:] if LESSONS[0] in row]
    on_github = link_table("https://hub.example.edu").splitlines()
    assert all("colab.research.google.com/github/unet-lessons/unet_lessons/blob/main/notebooks/" in row
               for row in on_github[2:])


def course_copy(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "README.md", tmp_path / "README.md")
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    return tmp_path


def test_the_readme_and_every_lesson_follow_the_repository_setting(tmp_path):
    changed = update_course_links(REPO, BRANCH, course_copy(tmp_path))
    assert not changed, (f"{[path.name for path in changed]} do not follow classroom/links.py's REPO and BRANCH: "
                         "run python -m classroom.links --update")
    readme = (ROOT / "README.md").read_text()
    for notebook in LESSONS:
        assert colab_link(notebook) in readme
        lesson = nbformat.read(ROOT / "notebooks" / notebook, as_version=4)
        assert colab_link(notebook) in lesson.cells[0].source  # the title cell
        assert next(c for c in lesson.cells if c.cell_type == "code").source.startswith(colab_setup())
    assert binder_link(LESSONS[0]) in readme


def test_another_repository_is_written_everywhere_and_the_outputs_stay(tmp_path):
    course = course_copy(tmp_path)
    changed = update_course_links(FORK, "fall-2027", course)
    assert sorted(path.name for path in changed) == sorted(["README.md", *LESSONS])
    for path in changed:
        assert "unet-lessons/unet_lessons" not in path.read_text()
    readme = (course / "README.md").read_text()
    assert colab_link(LESSONS[3], FORK, "fall-2027") in readme and binder_link(LESSONS[0], FORK, "fall-2027") in readme
    for notebook in LESSONS:
        before, after = (nbformat.read(folder / "notebooks" / notebook, as_version=4) for folder in (ROOT, course))
        assert [cell.get("outputs") for cell in before.cells] == [cell.get("outputs") for cell in after.cells]
        setup = next(c for c in after.cells if c.cell_type == "code").source
        assert setup.startswith(colab_setup(FORK, "fall-2027")) and setup.count("pip") == 1
    assert update_course_links(FORK, "fall-2027", course) == []  # a second run changes nothing


def test_a_repository_off_github_is_refused_before_any_file_changes(tmp_path):
    course = course_copy(tmp_path)
    readme = (course / "README.md").read_text()
    with pytest.raises(ValueError, match="is not on GitHub"):
        update_course_links("https://git.example.edu/course/unet_lessons.git", "main", course)
    assert (course / "README.md").read_text() == readme


def run_colab_setup(monkeypatch, on_colab: bool) -> list:
    """Run the first lines of a lesson's first code cell; return the commands it ran."""
    ran = []
    monkeypatch.setattr(subprocess, "run", lambda command, **options: ran.append((command, options)))
    if on_colab:
        monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    else:
        monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    exec(colab_setup(), {})
    return ran


def test_the_colab_setup_installs_the_course_on_colab_only(monkeypatch):
    assert run_colab_setup(monkeypatch, on_colab=False) == []
    assert run_colab_setup(monkeypatch, on_colab=True) == [
        ([sys.executable, "-m", "pip", "install", "--quiet", install_requirement()], {"check": True})]
    assert install_requirement() == "unet_lessons @ git+https://github.com/unet-lessons/unet_lessons@main"


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
