"""One-click links to every lesson: an nbgitpuller link for a JupyterHub, a Binder link and a Colab link.

    python -m classroom.links --hub https://hub.example.edu
    python -m classroom.links --hub https://hub.example.edu --repo https://github.com/you/your_fork --branch fall

prints a Markdown table (paste it into the course page or the LMS). A student who clicks a hub link logs in
to the hub; nbgitpuller, installed in the course environment, clones the repository into their home folder
the first time and pulls it every later time, keeping their own edits, then opens the lesson in JupyterLab.
A Binder link builds (or reuses) the image from ``binder/`` on mybinder.org and opens the same lesson there:
nothing is kept after the session ends. A Colab link opens the lesson from GitHub in Google Colab, whose
first code cell installs the course from the same repository and branch (:func:`colab_setup`).

``REPO`` and ``BRANCH`` below are the one place that names the course's repository. The README's badges and
lesson table, each lesson's Colab link and its Colab set-up are written from them:

    python -m classroom.links --update            # after changing REPO or BRANCH (or with --repo/--branch)

and ``tests/test_classroom_links.py`` fails while any of them is out of date.
"""

import argparse
import re
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import nbformat

from classroom.build import lesson_paths, lesson_summary

ROOT = Path(__file__).resolve().parents[1]
REPO = "https://github.com/unet-lessons/unet_lessons"
BRANCH = "main"


def repo_folder(repo: str) -> str:
    """The folder nbgitpuller clones ``repo`` into, in the student's home: the repository's name."""
    name = repo.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git")
    if not name:
        raise ValueError(f"repo {repo!r} has no repository name at its end, e.g. https://github.com/owner/name")
    return name


def check_hub(hub: str) -> str:
    """``hub`` without a trailing slash; ``ValueError`` unless it is an http(s) address with a host."""
    parts = urlsplit(hub)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ValueError(f"hub must be the hub's address, e.g. https://hub.example.edu (got {hub!r})")
    return hub.rstrip("/")


def hub_link(hub: str, notebook: str, repo: str = REPO, branch: str = BRANCH) -> str:
    """The nbgitpuller link that pulls ``repo`` at ``branch`` and opens ``notebooks/<notebook>`` in JupyterLab."""
    path = f"lab/tree/{repo_folder(repo)}/notebooks/{notebook}"
    query = urlencode({"repo": repo, "branch": branch, "urlpath": path}, quote_via=quote)
    return f"{check_hub(hub)}/hub/user-redirect/git-pull?{query}"


def github_owner_name(repo: str) -> tuple[str, str] | None:
    """``(owner, name)`` of a repository on GitHub; ``None`` for a repository elsewhere."""
    parts = urlsplit(repo)
    owner_name = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.netloc != "github.com" or len(owner_name) != 2:
        return None
    return owner_name[0], owner_name[1]


def binder_link(notebook: str, repo: str = REPO, branch: str = BRANCH) -> str | None:
    """The mybinder.org link that opens ``notebooks/<notebook>``; ``None`` for a repository not on GitHub."""
    if (owner_name := github_owner_name(repo)) is None:
        return None
    owner, name = owner_name
    return f"https://mybinder.org/v2/gh/{owner}/{name}/{quote(branch, safe='')}?urlpath=" + quote(
        f"lab/tree/notebooks/{notebook}", safe="")


def colab_link(notebook: str, repo: str = REPO, branch: str = BRANCH) -> str | None:
    """The Google Colab link that opens ``notebooks/<notebook>`` from GitHub; ``None`` for a repository elsewhere."""
    if (owner_name := github_owner_name(repo)) is None:
        return None
    owner, name = owner_name
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{quote(branch, safe='')}/notebooks/{notebook}"


def install_requirement(repo: str = REPO, branch: str = BRANCH) -> str:
    """What pip installs on Colab: the package from ``repo`` at ``branch`` (its course model and assets included)."""
    return f"unet_lessons @ git+{repo.removesuffix('.git')}@{branch}"


def colab_setup(repo: str = REPO, branch: str = BRANCH) -> str:
    """The lines that open every lesson's first code cell: on Colab, pip installs the course (pip keeps Colab's
    torch, ipywidgets and plotly: they satisfy pyproject.toml's lowest versions); anywhere else they do nothing
    and print nothing, so the cell's stored output is the same everywhere."""
    return COLAB_SETUP.format(requirement=install_requirement(repo, branch))


