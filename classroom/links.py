"""One-click links to every lesson: an nbgitpuller link for a JupyterHub and a Binder link.

    python -m classroom.links --hub https://hub.example.edu
    python -m classroom.links --hub https://hub.example.edu --repo https://github.com/you/your_fork --branch fall

prints a Markdown table (paste it into the course page or the LMS). A student who clicks a hub link logs in
to the hub; nbgitpuller, installed in the course environment, clones the repository into their home folder
the first time and pulls it every later time, keeping their own edits, then opens the lesson in JupyterLab.
A Binder link builds (or reuses) the image from ``binder/`` on mybinder.org and opens the same lesson there:
nothing is kept after the session ends.
"""

import argparse
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


def binder_link(notebook: str, repo: str = REPO, branch: str = BRANCH) -> str | None:
    """The mybinder.org link that opens ``notebooks/<notebook>``; ``None`` for a repository not on GitHub."""
    parts = urlsplit(repo)
    owner_name = parts.path.strip("/").removesuffix(".git").split("/")
    if parts.netloc != "github.com" or len(owner_name) != 2:
        return None
    owner, name = owner_name
    return f"https://mybinder.org/v2/gh/{owner}/{name}/{quote(branch, safe='')}?urlpath=" + quote(
        f"lab/tree/notebooks/{notebook}", safe="")


def link_table(hub: str, repo: str = REPO, branch: str = BRANCH, notebooks: Path = ROOT / "notebooks") -> str:
    """A Markdown table: one row per lesson with its title, its hub link and its Binder link."""
    rows = ["| lesson | on the hub | on Binder |", "|---|---|---|"]
    for path in lesson_paths(notebooks):
        title, _ = lesson_summary(nbformat.read(path, as_version=4))
        binder = binder_link(path.name, repo, branch)
        rows.append(f"| {title} | [open]({hub_link(hub, path.name, repo, branch)}) | "
                    f"{f'[open]({binder})' if binder else '(not on GitHub)'} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hub", required=True, help="the hub's address, e.g. https://hub.example.edu")
    parser.add_argument("--repo", default=REPO, help=f"the repository students pull (default {REPO})")
    parser.add_argument("--branch", default=BRANCH, help=f"its branch (default {BRANCH})")
    args = parser.parse_args(argv)
    try:
        print(link_table(args.hub, args.repo, args.branch))
    except ValueError as error:
        parser.error(str(error))


if __name__ == "__main__":
    main()