COLAB_SETUP = """\
import sys

if "google.colab" in sys.modules:  # on Google Colab only: install the course (README, "On Google Colab")
    import subprocess
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet",
                    "{requirement}"], check=True)

"""


def link_table(hub: str, repo: str = REPO, branch: str = BRANCH, notebooks: Path = ROOT / "notebooks") -> str:
    """A Markdown table: one row per lesson with its title, its hub link, its Binder link and its Colab link."""
    rows = ["| lesson | on the hub | on Binder | on Colab |", "|---|---|---|---|"]
    for path in lesson_paths(notebooks):
        title, _ = lesson_summary(nbformat.read(path, as_version=4))
        online = [binder_link(path.name, repo, branch), colab_link(path.name, repo, branch)]
        rows.append(f"| {title} | [open]({hub_link(hub, path.name, repo, branch)}) | "
                    + " | ".join(f"[open]({link})" if link else "(not on GitHub)" for link in online) + " |")
    return "\n".join(rows)


# What --update rewrites: a Binder or Colab link to a lesson, and the requirement in a lesson's Colab set-up.
ONLINE_LINK = re.compile(r"https://(?:mybinder\.org/v2/gh|colab\.research\.google\.com/github)/[^)\s]*?"
                         r"(?:notebooks/|notebooks%2F)(?P<notebook>\d\d_\w+\.ipynb)")
REQUIREMENT = re.compile(r'"unet_lessons @ git\+[^"]+"')
COLAB_LINE = "[Open this lesson in Google Colab]({link}): its first code cell installs the course there."


def _online_link(match: re.Match, repo: str, branch: str) -> str:
    make = binder_link if "mybinder.org" in match.group(0) else colab_link
    return make(match.group("notebook"), repo, branch)


def update_course_links(repo: str = REPO, branch: str = BRANCH, root: Path = ROOT) -> list[Path]:
    """Rewrite the Binder and Colab links of the README and of the lessons' text, each lesson's Colab link (the last
    line of its title cell) and its Colab set-up (the start of its first code cell) for ``repo`` at ``branch``.
    Returns the files changed; sources only, so the stored outputs stay as they are."""
    if github_owner_name(repo) is None:  # checked before any file is written
        raise ValueError(f"repo {repo!r} is not on GitHub: Binder and Colab open lessons from GitHub only")
    changed = []
    readme = root / "README.md"
    text = readme.read_text()
    new = ONLINE_LINK.sub(lambda match: _online_link(match, repo, branch), text)
    if new != text:
        readme.write_text(new)
        changed.append(readme)
    for path in lesson_paths(root / "notebooks"):
        notebook = nbformat.read(path, as_version=4)
        title = notebook.cells[0]
        setup = next(cell for cell in notebook.cells if cell.cell_type == "code")
        before = [cell.source for cell in notebook.cells]
        for cell in notebook.cells:
            if cell.cell_type == "markdown":  # a lesson may point to Binder or Colab in its text too
                cell.source = ONLINE_LINK.sub(lambda match: _online_link(match, repo, branch), cell.source)
        colab = COLAB_LINE.format(link=colab_link(path.name, repo, branch))
        lines = title.source.rstrip("\n").split("\n")
        title.source = "\n".join(lines[:-1] + [colab] if lines[-1].startswith(COLAB_LINE[:30]) else lines + ["", colab])
        if not setup.source.startswith(COLAB_SETUP[:COLAB_SETUP.index("{")]):
            setup.source = colab_setup(repo, branch) + setup.source
        setup.source = REQUIREMENT.sub(f'"{install_requirement(repo, branch)}"', setup.source)
        if [cell.source for cell in notebook.cells] != before:
            nbformat.write(notebook, path)
            changed.append(path)
    return changed


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    action = parser.add_mutually_exclusive_group(required=True)
    action.add_argument("--hub", help="print the table of links for this hub, e.g. https://hub.example.edu")
    action.add_argument("--update", action="store_true",
                        help="rewrite the README's and the lessons' Binder and Colab links and Colab set-up")
    parser.add_argument("--repo", default=REPO, help=f"the repository students pull (default {REPO})")
    parser.add_argument("--branch", default=BRANCH, help=f"its branch (default {BRANCH})")
    args = parser.parse_args(argv)
    try:
        if args.update:
            for path in update_course_links(args.repo, args.branch):
                print(f"updated {path.relative_to(ROOT)}")
        else:
            print(link_table(args.hub, args.repo, args.branch))
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
